import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { startRegistry, type RunningRegistry } from '@shoal/schema-registry';
import { createEvent, EventCodec, loadSchemaCatalog, registerCatalog, RegistryClient, type SchemaCatalog, type ShoalEvent } from '@shoal/contract';
import { startBrokerProcess, type BrokerProcess } from '../../../infra/broker/bench/broker-process.js';
import { createTopics } from '../../../infra/broker/bench/kafkajs-client.js';
import { formatTable } from '../../../infra/broker/bench/report.js';
import type { Span } from '../../../infra/broker/bench/span.js';

/**
 * What the runtime benchmarks (relay.bench.ts here, consumer.bench.ts in @shoal/consumer) share: the platform
 * they run against, the events they move and the lines that say under which conditions a figure was taken.
 *
 * As in the broker and projection benchmarks, the broker runs in a child process (it competes for the cores
 * as a real one on the same host would, and its CPU is measured apart) and the registry in this process;
 * both on a temp dir removed at the end. Every wait is bounded, so a broken run fails instead of hanging.
 * `runBench` is the whole process around a benchmark's workloads: options, platform, report, exit code.
 */

export interface BenchPlatform {
  readonly workDir: string;
  readonly broker: BrokerProcess;
  readonly catalog: SchemaCatalog;
  readonly kafka: Kafka;
  /** The registry's base URL, for a service the benchmark starts on the platform. */
  readonly registryUrl: string;
  /** A new codec: its caches start cold (its first events ask the registry), as in a process that just started. */
  codec(): EventCodec;
  close(): Promise<void>;
}

/** Broker (child process), registry with the catalog registered, and the catalog topics with their partitions. */
export async function startBenchPlatform(name: string): Promise<BenchPlatform> {
  const workDir = mkdtempSync(join(tmpdir(), `shoal-${name}-bench-`));
  let broker: BrokerProcess | undefined;
  let registry: RunningRegistry | undefined;
  const close = async () => {
    await registry?.close();
    await broker?.close();
    rmSync(workDir, { recursive: true, force: true });
  };
  try {
    broker = await startBrokerProcess({ dataDir: join(workDir, 'broker') });
    registry = await startRegistry({ dataDir: join(workDir, 'registry'), port: 0, logLevel: 'warn' });
    const catalog = loadSchemaCatalog();
    const registryClient = new RegistryClient({ url: registry.url });
    await registerCatalog(registryClient, catalog);
    // ERROR only: kafkajs warns about every rebalance and disconnect, which the benchmarks do on purpose.
    const kafka = new Kafka({ clientId: `${name}-bench`, brokers: [broker.bootstrap], logLevel: logLevel.ERROR });
    for (const [topic, { partitions }] of catalog.topics) await createTopics(kafka, [topic], partitions);
    return { workDir, broker, catalog, kafka, registryUrl: registry.url, codec: () => new EventCodec({ registry: registryClient, catalog }), close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** An OrderPlaced of order `orderId` as orders emits it: 3 lines, an address; `seq` varies the data. */
export function orderPlaced(seq: number, orderId: string): ShoalEvent<'shoal.orders.OrderPlaced'> {
  const lines = [1, 2, 3].map((n) => ({ sku: `SKU-${n}0042-BLUE`, quantity: n, unitPrice: { amount: 1999 * n + (seq % 100), currency: 'EUR' } }));
  return createEvent(
    'shoal.orders.OrderPlaced',
    {
      orderId,
      customerId: `cus-${seq % 997}`,
      lines,
      total: { amount: lines.reduce((sum, line) => sum + line.quantity * line.unitPrice.amount, 0), currency: 'EUR' },
      shippingAddress: { line1: '12 rue de la Paix', line2: null, city: 'Paris', postalCode: '75002', country: 'FR' },
      placedAt: 1_767_225_600_000 + seq,
    },
    { source: '/shoal/orders', subject: orderId },
  );
}

/** A goal of docs/benchmarks.md with what this run measured. */
export interface Goal {
  goal: string;
  measured: string;
  met: boolean;
}

export interface RuntimeBench {
  /** Short name: of progress lines, the temp dir and the kafkajs client. */
  name: string;
  title: string;
  usage: string;
  /** Runs the workloads (quick: about 10x smaller); returns the report below its title and the goals it checked. */
  run(platform: BenchPlatform, quick: boolean): Promise<{ lines: string[]; goals: Goal[] }>;
}

/**
 * Runs `bench` as the process's main: exits 0 whether or not the goals are met, 2 on bad options, 1 when the
 * benchmark itself fails. The load average is printed beside the figures since other processes compete for
 * the same cores.
 */
export function runBench(bench: RuntimeBench): void {
  main(bench).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${bench.name} bench failed: ${(error as Error).stack ?? String(error)}\n`);
      process.exit(1);
    },
  );
}

async function main(bench: RuntimeBench): Promise<number> {
  let quick: boolean;
  try {
    const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } }, strict: true });
    if (values.help) {
      process.stdout.write(bench.usage);
      return 0;
    }
    quick = values.quick;
  } catch (error) {
    process.stderr.write(`${bench.name} bench: ${(error as Error).message}\n\n${bench.usage}`);
    return 2;
  }
  const loadBefore = loadavg()[0]!;
  const platform = await startBenchPlatform(bench.name);
  process.once('SIGINT', () => void platform.close().finally(() => process.exit(130)));
  try {
    const { lines, goals } = await bench.run(platform, quick);
    process.stdout.write(
      [
        '',
        `${bench.title}${quick ? ' (--quick: about 10x smaller, noisier)' : ''}`,
        `node ${process.version}, ${availableParallelism()} cores, 1-min load average ${loadBefore.toFixed(2)} before and ${loadavg()[0]!.toFixed(2)} after the run`,
        ...lines,
        '',
        formatTable(
          [
            { title: 'goal', align: 'left' },
            { title: 'measured', align: 'right' },
            { title: '', align: 'left' },
          ],
          goals.map((goal) => [goal.goal, goal.measured, goal.met ? 'met' : 'NOT MET']),
        ),
        '',
        `goals met: ${goals.filter((goal) => goal.met).length} of ${goals.length}`,
        '',
      ].join('\n'),
    );
    return 0;
  } finally {
    await platform.close();
  }
}

/** Progress of a benchmark, on stderr so that stdout holds the report alone. */
export function progressOf(name: string): (message: string) => void {
  return (message) => process.stderr.write(`${name} bench: ${message}\n`);
}

/** Spans of several rounds of one workload as one: seconds add up, CPU shares are weighted by them. */
export function combineSpans(spans: readonly Span[]): Span {
  const seconds = spans.reduce((sum, span) => sum + span.seconds, 0);
  const weighted = (pick: (span: Span) => number) => spans.reduce((sum, span) => sum + pick(span) * span.seconds, 0) / seconds;
  return { seconds, brokerCpu: weighted((span) => span.brokerCpu), clientCpu: weighted((span) => span.clientCpu ?? 0) };
}

/** Whether `promise` settled within `ms` (its rejection is the caller's to see). */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise.then(() => true), new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

export const count = (n: number) => Math.round(n).toLocaleString('en-US');
