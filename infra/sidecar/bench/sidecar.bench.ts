/**
 * `npm run bench -- sidecar`: what the sidecar costs, against the same reaction written as a TypeScript
 * service in the same run (docs/benchmarks.md). The reaction: OrderShipped in, one PointsAwarded out through
 * the outbox; the micrologic is a trivial HTTP server in a process of its own (trivial-micrologic.ts).
 *
 *   hop latency    OrderShipped published at a steady rate; per event, the time from its publish to its
 *                  PointsAwarded read back by a consumer, through the in-process service and through the
 *                  sidecar; the sidecar's added p50 and p99 are the differences
 *   deliveries/s   a backlog of OrderShipped events delivered through one sidecar to the micrologic
 *   publish/s      POST /v1/events with batches of 1,000 events, acknowledged once durably in the outbox
 *
 * The broker runs in a child process, the registry and both services in this one (outbox/bench/bench-platform.ts).
 */
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEvent, type ShoalEvent } from '@shoal/contract';
import { ServiceHost, defineServiceConfig } from '@shoal/service';
import { sqliteOnly } from '@shoal/store-sqlite';
import { Publisher } from '@shoal/transport';
import { eventually, freePort } from '@shoal/testing';
import { runBench, progressOf, count, type BenchPlatform, type Goal } from '../../../libs/outbox/bench/bench-platform.js';
import { checkDeclaration, sidecarConfigSpec } from '../src/sidecar-config.js';
import { buildSidecar, type Sidecar } from '../src/sidecar.js';
import { pointsOf } from './points-reaction.js';

const usage = `Usage: node --import tsx infra/sidecar/bench/sidecar.bench.ts [--quick]

The sidecar's added latency per hop, deliveries per second and POST /v1/events throughput, each against
the same reaction as an in-process TypeScript service in the same run (docs/benchmarks.md).
`;

const progress = progressOf('sidecar');
const shipped = (seq: number, run: string): ShoalEvent =>
  createEvent(
    'shoal.orders.OrderShipped',
    { orderId: `${run}-${seq}`, customerId: `c-${seq % 97}`, shipmentId: `s-${seq}`, trackingNumber: 'T', shippedAt: 1_767_225_600_000 + seq },
    { source: '/shoal/orders', subject: `${run}-${seq}` },
  );

interface Running {
  host: ServiceHost;
  sidecar?: Sidecar;
  stop(): Promise<void>;
}

function hostFor(platform: BenchPlatform, service: string, port = 0): ServiceHost {
  const env = { KAFKA_BROKERS: platform.broker.bootstrap, SCHEMA_REGISTRY_URL: platform.registryUrl, SHOAL_DATA_DIR: join(platform.workDir, 'services'), PORT: String(port), LOG_LEVEL: 'warn' };
  return new ServiceHost({ config: defineServiceConfig({ service, defaultPort: 0 }).load(env), catalog: platform.catalog });
}

/** The reaction as a TypeScript service on the service host, in this process. */
async function startTypescriptService(platform: BenchPlatform, service: string): Promise<Running> {
  const host = hostFor(platform, service);
  const database = sqliteOnly(await host.openDatabase(), 'The benchmark');
  host.subscribe({
    database,
    topics: ['orders.order'],
    handlers: {
      'shoal.orders.OrderShipped': (event, tx) => {
        const { orderId, customerId, shippedAt } = event.data;
        tx.emit(createEvent('shoal.loyalty.PointsAwarded', pointsOf(orderId, customerId, shippedAt), { source: host.source, subject: orderId, causedBy: event }));
      },
    },
  });
  await host.start();
  await host.whenReady(60_000);
  return { host, stop: () => host.stop() };
}

/** The reaction as a micrologic (a child process) behind a sidecar in this process. */
async function startSidecarService(platform: BenchPlatform, service: string, micrologicUrl: string): Promise<Running> {
  const declaration = checkDeclaration(
    { service, port: 0, app: micrologicUrl, subscriptions: [{ topic: 'orders.order', types: ['shoal.orders.OrderShipped'], path: '/shipped' }], publishes: ['shoal.loyalty.PointsAwarded'] },
    platform.catalog,
    'the benchmark',
  );
  const env = { KAFKA_BROKERS: platform.broker.bootstrap, SCHEMA_REGISTRY_URL: platform.registryUrl, SHOAL_DATA_DIR: join(platform.workDir, 'services'), PORT: '0', LOG_LEVEL: 'warn' };
  const config = sidecarConfigSpec(declaration).load(env);
  const host = new ServiceHost({ config, catalog: platform.catalog });
  const sidecar = await buildSidecar(host, { ...declaration, app: config.app });
  await host.start();
  await host.whenReady(60_000);
  return { host, sidecar, stop: () => host.stop() };
}

async function startMicrologic(port: number): Promise<{ url: string; stop(): void }> {
  const child = fork(fileURLToPath(new URL('./trivial-micrologic.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'], env: { ...process.env, PORT: String(port) }, stdio: 'inherit' });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`the micrologic exited with ${code}`)));
  });
  return { url: `http://127.0.0.1:${port}`, stop: () => child.kill('SIGKILL') };
}

/** Hop latencies (ms, sorted) of `events` OrderShipped published at `rate`/s, read back as PointsAwarded of `source`. */
async function hopLatencies(platform: BenchPlatform, publisher: Publisher, source: string, run: string, events: number, rate: number): Promise<number[]> {
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  const codec = platform.codec();
  const consumer = platform.kafka.consumer({ groupId: `${run}-watch`, maxWaitTimeInMs: 20 });
  await consumer.connect();
  await consumer.subscribe({ topics: ['loyalty.points'], fromBeginning: false });
  let joined = false;
  consumer.on(consumer.events.GROUP_JOIN, () => (joined = true));
  await consumer.run({
    eachMessage: async ({ message }) => {
      const arrived = performance.now();
      const event = await codec.decode(message);
      if (event.source !== source) return;
      const sent = sentAt.get(event.subject ?? '');
      if (sent !== undefined) latencies.push(arrived - sent);
    },
  });
  await eventually(() => joined, { what: 'the latency watcher joined', timeoutMs: 30_000 });
  const interval = 1000 / rate;
  const start = performance.now();
  for (let seq = 0; seq < events; seq++) {
    const due = start + seq * interval;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const event = shipped(seq, run);
    sentAt.set(event.subject!, performance.now());
    await publisher.publish(event as ShoalEvent<'shoal.orders.OrderShipped'>);
  }
  await eventually(() => latencies.length >= events, { what: `${events} PointsAwarded of ${source}`, timeoutMs: 120_000, intervalMs: 100 });
  await consumer.disconnect();
  return latencies.sort((a, b) => a - b);
}

const quantile = (sorted: readonly number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

runBench({
  name: 'sidecar',
  title: 'Sidecar: a micrologic behind the sidecar against the same reaction as an in-process TypeScript service',
  usage,
  async run(platform, quick) {
    const lines: string[] = [];
    const goals: Goal[] = [];
    const publisher = new Publisher({ kafka: platform.kafka, codec: platform.codec() });
    await publisher.connect();
    const micrologic = await startMicrologic(await freePort());
    try {
      // Hop latency: the same steady traffic through each, one after the other (each has the machine to itself).
      const events = quick ? 300 : 3000;
      const rate = 200;
      progress(`hop latency: ${events} events at ${rate}/s through the TypeScript service`);
      const ts = await startTypescriptService(platform, 'bench-ts');
      const typescript = await hopLatencies(platform, publisher, '/shoal/bench-ts', 'lat-ts', events, rate);
      await ts.stop();
      progress(`hop latency: ${events} events at ${rate}/s through the sidecar`);
      const sc = await startSidecarService(platform, 'bench-sidecar', micrologic.url);
      const sidecar = await hopLatencies(platform, publisher, '/shoal/bench-sidecar', 'lat-sc', events, rate);
      await sc.stop();
      const row = (name: string, sorted: number[]) => `  ${name.padEnd(26)} p50 ${quantile(sorted, 0.5).toFixed(2).padStart(7)} ms   p90 ${quantile(sorted, 0.9).toFixed(2).padStart(7)} ms   p99 ${quantile(sorted, 0.99).toFixed(2).padStart(7)} ms`;
      const added50 = quantile(sidecar, 0.5) - quantile(typescript, 0.5);
      const added99 = quantile(sidecar, 0.99) - quantile(typescript, 0.99);
      lines.push('', `hop latency, publish of OrderShipped to its PointsAwarded read back (${events} events at ${rate}/s each):`, row('in-process TypeScript', typescript), row('micrologic behind sidecar', sidecar));
      lines.push(`  added by the sidecar        p50 ${added50.toFixed(2)} ms, p99 ${added99.toFixed(2)} ms`);
      goals.push({ goal: 'sidecar adds <= 2 ms p50 per hop', measured: `${added50.toFixed(2)} ms`, met: added50 <= 2 });
      goals.push({ goal: 'sidecar adds <= 5 ms p99 per hop', measured: `${added99.toFixed(2)} ms`, met: added99 <= 5 });

      // Deliveries per second: a backlog, then each drains it from the start of its own group.
      const backlog = quick ? 2000 : 20_000;
      progress(`deliveries: publishing a backlog of ${backlog} OrderShipped`);
      for (let from = 0; from < backlog; from += 1000) {
        await publisher.publishBatch(Array.from({ length: Math.min(1000, backlog - from) }, (_, i) => shipped(from + i, 'backlog')) as ShoalEvent<'shoal.orders.OrderShipped'>[]);
      }
      // The drain reads orders.order from its start: the latency phases' events too.
      const total = backlog + 2 * events;
      const drain = async (start: () => Promise<Running>, group: string) => {
        const begin = performance.now();
        const running = await start();
        await eventually(
          async () => {
            const text = (await running.host.app.inject({ method: 'GET', url: '/metrics' })).body;
            const handled = Number(new RegExp(`^shoal_events_consumed_total\\{group="${group}",outcome="handled"[^}]*\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
            return handled >= total;
          },
          { what: `${group} drained the backlog`, timeoutMs: 600_000, intervalMs: 50 },
        );
        const seconds = (performance.now() - begin) / 1000;
        await running.stop();
        return total / seconds;
      };
      progress('deliveries: the TypeScript service drains it');
      const tsRate = await drain(() => startTypescriptService(platform, 'drain-ts'), 'drain-ts');
      progress('deliveries: the sidecar drains it');
      const scRate = await drain(() => startSidecarService(platform, 'drain-sidecar', micrologic.url), 'drain-sidecar');
      lines.push('', `deliveries, a backlog of ${count(total)} OrderShipped drained from the start (start-up included):`);
      lines.push(`  in-process TypeScript      ${count(tsRate)} events/s`, `  micrologic behind sidecar  ${count(scRate)} deliveries/s (${(scRate / tsRate).toFixed(2)}x the TypeScript service)`);
      goals.push({ goal: '>= 5,000 deliveries/s through one sidecar', measured: `${count(scRate)}/s`, met: scRate >= 5000 });

      // POST /v1/events: batches of 1,000, one request at a time, against the outbox writes of the TypeScript side.
      const batches = quick ? 10 : 50;
      progress(`publish: ${batches} batches of 1,000 events to POST /v1/events`);
      const pub = await startSidecarService(platform, 'publish-sidecar', micrologic.url);
      const body = (b: number) => JSON.stringify(Array.from({ length: 1000 }, (_, i) => ({ type: 'shoal.loyalty.PointsAwarded', subject: `p-${b}-${i}`, data: pointsOf(`p-${b}-${i}`, 'c', b) })));
      const bodies = Array.from({ length: batches }, (_, b) => body(b));
      const begin = performance.now();
      for (const payload of bodies) {
        const response = await fetch(`${pub.host.url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/cloudevents-batch+json' }, body: payload });
        if (response.status !== 202) throw new Error(`POST /v1/events answered ${response.status}: ${await response.text()}`);
      }
      const publishRate = (batches * 1000) / ((performance.now() - begin) / 1000);
      await pub.stop();
      lines.push('', `POST /v1/events, ${batches} batches of 1,000 events, each acknowledged once committed to the outbox:`, `  ${count(publishRate)} events/s`);
      goals.push({ goal: 'POST /v1/events batches >= 10,000 events/s durable', measured: `${count(publishRate)}/s`, met: publishRate >= 10_000 });
      return { lines, goals };
    } finally {
      micrologic.stop();
      await publisher.disconnect();
    }
  },
});
