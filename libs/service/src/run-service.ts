/**
 * The life of a service process: configuration from the environment (a bad variable ends the process before
 * anything starts, with every problem named), the host built and started, SIGINT/SIGTERM for a graceful stop
 * (a second signal ends it at once), and a non-zero exit when a part dies on its own, so the supervisor
 * (`shoal dev`, Docker) restarts it.
 *
 * Exit codes: 0 stopped on a signal (or its supervisor's IPC channel closed); 1 failed to start or a part
 * failed; 2 invalid configuration (a bad variable, or one the start finds wrong: a DATABASE_URL that leads to
 * no database of this service).
 */
import { isShoalError } from '@shoal/core';
import { startTracing } from '@shoal/telemetry';
import type { ConfigOf, ServiceConfigSpec, Setting } from './config.js';
import { ServiceHost, type ServiceHostOptions } from './service-host.js';

export interface RunServiceOptions {
  env?: Readonly<Record<string, string | undefined>>;
  host?: Omit<ServiceHostOptions, 'config'>;
}

export async function runService<S extends Record<string, Setting<unknown>>>(
  spec: ServiceConfigSpec<S>,
  build: (host: ServiceHost<ConfigOf<S>>) => void | Promise<void>,
  options: RunServiceOptions = {},
): Promise<ServiceHost<ConfigOf<S>>> {
  let config: ConfigOf<S>;
  try {
    config = spec.load(options.env ?? process.env);
  } catch (error) {
    process.stderr.write(`${spec.service}: ${(error as Error).message}\n\nEnvironment variables:\n${spec.describe()}\n`);
    process.exit(2);
  }
  // Only a service that traces loads OpenTelemetry's SDK.
  const tracing = options.host?.tracing ?? (config.tracing === undefined ? undefined : await startTracing(config.tracing));
  const host = new ServiceHost({ ...options.host, config, ...(tracing === undefined ? {} : { tracing }) });
  if (config.tracing !== undefined) host.logger.info({ endpoint: config.tracing.endpoint, protocol: config.tracing.protocol, serviceName: config.tracing.serviceName }, 'tracing on');
  const { logger } = host;
  let exiting = false;
  const exit = async (code: number) => {
    if (exiting) return;
    exiting = true;
    await host.stop();
    logger.flush();
    process.exit(code);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (exiting) {
        logger.warn({ signal }, 'second signal: exiting without waiting');
        process.exit(130);
      }
      logger.info({ signal }, 'stopping');
      void exit(0);
    });
  }
  // Started by a supervisor with an IPC channel (`shoal dev`): when the supervisor goes away, however it
  // died, the channel closes and the service stops instead of living on as an orphan holding its port.
  if (process.connected === true) {
    process.on('disconnect', () => {
      logger.info('supervisor gone: stopping');
      void exit(0);
    });
  }
  host.onFatal(() => void exit(1));
  process.on('uncaughtException', (error) => {
    logger.fatal({ err: error }, 'uncaught exception');
    void exit(1);
  });
  process.on('unhandledRejection', (reason) => {
    logger.fatal({ err: reason }, 'unhandled rejection');
    void exit(1);
  });
  try {
    await build(host);
    await host.start();
  } catch (error) {
    if (isShoalError(error) && error.code === 'SHOAL_CONFIG_INVALID') {
      // Configuration only the start could find wrong (a DATABASE_URL that leads nowhere): one line, exit 2.
      process.stderr.write(`${spec.service}: ${error.message}\n`);
      await exit(2);
    } else {
      logger.fatal({ err: error, code: isShoalError(error) ? error.code : undefined }, `${spec.service} failed to start: ${(error as Error).message}`);
      await exit(1);
    }
  }
  return host;
}
