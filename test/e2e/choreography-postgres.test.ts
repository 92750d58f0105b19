/**
 * The choreography end to end with two instances of every service on PostgreSQL: `shoal dev --postgres <url>
 * --replicas 2`, each service on a database and role of its own on one server (the @shoal/postgres fixture),
 * its two instances sharing that database and the service's consumer group. The shop's requests are spread
 * over the instances (support/instance-router.ts), as a load balancer would.
 *
 * On one platform run: the business scenarios; a 500-order burst during which one instance of every service
 * is killed with SIGKILL, one after another (orders' the one holding the outbox relay's lease); a burst
 * during which every instance is restarted in turn (SIGTERM, as a rolling deploy does); a burst during which
 * PostgreSQL itself stops and starts again. After each, every invariant of the choreography holds (nothing
 * lost, no effect applied twice) and nothing is dead-lettered.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { postgresMissingReason, startPostgres, type PostgresServer } from '@shoal/postgres';
import { Kafka, logLevel } from 'kafkajs';
import { eventually, recordsOnTopics } from '@shoal/testing';
import type { DlqListBody } from '@shoal/consumer';
import { serviceDatabaseName } from '../../infra/cli/src/dev/service-databases.js';
import { InstanceRouter } from './support/instance-router.js';
import { burstInvariants, cancelAfterConfirmation, declinedPayment, happyPath, loyaltyInvariants, outOfStock, placeBurst } from './support/scenarios.js';
import { isAlive, SERVICES, SIDECAR_SERVICES, startShoalDev, type ShoalDev } from './support/shoal-dev.js';
import { PLATFORM_WAIT, Shop } from './support/shop.js';

/**
 * Opt-in (SHOAL_E2E_POSTGRES=1): with 14 processes on two cores the suite takes about 15 minutes, the whole
 * budget of `npm test`, and its burst invariants do not all hold yet (docs/operations.md, known limits).
 */
const missing = postgresMissingReason() ?? (process.env.SHOAL_E2E_POSTGRES === '1' ? undefined : 'set SHOAL_E2E_POSTGRES=1 to run it (about 15 min on 2 cores)');
/** The process that keeps a service's state: the service, or its sidecar for one in another language. */
const stateful = (service: string) => (SIDECAR_SERVICES.includes(service) ? `${service}-sidecar` : service);

describe.skipIf(missing !== undefined)(`order fulfilment with two instances of every service on PostgreSQL (shoal dev --postgres --replicas 2)${missing === undefined ? '' : `: ${missing}`}`, () => {
  let server: PostgresServer;
  let dev: ShoalDev;
  let router: InstanceRouter;
  let shop: Shop;
  let dataDir: string;

  beforeAll(async () => {
    server = await startPostgres();
    dataDir = mkdtempSync(join(tmpdir(), 'shoal-e2e-pg-'));
    dev = await startShoalDev({ dataDir, postgres: server.url(), replicas: 2, readyTimeoutMs: 300_000 });
    router = new InstanceRouter(dev);
    shop = new Shop((service) => dev.url(service), router.route);
  }, 420_000);

  // What shoal dev printed last (its services' warnings and errors) is what explains a failure here.
  afterEach((context) => {
    if (context.task.result?.state === 'fail' && dev !== undefined) process.stderr.write(`shoal dev's last output:\n${dev.output().slice(-8000)}\n`);
  });

  afterAll(async () => {
    if (dev !== undefined && dev.child.exitCode === null) await dev.stop();
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
    await server?.stop();
  }, 120_000);

  /** A query as the server's superuser on `database`. */
  async function query<T extends pg.QueryResultRow>(database: string, sql: string): Promise<T[]> {
    const client = new pg.Client({ connectionString: server.url(database) });
    await client.connect();
    try {
      return (await client.query<T>(sql)).rows;
    } finally {
      await client.end();
    }
  }

  /** The pid of the orders instance whose relay holds the outbox's lease (its owner is `<host>:<pid>:<suffix>`). */
  async function relayingPid(): Promise<number | undefined> {
    const [row] = await query<{ lease_owner: string | null; lease_until: number }>('orders', 'SELECT lease_owner, lease_until FROM outbox_relay WHERE id = 1');
    if (row?.lease_owner == null || Number(row.lease_until) < Date.now()) return undefined;
    return Number(row.lease_owner.split(':').at(-2));
  }

  /**
   * Takes the instance out of the shop's rotation (and the app paired with a sidecar), signals it, waits
   * until shoal dev has it ready again with a new pid, and puts it back.
   */
  async function bounce(process_: string, instanceName: string, signal: NodeJS.Signals): Promise<void> {
    const instance = dev.instancesOf(process_).find((candidate) => candidate.name === instanceName)!;
    const served = process_.endsWith('-sidecar') ? instanceName.replace('-sidecar', '') : instanceName;
    await router.drain(served);
    process.kill(instance.pid, signal);
    await eventually(() => expect(dev.instancesOf(process_).find((candidate) => candidate.name === instanceName)!.pid).not.toBe(instance.pid), {
      what: `${instanceName} ready again after ${signal}`,
      timeoutMs: 120_000,
      intervalMs: 250,
    });
    expect(isAlive(instance.pid)).toBe(false);
    router.restore(served);
  }

  /** No dead letter in any service (asked at each one's first instance: they share the database). */
  async function expectNoDeadLetters(): Promise<void> {
    for (const service of SERVICES) {
      const body = (await (await fetch(`${dev.adminUrl(service)}/admin/dlq`, { signal: AbortSignal.timeout(10_000) })).json()) as DlqListBody;
      expect(body.groups.flatMap((group) => group.deadLetters), `${service} dead letters`).toEqual([]);
    }
  }

  it('runs every instance on its service’s own database, as its own role', async () => {
    for (const service of SERVICES) {
      const instances = dev.instancesOf(stateful(service));
      expect(instances.map((instance) => instance.name)).toEqual([stateful(service), `${stateful(service)}#2`]);
      for (const instance of instances) {
        const ready = (await (await fetch(`${instance.url}/health/ready`)).json()) as { checks: Record<string, { ok: boolean; detail?: string }> };
        const database = Object.entries(ready.checks).find(([name]) => name.startsWith('database'));
        expect(database?.[1], `${instance.name}'s database check`).toMatchObject({ ok: true, detail: 'postgres' });
      }
    }
    const sessions = await query<{ usename: string; datname: string }>('postgres', "SELECT DISTINCT usename, datname FROM pg_stat_activity WHERE backend_type = 'client backend' AND usename <> 'postgres'");
    expect(sessions.every((session) => session.usename === session.datname), JSON.stringify(sessions)).toBe(true);
    expect(new Set(sessions.map((session) => session.usename))).toEqual(new Set(SERVICES.map(serviceDatabaseName)));
  });

  it('ships, cancels for stock, declines and refunds orders through both instances of every service', async () => {
    await Promise.all([happyPath(shop), outOfStock(shop), declinedPayment(shop), cancelAfterConfirmation(shop)]);
  }, 240_000);

  it('keeps every invariant when one instance of every service is killed with SIGKILL after another during a burst, the relaying one of orders included', async () => {
    const relaying = await eventually(async () => {
      const pid = await relayingPid();
      expect(pid).toBeDefined();
      return pid!;
    }, PLATFORM_WAIT);
    const relayer = dev.instancesOf('orders').find((instance) => instance.pid === relaying);
    expect(relayer, `the orders instance of pid ${relaying} holds the lease`).toBeDefined();

    // What a takeover publishes twice: records on orders' topic beyond the rows of its outbox, over the test.
    const kafka = new Kafka({ clientId: 'e2e-postgres', brokers: [dev.ready.broker], logLevel: logLevel.NOTHING });
    const published = async () => ({
      records: await recordsOnTopics(kafka, 'orders.order'),
      rows: Number((await query<{ n: string }>('orders', "SELECT count(*) AS n FROM outbox WHERE topic = 'orders.order'"))[0]!.n),
    });
    const before = await published();
    let chaos: Promise<void> | undefined;
    const takeovers: number[] = [];
    const burst = await placeBurst(shop, {
      count: 500,
      seed: 13,
      onProgress: (placed) => {
        if (placed !== 100 || chaos !== undefined) return;
        chaos = (async () => {
          for (const [index, service] of SERVICES.entries()) {
            const process_ = stateful(service);
            const victim = service === 'orders' ? relayer!.name : dev.instancesOf(process_)[index % 2]!.name;
            const killedAt = Date.now();
            const bouncing = bounce(process_, victim, 'SIGKILL');
            if (service === 'orders') {
              // The other instance's relay takes the lease over once the dead one's expires.
              await eventually(async () => {
                const pid = await relayingPid();
                expect(pid).toBeDefined();
                expect(pid).not.toBe(relaying);
              }, { what: 'another orders relay holding the lease', timeoutMs: 30_000, intervalMs: 100 });
              takeovers.push(Date.now() - killedAt);
            }
            await bouncing;
          }
        })();
        // Awaited after the burst; until then a failure must not count as unhandled.
        chaos.catch(() => undefined);
      },
    });
    expect(chaos).toBeDefined();
    await chaos;
    expect(burst.refused).toBe(0);
    expect(takeovers).toHaveLength(1);
    for (const service of SERVICES) expect(dev.output()).toMatch(new RegExp(`${stateful(service)}(#2)? exited \\(SIGKILL\\)`));
    await burstInvariants(shop, burst, 240_000);
    await loyaltyInvariants(shop, burst, 0.3, 240_000);
    await expectNoDeadLetters();
    const after = await published();
    const duplicates = after.records - before.records - (after.rows - before.rows);
    // At most the batch the dead relay had sent without moving the position (the relay's batchSize, 500).
    expect(duplicates).toBeGreaterThanOrEqual(0);
    expect(duplicates).toBeLessThanOrEqual(500);
    console.log(`relay takeover after SIGKILL of the relaying orders instance: ${takeovers[0]} ms, ${duplicates} events published twice`);
  }, 600_000);

  it('keeps every invariant through a rolling restart of every instance during a burst', async () => {
    let rolling: Promise<void> | undefined;
    const burst = await placeBurst(shop, {
      count: 300,
      seed: 17,
      onProgress: (placed) => {
        if (placed !== 50 || rolling !== undefined) return;
        // As a rolling deploy does it: the first instance of every service, then (once those are back) the second.
        rolling = (async () => {
          for (const index of [0, 1]) {
            await Promise.all(SERVICES.map((service) => bounce(stateful(service), dev.instancesOf(stateful(service))[index]!.name, 'SIGTERM')));
          }
        })();
        rolling.catch(() => undefined);
      },
    });
    expect(rolling).toBeDefined();
    await rolling;
    expect(burst.refused).toBe(0);
    await burstInvariants(shop, burst, 240_000);
    await expectNoDeadLetters();
  }, 600_000);

  it('waits out PostgreSQL stopped and started again during a burst: not ready meanwhile, nothing dead-lettered, then carries on', async () => {
    let outage: Promise<void> | undefined;
    const burst = await placeBurst(shop, {
      count: 200,
      seed: 21,
      onProgress: (placed) => {
        if (placed !== 100 || outage !== undefined) return;
        outage = (async () => {
          // Orders taken in while the database is down would be refused; the balancer holds them instead.
          const orders = dev.instancesOf('orders').map((instance) => instance.name);
          await Promise.all(orders.map((name) => router.drain(name)));
          await server.halt();
          // Whatever is seen meanwhile, the server comes back and the orders flow again: the burst must end.
          try {
            await eventually(async () => {
              for (const service of SERVICES) {
                for (const instance of dev.instancesOf(stateful(service))) {
                  const answer = await fetch(`${instance.url}/health/ready`, { signal: AbortSignal.timeout(10_000) });
                  expect(answer.status, `${instance.name} not ready while PostgreSQL is down`).toBe(503);
                }
              }
            }, { what: 'every instance not ready', timeoutMs: 60_000, intervalMs: 250 });
          } finally {
            await server.restart();
          }
          try {
            await eventually(async () => {
              for (const service of SERVICES) {
                for (const instance of dev.instancesOf(stateful(service))) {
                  expect((await fetch(`${instance.url}/health/ready`, { signal: AbortSignal.timeout(10_000) })).status, `${instance.name} ready again`).toBe(200);
                }
              }
            }, { what: 'every instance ready again', timeoutMs: 120_000, intervalMs: 250 });
          } finally {
            for (const name of orders) router.restore(name);
          }
        })();
        outage.catch(() => undefined);
      },
    });
    expect(outage).toBeDefined();
    await outage;
    expect(burst.refused).toBe(0);
    await burstInvariants(shop, burst, 240_000);
    await expectNoDeadLetters();
  }, 600_000);

  it('stops every instance on Ctrl-C: exit 0, no process left', async () => {
    const pids = Object.values(dev.readReadyFile().instances).flatMap((instances) => instances.map((instance) => instance.pid));
    expect(pids.length).toBe((SERVICES.length + SIDECAR_SERVICES.length) * 2);
    expect(await dev.stop()).toBe(0);
    await eventually(() => expect(pids.filter(isAlive)).toEqual([]), { ...PLATFORM_WAIT, what: 'every instance gone', timeoutMs: 10_000 });
  }, 120_000);
});
