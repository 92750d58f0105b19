/**
 * The services of one `shoal dev` run as a group: started together (they wait for the broker and for each
 * other's events on their own, so an order between them would only add up their start times), ready
 * together, stopped together. Each one's life, crashes and restarts included, is its `SupervisedService`.
 *
 * Startup has one deadline for the whole group. When it passes, every service not yet ready is named with
 * what it last said was missing (its not-ok checks, or why nothing answered), which is what a person needs
 * to see; the caller then stops everything.
 */
import type { Logger } from 'pino';
import { ShoalError, sleep } from '@shoal/core';
import { SupervisedService, formatDelay, type SupervisedServiceOptions } from './supervised-service.js';

export interface ServiceSupervisorOptions {
  services: readonly SupervisedServiceOptions[];
  logger: Logger;
}

export class ServiceSupervisor {
  readonly services: readonly SupervisedService[];
  private readonly logger: Logger;

  constructor(options: ServiceSupervisorOptions) {
    this.services = options.services.map((service) => new SupervisedService(service));
    this.logger = options.logger;
  }

  start(): void {
    for (const service of this.services) service.start();
  }

  /**
   * Resolves true once every service has been ready, false when `abort` fires first. Rejects when a service
   * cannot run at all, or when `timeoutMs` passes first (after logging what each late service waits for).
   */
  async whenReady(timeoutMs: number, abort: AbortSignal): Promise<boolean> {
    const done = new AbortController();
    const until = AbortSignal.any([done.signal, abort]);
    try {
      const outcome = await Promise.race([
        Promise.all(this.services.map((service) => service.whenFirstReady())).then(() => 'ready' as const),
        sleep(timeoutMs, until).then(() => (abort.aborted ? ('aborted' as const) : ('timeout' as const))),
      ]);
      if (outcome === 'ready') return true;
      if (outcome === 'aborted') return false;
    } catch (error) {
      throw new ShoalError('SHOAL_SERVICE_UNAVAILABLE', (error as Error).message, { cause: error });
    } finally {
      done.abort();
    }
    const late = this.services.filter((service) => service.pid === undefined);
    for (const service of late) this.logger.error(`${service.name} is not ready after ${formatDelay(timeoutMs)}: ${service.lastProblem}`);
    throw new ShoalError(
      'SHOAL_SERVICE_UNAVAILABLE',
      `${late.map((service) => service.name).join(', ')} not ready after ${formatDelay(timeoutMs)} (see above; --ready-timeout waits longer)`,
      { details: Object.fromEntries(late.map((service) => [service.name, service.lastProblem])) },
    );
  }

  /** Stops every service at once (SIGTERM, then SIGKILL after `graceMs`); resolves when none is left. */
  async stop(graceMs: number): Promise<void> {
    await Promise.all(this.services.map((service) => service.stop(graceMs)));
  }

  /** SIGKILL to every service now. */
  kill(): void {
    for (const service of this.services) service.kill();
  }
}
