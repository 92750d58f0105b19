/**
 * The load balancer in front of a service's instances, as the end-to-end tests need one: each request goes
 * to the next instance in rotation (round robin), and an instance can be taken out of rotation and drained
 * (no request of the test in flight at it) before the test kills or restarts it, then put back. A service
 * with every instance out of rotation holds its requests until one is back, as a balancer with health
 * checks queues them: that is how the tests pause the orders coming in while PostgreSQL is down.
 *
 * Draining first keeps the burst's bookkeeping exact: a request cut by a kill could have committed an order
 * whose answer never arrived, an order the invariants would not know of.
 */
import { eventually } from '@shoal/testing';
import type { ServiceRoute } from './shop.js';
import type { ShoalDev } from './shoal-dev.js';

interface Instance {
  name: string;
  url: string;
  inFlight: number;
  inRotation: boolean;
}

export class InstanceRouter {
  private readonly instances = new Map<string, Instance[]>();
  private turn = 0;
  private readonly waiting = new Set<() => void>();

  /** Every instance of every process of the run, all in rotation (their URLs do not change on restart). */
  constructor(dev: ShoalDev) {
    for (const [name, instances] of Object.entries(dev.ready.instances)) {
      this.instances.set(
        name,
        instances.map((instance) => ({ name: instance.name, url: instance.url, inFlight: 0, inRotation: true })),
      );
    }
  }

  readonly route: ServiceRoute = async (service, call) => {
    const instance = await this.pick(service);
    instance.inFlight++;
    try {
      return await call(instance.url);
    } finally {
      instance.inFlight--;
    }
  };

  /** Takes the instance out of rotation; resolves once no request of the test is in flight at it. */
  async drain(instanceName: string): Promise<void> {
    const instance = this.find(instanceName);
    instance.inRotation = false;
    await eventually(() => instance.inFlight === 0, { what: `no request in flight at ${instanceName}`, timeoutMs: 60_000, intervalMs: 10 });
  }

  /** Puts the instance back in rotation. */
  restore(instanceName: string): void {
    this.find(instanceName).inRotation = true;
    for (const wake of [...this.waiting]) wake();
  }

  private async pick(service: string): Promise<Instance> {
    const instances = this.instances.get(service);
    if (instances === undefined) throw new Error(`shoal dev runs no ${service}`);
    for (;;) {
      const available = instances.filter((instance) => instance.inRotation);
      if (available.length > 0) return available[this.turn++ % available.length]!;
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.waiting.delete(wake);
          resolve();
        };
        this.waiting.add(wake);
      });
    }
  }

  private find(instanceName: string): Instance {
    for (const instances of this.instances.values()) {
      const found = instances.find((instance) => instance.name === instanceName);
      if (found !== undefined) return found;
    }
    throw new Error(`no instance ${instanceName}`);
  }
}
