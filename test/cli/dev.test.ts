/**
 * `shoal dev` as a user runs it: a real child process that starts the broker, the registry and every
 * service as processes of its own, on ports picked free for the test (never the default ones, which a
 * developer's own `npm start` may hold). Most assertions share one run of the whole platform, since
 * starting it is what costs time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it, onTestFinished } from 'vitest';
import { postgresMissingReason, startPostgres } from '@shoal/postgres';
import { eventually, freePort, freePorts, tempDir } from '@shoal/testing';
import { discoverServices } from '../../infra/cli/src/dev/service-discovery.js';
import type { ReadyFileContent as ReadyFile } from '../../infra/cli/src/dev/ready-file.js';
import { REPO_ROOT, SHOAL_BIN, shoal } from './helpers.js';
import { isAlive } from '../e2e/support/shoal-dev.js';

/** Every service of the repository, as `shoal dev` finds them. */
const SERVICES = discoverServices().map((service) => service.name);
/** The services behind a sidecar run as two processes, `<name>` and `<name>-sidecar`. */
const SIDECARS = discoverServices().filter((service) => service.sidecar !== undefined).map((service) => `${service.name}-sidecar`);
/** Every process shoal dev supervises, in the order of the ready file. */
const PROCESSES = SERVICES.flatMap((name) => (SIDECARS.includes(`${name}-sidecar`) ? [name, `${name}-sidecar`] : [name]));
/** The processes that are TypeScript on the service host (the sidecar is one): they log `stopped` when they stop. */
const HOSTED = PROCESSES.filter((name) => discoverServices().some((service) => service.name === name && service.main !== undefined) || SIDECARS.includes(name));


interface DevProcess {
  child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * `shoal dev <args>` in the background. A run the test did not stop itself gets SIGTERM when the test ends
 * (so its services stop before the temp dir goes), SIGKILL if that takes too long.
 */
function startDev(args: readonly string[]): DevProcess {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.KAFKA_BROKERS;
  delete env.SCHEMA_REGISTRY_URL;
  const child = spawn(process.execPath, ['--import', 'tsx', SHOAL_BIN, 'dev', ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  onTestFinished(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  });
  return { child, output: () => output, exited };
}

async function untilOutput(dev: DevProcess, text: string, timeoutMs: number): Promise<void> {
  await eventually(
    () => {
      if (dev.child.exitCode !== null) throw new Error(`shoal dev exited with code ${dev.child.exitCode} before printing '${text}':\n${dev.output()}`);
      return dev.output().includes(text);
    },
    { what: () => `'${text}' in the output of shoal dev; its output:\n${dev.output().slice(-6000)}`, timeoutMs, intervalMs: 200 },
  );
}

/** A port held by another listener for the rest of the test. */
async function takenPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as { port: number }).port;
}

function readReady(path: string): ReadyFile {
  return JSON.parse(readFileSync(path, 'utf8')) as ReadyFile;
}

async function status(url: string): Promise<number> {
  return (await fetch(url, { signal: AbortSignal.timeout(5_000) })).status;
}

async function livePid(url: string): Promise<unknown> {
  return ((await (await fetch(`${url}/health/live`, { signal: AbortSignal.timeout(5_000) })).json()) as { pid?: unknown }).pid;
}

/** The flags of a run on free ports: data dir, broker, registry, console and a port per service. */
async function devArgs(dir: string, services: readonly string[]): Promise<{ args: string[]; ports: Map<string, number> }> {
  const withSidecars = services.flatMap((name) => (SIDECARS.includes(`${name}-sidecar`) ? [name, `${name}-sidecar`] : [name]));
  const [brokerPort, registryPort, consolePort, ...servicePorts] = await freePorts(3 + withSidecars.length);
  const ports = new Map(withSidecars.map((name, index) => [name, servicePorts[index]!]));
  const args = ['--data-dir', join(dir, 'data'), '--broker-port', String(brokerPort), '--registry-port', String(registryPort), '--console-port', String(consolePort)];
  for (const [name, port] of ports) args.push(`--${name}-port`, String(port));
  return { args, ports };
}

describe('shoal dev', () => {
  it('runs every service as its own process, restarts one killed with -9, and stops them all on SIGINT', async () => {
    expect(SERVICES.length).toBeGreaterThan(0);
    const dir = tempDir('dev');
    const readyFile = join(dir, 'ready.json');
    const { args, ports } = await devArgs(dir, SERVICES);
    const dev = startDev([...args, '--ready-file', readyFile]);

    await untilOutput(dev, 'Ctrl-C stops everything.', 110_000);
    const ready = readReady(readyFile);
    expect(Object.keys(ready.services)).toEqual(PROCESSES);
    expect(ready.dataDir).toBe(join(dir, 'data'));
    const banner = dev.output().slice(dev.output().indexOf('Shoal is ready'));
    expect(banner).toContain(`Kafka broker      ${ready.broker}`);
    expect(banner).toContain(`Schema registry   ${ready.registry}`);
    for (const name of PROCESSES) {
      const url = `http://127.0.0.1:${ports.get(name)}`;
      expect(ready.services[name]?.url).toBe(url);
      expect(banner).toMatch(new RegExp(`^ +${name} +${url}$`, 'm'));
      expect(await status(`${url}/health/ready`), `${name} ready`).toBe(200);
      expect(await livePid(url), `${name} pid`).toBe(ready.services[name]?.pid);
    }
    const url = (name: string) => `http://127.0.0.1:${ports.get(name)}`;
    // The console runs beside the services, supervised the same way, and says where.
    expect(banner).toMatch(new RegExp(`^  Console +${ready.console!.url}  `, 'm'));
    expect(await status(`${ready.console!.url}/health/ready`)).toBe(200);
    expect(await livePid(ready.console!.url)).toBe(ready.console!.pid);
    expect(banner).toContain(`curl -X PUT ${url('inventory')}/stock/SKU-1 -H 'content-type: application/json' -d '{"available": 10}'`);
    expect(banner).toContain(`curl -X PUT ${url('payments')}/customers/c1/limit -H 'content-type: application/json' -d '{"limit": 100000, "currency": "EUR"}'`);
    expect(banner).toContain(`curl -X POST ${url('orders')}/orders -H 'content-type: application/json' -d '{"customerId": "c1", "currency": "EUR", "lines": [{"sku": "SKU-1", "quantity": 2, "unitPrice": 1500}]}'`);
    expect(banner).toContain(`curl ${url('order-view')}/orders/<orderId>`);
    expect(banner).toContain('npx shoal subscribe orders.order inventory.reservation payments.payment shipping.shipment notifications.notification loyalty.points --from-beginning --brokers');
    // The services' pino JSON, rendered with their names.
    expect(dev.output()).toMatch(new RegExp(`^\\d\\d:\\d\\d:\\d\\d\\.\\d{3} orders +INFO +listening url=${url('orders')}$`, 'm'));

    const victim = ready.services.inventory!.pid;
    process.kill(victim, 'SIGKILL');
    const restarted = await eventually(() => {
      const pid = readReady(readyFile).services.inventory!.pid;
      expect(pid).not.toBe(victim);
      return pid;
    }, { what: 'inventory restarted with a new pid', timeoutMs: 90_000, intervalMs: 200 });
    expect(isAlive(victim)).toBe(false);
    expect(await status(`${url('inventory')}/health/ready`)).toBe(200);
    expect(await livePid(url('inventory'))).toBe(restarted);
    expect(dev.output()).toMatch(/ inventory exited \(SIGKILL\); restarting in 1 s/);
    expect(dev.output()).toMatch(/ inventory is ready again/);

    const pids = [...Object.values(ready.services).map((service) => service.pid), ready.console!.pid, restarted];
    dev.child.kill('SIGINT');
    expect(await dev.exited).toEqual({ code: 0, signal: null });
    for (const pid of pids) expect(isAlive(pid), `process ${pid}`).toBe(false);
    expect(existsSync(readyFile)).toBe(false);
    const out = dev.output();
    expect(out.split('Shoal is ready')).toHaveLength(2);
    // Every service stopped (its outbox drained) before the broker it publishes to.
    const brokerStopped = out.search(/^\S+ broker +INFO +broker stopped/m);
    expect(brokerStopped).toBeGreaterThan(0);
    for (const name of HOSTED) {
      const stopped = out.search(new RegExp(`^\\S+ ${name} +INFO +stopped$`, 'm'));
      expect(stopped, `${name} stopped`).toBeGreaterThan(0);
      expect(stopped).toBeLessThan(brokerStopped);
    }
  }, 240_000);

  it('runs the subset --services names, ignoring the ports of the others, and serves the broker’s request counts when asked', async () => {
    const dir = tempDir('dev');
    const readyFile = join(dir, 'ready.json');
    const { args, ports } = await devArgs(dir, ['inventory', 'payments']);
    const [metricsPort] = await freePorts(1);
    const dev = startDev([...args, '--orders-port', String(await takenPort()), '--services', 'payments,inventory', '--ready-file', readyFile, '--broker-metrics-port', String(metricsPort)]);

    await untilOutput(dev, 'Ctrl-C stops everything.', 90_000);
    const ready = readReady(readyFile);
    expect(Object.keys(ready.services)).toEqual(['inventory', 'payments']);
    for (const [name, port] of ports) expect(await status(`http://127.0.0.1:${port}/health/ready`), name).toBe(200);
    // Each service's kafkajs clients carry its name: its consumer's fetches are counted under it.
    expect(ready.brokerMetrics).toBe(`http://127.0.0.1:${metricsPort}/metrics`);
    const counts = await (await fetch(ready.brokerMetrics!, { signal: AbortSignal.timeout(5_000) })).text();
    for (const name of ['inventory', 'payments']) expect(counts).toMatch(new RegExp(`^shoal_broker_requests_total\\{api="Fetch",client="${name}"\\} [1-9]`, 'm'));
    const banner = dev.output().slice(dev.output().indexOf('Shoal is ready'));
    expect(banner).toContain(`curl -X PUT http://127.0.0.1:${ports.get('inventory')}/stock/SKU-1`);
    expect(banner).not.toMatch(/^ +orders +http/m);
    expect(banner).not.toContain('/orders ');

    dev.child.kill('SIGTERM');
    expect(await dev.exited).toEqual({ code: 0, signal: null });
    for (const service of Object.values(ready.services)) expect(isAlive(service.pid)).toBe(false);
  }, 120_000);

  it('refuses a taken port before anything starts, naming the port, its service and the flag', async () => {
    const dir = tempDir('dev');
    const { args } = await devArgs(dir, SERVICES.filter((name) => name !== 'inventory'));
    const port = await takenPort();
    const run = await shoal(['dev', ...args, '--inventory-port', String(port)]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toBe(`shoal dev: port ${port} (inventory) on 127.0.0.1 is already in use: stop what holds it or choose another with --inventory-port\n`);
    // Nothing was started: the broker and the registry would have created their data folders.
    expect(existsSync(join(dir, 'data'))).toBe(false);
  });

  it('refuses an unknown service name in --services, listing the known ones', async () => {
    const run = await shoal(['dev', '--services', 'inventory,warehouse', '--data-dir', join(tempDir('dev'), 'data')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`shoal dev: --services: unknown service 'warehouse'; the services are ${SERVICES.join(', ')}\n`);
    expect(run.stderr).toContain('Usage: shoal dev');
  });
});

describe('shoal dev --postgres --replicas', () => {
  it.skipIf(postgresMissingReason() !== undefined)('runs the named services twice on databases of their own, every instance in the banner, the ready file and the console', async () => {
    const server = await startPostgres();
    onTestFinished(() => server.stop());
    const dir = tempDir('dev');
    const readyFile = join(dir, 'ready.json');
    const [brokerPort, registryPort, consolePort, ...ports] = await freePorts(6);
    const inventory = ports.slice(0, 2).map((port) => `http://127.0.0.1:${port}`);
    const payments = `http://127.0.0.1:${ports[2]}`;
    const args = ['--data-dir', join(dir, 'data'), '--broker-port', String(brokerPort), '--registry-port', String(registryPort), '--console-port', String(consolePort)];
    const dev = startDev([...args, '--services', 'inventory,payments', '--postgres', server.url(), '--replicas', 'inventory=2', '--inventory-port', ports.slice(0, 2).join(','), '--payments-port', String(ports[2]), '--ready-file', readyFile]);

    await untilOutput(dev, 'Ctrl-C stops everything.', 150_000);
    const ready = readReady(readyFile);
    expect(ready.services).toEqual({ inventory: { url: inventory[0], pid: expect.any(Number) }, payments: { url: payments, pid: expect.any(Number) } });
    expect(ready.instances.inventory!.map(({ name, url }) => ({ name, url }))).toEqual([
      { name: 'inventory', url: inventory[0] },
      { name: 'inventory#2', url: inventory[1] },
    ]);
    expect(ready.instances.payments!.map(({ name }) => name)).toEqual(['payments']);
    expect(ready.postgres).toBe(server.url());
    const banner = dev.output().slice(dev.output().indexOf('Shoal is ready'));
    expect(banner).toMatch(new RegExp(`^ +inventory +${inventory[0]}$`, 'm'));
    expect(banner).toMatch(new RegExp(`^ +inventory#2 +${inventory[1]}$`, 'm'));
    expect(banner).toContain(`  PostgreSQL        ${server.url()}  (a database and a role of its own per service)`);
    for (const instance of [...ready.instances.inventory!, ...ready.instances.payments!]) {
      const answer = (await (await fetch(`${instance.url}/health/ready`)).json()) as { checks: Record<string, { ok: boolean; detail?: string }> };
      expect(Object.entries(answer.checks).find(([name]) => name.startsWith('database'))?.[1], instance.name).toMatchObject({ ok: true, detail: 'postgres' });
      expect(await livePid(instance.url)).toBe(instance.pid);
    }
    // Each instance connects as its service's role to its service's database, and to no other.
    const admin = new pg.Client({ connectionString: server.url() });
    await admin.connect();
    onTestFinished(() => admin.end());
    const sessions = await admin.query<{ usename: string; datname: string; pid: number }>("SELECT usename, datname FROM pg_stat_activity WHERE backend_type = 'client backend' AND usename <> 'postgres'");
    expect(new Set(sessions.rows.map((row) => `${row.usename}@${row.datname}`))).toEqual(new Set(['inventory@inventory', 'payments@payments']));

    // Both instances answer for the one database: stock set through one is read through the other.
    const put = await fetch(`${inventory[0]}/stock/SKU-PG`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ available: 7 }) });
    expect(put.status).toBe(200);
    expect(await (await fetch(`${inventory[1]}/stock/SKU-PG`)).json()).toMatchObject({ sku: 'SKU-PG', available: 7 });

    // The console asks every instance, under its service's name.
    const status = (await (await fetch(`${ready.console!.url}/api/status`)).json()) as { services: { name: string; urls: string[] }[] };
    expect(status.services.find((service) => service.name === 'inventory')?.urls).toEqual(inventory);

    // The supervisor keeps every instance: the second one killed is restarted on its port.
    const victim = ready.instances.inventory![1]!.pid;
    process.kill(victim, 'SIGKILL');
    await eventually(() => expect(readReady(readyFile).instances.inventory![1]!.pid).not.toBe(victim), { what: 'inventory#2 restarted', timeoutMs: 90_000, intervalMs: 200 });
    expect(dev.output()).toMatch(/ inventory#2 exited \(SIGKILL\); restarting in 1 s/);

    const pids = Object.values(readReady(readyFile).instances).flatMap((instances) => instances.map((instance) => instance.pid));
    dev.child.kill('SIGINT');
    expect(await dev.exited).toEqual({ code: 0, signal: null });
    for (const pid of pids) expect(isAlive(pid), `process ${pid}`).toBe(false);
  }, 240_000);

  it('refuses a bad --replicas, --replicas without --postgres and a --postgres that is not a URL, naming the flag', async () => {
    const data = join(tempDir('dev'), 'data');
    for (const [flags, message] of [
      [['--replicas', '0'], "shoal dev: --replicas: the number of instances must be a whole number from 1 to 16, got '0'"],
      [['--replicas', 'orders=two'], "shoal dev: --replicas: the number of instances of orders must be a whole number from 1 to 16, got 'two'"],
      [['--replicas', 'warehouse=2'], "shoal dev: --replicas: unknown service 'warehouse'"],
      [['--replicas', '2'], 'shoal dev: --replicas runs several instances of a service on one shared database: give --postgres <url> too'],
      [['--postgres', 'mysql://db/x'], 'shoal dev: --postgres: mysql://db/x is not a postgres:// URL'],
      [['--postgres', 'postgres://h/x', '--replicas', '2', '--orders-port', '43001,43002,43003'], 'shoal dev: --orders-port names 3 ports for 2 instances'],
    ] as const) {
      const run = await shoal(['dev', ...flags, '--data-dir', data]);
      expect(run.code, flags.join(' ')).toBe(2);
      expect(run.stderr.split('\n')[0], flags.join(' ')).toContain(message);
    }
    expect(existsSync(data)).toBe(false);
  });

  it('refuses a --postgres server it cannot reach in one line, exit 2, before anything starts', async () => {
    const dir = tempDir('dev');
    const { args } = await devArgs(dir, SERVICES);
    const url = `postgres://shoal:secret@127.0.0.1:${await freePort()}/postgres`;
    const run = await shoal(['dev', ...args, '--postgres', url]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^shoal dev: --postgres postgres:\/\/shoal:\*\*\*@127\.0\.0\.1:\d+\/postgres: connect ECONNREFUSED 127\.0\.0\.1:\d+\n$/);
    expect(existsSync(join(dir, 'data'))).toBe(false);
  });
});
