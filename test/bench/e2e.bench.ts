import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Kafka, logLevel, type logCreator } from 'kafkajs';
import pg from 'pg';
import { freePort } from '@shoal/testing';
import { startPostgres, type PostgresServer } from '@shoal/postgres';
import { KAFKA_VERSION, startApacheKafka, type ApacheKafka } from '@shoal/apache-kafka';
import { count, progressOf } from '../../libs/outbox/bench/bench-platform.js';
import { Shop } from '../e2e/support/shop.js';
import { discoverConsole } from '../../infra/cli/src/dev/service-discovery.js';
import { REPO_ROOT, SERVICES, startShoalDev, type ShoalDev } from '../e2e/support/shoal-dev.js';
import { startArrivalWatch, type ArrivalWatch } from './arrival-watch.js';
import { BENCH_CLIENT, readBrokerRequests, requestsBetween, type RequestFigures } from './broker-requests.js';
import { baselineLines, cpuTable, figuresTable, requestsTable, stepsTable, storeTable, tracingTable, type CpuFigure, type LatencyFigures, type StoreSide, type ThroughputFigures, type TracingSide } from './e2e-report.js';
import { serviceDatabaseName } from '../../infra/cli/src/dev/service-databases.js';
import { startOtlpReceiver } from '@shoal/telemetry/testing';
import { KafkaBaselines } from './kafka-baselines.js';
import { OrderTraffic, type PlacedOrder } from './order-traffic.js';
import { waitForIdle } from './platform-idle.js';
import { cpuUsedBetween, readCpu } from './process-cpu.js';

/**
 * The whole choreography under load: `npm run bench -- e2e [--quick]` (docs/benchmarks.md).
 *
 * `shoal dev` runs in a child process on a fresh temp data dir and free ports (test/e2e/support/shoal-dev.ts),
 * the six services at LOG_LEVEL=warn with shipping's auto-dispatch off. Stock of a handful of skus and the
 * customers' credit limits are set high enough that no order is ever refused, so every order goes PLACED ->
 * CONFIRMED through four event hops (OrderPlaced -> StockReserved -> PaymentAuthorized -> OrderConfirmed).
 * A kafkajs consumer in this process (a new group, from the end, committing nothing) notes when each order's
 * OrderConfirmed arrives on `orders.order` (ArrivalWatch: the ce_type header and the Kafka key, nothing
 * decoded), and its OrderPlaced, StockReserved and PaymentAuthorized too, with their ce_time.
 *
 *   throughput   N orders by POST /orders with at most 64 in flight (closed loop, OrderTraffic): orders/s =
 *                N / (first POST sent -> last OrderConfirmed arrived). Also the POST rate alone and how long
 *                the confirmations trail the answers. CPU seconds of each process shoal dev runs, from
 *                /proc/<pid>/stat, to the last confirmation and to idle (the orders' whole choreography).
 *                Broker requests of the platform's clients by Kafka API, per order, from the embedded
 *                broker's GET /metrics (broker-requests.ts), to idle; the same for each latency phase.
 *   latency      open loop at a fixed offered rate: each POST sent when due whatever the earlier ones did;
 *                latency = OrderConfirmed arrival - scheduled send, so a stall shows in full instead of
 *                slowing the sender (no coordinated omission). Where it goes: each event of the flow from
 *                its cause (its predecessor arriving here) to its arrival here, split at its ce_time (the
 *                services stamp it with the system clock as they handle the cause) into the way to the
 *                handler (fetch, decode) and the way out (commit, outbox relay, broker, fetch here). Each rate
 *                is offered for LEAD_IN_SECONDS untimed first. CPU per order of each process, to idle.
 *   baselines    on the same broker in the same run (KafkaBaselines): raw produce -> consume of single
 *                records at the first offered rate, times 4 hops = the latency floor; and a raw kafkajs chain
 *                of the same shape (a batching producer and three consume -> produce relays) moving N records,
 *                with the CPU it costs (this process and shoal dev's, where the broker runs) per record.
 *
 *   console      the console's cost (docs/console.md): shoal dev runs without it (--no-console) for every
 *                phase above; then, in two rounds, the first rate is offered again without the console and
 *                with one started as its own process (reading every topic, caught up first), and the CPU per
 *                order of every process, the console's included, is compared over the rounds: the goal is at
 *                most 5 % more.
 *
 *   --postgres   the store instead: the warm-up and throughput phases on a fresh platform on SQLite, then on
 *                PostgreSQL with one instance of each service (shoal dev --postgres; goal: at least 0.6x
 *                SQLite's orders/s), then with --replicas instances of each (POSTs spread over the orders
 *                instances). The server is the URL given, or a durable one (fsync on) the bench starts
 *                from Debian's binaries; the services' databases on it are dropped before each side.
 *
 * A closed-loop warm-up comes first, as many orders as the throughput phase at its concurrency (fewer in
 * --quick): the hot paths are compiled by TurboFan only after thousands of calls, and with a short warm-up
 * the compiler's work showed up in the phase's CPU and throughput. Every phase waits for the platform to be
 * idle (platform-idle.ts) so that none starts on the previous one's tail. Exits 0 whether or
 * not the goals are met; 1 when the run itself failed (a POST refused, an order never confirmed, shoal dev
 * not starting), 2 on bad options. shoal dev is stopped with SIGINT, as Ctrl-C would, also on Ctrl-C here.
 */
const usage = `Usage: npm run bench -- e2e [options]
       node --import tsx test/bench/e2e.bench.ts [options]

Options (a value after a space or '='):
  --quick               a smoke run: 600 orders (after 600 to warm up), 10 s at 100/s, no second rate
  --orders=<n>          orders of the throughput phase (default 3000; --quick 600)
  --concurrency=<n>     POSTs in flight in the throughput phase (default 64)
  --rate=<r,...>        offered rates of the latency phase, orders/s (default 100,300; --quick 100)
  --duration=<s,...>    seconds at each rate; the last one repeats (default 30,10; --quick 10)
  --cpu-prof-dir=<dir>  write a V8 CPU profile of shoal dev and of every service into <dir>, one
                        <service>-<pid>.cpuprofile each (Chrome DevTools, speedscope), and phases.json:
                        when each phase ran, in µs of the clock of the profiles' timestamps
  --log=<file>          keep everything shoal dev printed in <file>
  --apache-kafka        run the choreography on Apache Kafka (the pinned version, a JVM from Maven's jars,
                        1 GiB heap) instead of the embedded broker: shoal dev --brokers, Shoal's registry
  --tracing             measure what tracing costs instead: the warm-up and throughput phases on a platform
                        with tracing off, then on a new one with tracing on (OTLP/HTTP protobuf to a receiver
                        in this process); both rates, CPU per order, spans received, and the cost
  --postgres[=<url>]    compare the stores instead: the warm-up and throughput phases on SQLite, then on
                        PostgreSQL with one instance of each service, then with --replicas of each; without a
                        URL the bench starts a durable PostgreSQL of its own (the services' databases on the
                        server are dropped and created afresh for each side)
  --replicas=<n>        instances of each service on the last --postgres side (default 2)
  -h, --help            show this help
`;

/** Seconds at each offered rate before the timed ones. */
const LEAD_IN_SECONDS = 3;
/** How long confirmations may trail the last POST of a phase before the run counts as failed. */
const CONFIRM_TIMEOUT_MS = 90_000;
const IDLE_TIMEOUT_MS = 60_000;
/** The benchmark's own groups and topics start with this; the idle check leaves them out. */
const BENCH_PREFIX = 'bench.e2e';
const SKUS = Array.from({ length: 8 }, (_, i) => `BENCH-SKU-${i + 1}`);
const CUSTOMERS = Array.from({ length: 50 }, (_, i) => `bench-customer-${i + 1}`);
/** Never runs out (an order takes at most 3 units of an sku), and fits the Avro int of the events. */
const STOCK = 1_000_000_000;
const CREDIT_LIMIT = 1_000_000_000_000;
const CONFIRMED = 'shoal.orders.OrderConfirmed';
/** The events of an order's way to CONFIRMED, in order, each with its topic and the service that emits it. */
const FLOW = [
  { type: 'shoal.orders.OrderPlaced', topic: 'orders.order', by: 'orders (HTTP)' },
  { type: 'shoal.inventory.StockReserved', topic: 'inventory.reservation', by: 'inventory' },
  { type: 'shoal.payments.PaymentAuthorized', topic: 'payments.payment', by: 'payments' },
  { type: CONFIRMED, topic: 'orders.order', by: 'orders (consumer)' },
] as const;

interface Plan {
  quick: boolean;
  orders: number;
  concurrency: number;
  warmupOrders: number;
  rates: Array<{ rate: number; seconds: number }>;
  /** Seconds of the raw produce -> consume baseline (at the first rate). */
  hopSeconds: number;
  cpuProfDir: string | undefined;
  logFile: string | undefined;
  apacheKafka: boolean;
  tracing: boolean;
  /** `--postgres`: the server's URL, '' for one the bench starts; undefined without the flag. */
  postgres: string | undefined;
  replicas: number;
}

const progress = progressOf('e2e');

/** Set once shoal dev is being stopped: from then on every client here loses its broker, as intended. */
let platformStopping = false;

/** kafkajs's errors, one line each on stderr, until shoal dev is being stopped. */
const kafkaErrors: logCreator = () => ({ namespace, log }) => {
  if (!platformStopping) process.stderr.write(`e2e bench: kafkajs ${namespace}: ${log.message}\n`);
};

function positiveNumbers(text: string, flag: string): number[] {
  const values = text.split(',').map((part) => Number(part.trim()));
  if (values.length === 0 || values.some((value) => !Number.isFinite(value) || value <= 0)) throw new Error(`${flag} takes positive numbers separated by commas, not '${text}'`);
  return values;
}

function planFrom(argv: string[]): Plan | 'help' {
  const { values } = parseArgs({
    // A bare --postgres (no URL): a server the bench starts.
    args: argv.map((arg) => (arg === '--postgres' ? '--postgres=' : arg)),
    options: {
      quick: { type: 'boolean', default: false },
      orders: { type: 'string' },
      concurrency: { type: 'string' },
      rate: { type: 'string' },
      duration: { type: 'string' },
      'cpu-prof-dir': { type: 'string' },
      log: { type: 'string' },
      'apache-kafka': { type: 'boolean', default: false },
      tracing: { type: 'boolean', default: false },
      postgres: { type: 'string' },
      replicas: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return 'help';
  const quick = values.quick;
  const [orders] = positiveNumbers(values.orders ?? (quick ? '600' : '3000'), '--orders');
  const [concurrency] = positiveNumbers(values.concurrency ?? '64', '--concurrency');
  const rates = positiveNumbers(values.rate ?? (quick ? '100' : '100,300'), '--rate');
  const durations = positiveNumbers(values.duration ?? (quick ? '10' : '30,10'), '--duration');
  const [replicas] = positiveNumbers(values.replicas ?? '2', '--replicas');
  if (values.replicas !== undefined && values.postgres === undefined) throw new Error('--replicas needs --postgres');
  if (values.postgres !== undefined && values.postgres !== '' && !/^postgres(ql)?:\/\//.test(values.postgres)) throw new Error(`--postgres takes a postgres:// URL, not '${values.postgres}'`);
  return {
    quick,
    orders: Math.round(orders!),
    concurrency: Math.round(concurrency!),
    warmupOrders: quick ? 600 : Math.round(orders!),
    rates: rates.map((rate, i) => ({ rate, seconds: durations[Math.min(i, durations.length - 1)]! })),
    hopSeconds: quick ? 5 : 10,
    cpuProfDir: values['cpu-prof-dir'] === undefined ? undefined : resolve(values['cpu-prof-dir']),
    logFile: values.log === undefined ? undefined : resolve(values.log),
    apacheKafka: values['apache-kafka'],
    tracing: values.tracing,
    postgres: values.postgres,
    replicas: Math.max(1, Math.round(replicas!)),
  };
}

/** The running platform and what the phases share. */
interface Bench {
  dev: ShoalDev;
  kafka: Kafka;
  /** The embedded broker's request counts; undefined on Apache Kafka, which is not asked. */
  brokerMetrics: string | undefined;
  watch: ArrivalWatch;
  traffic: OrderTraffic;
  problems: string[];
  /** When each phase ran, in µs of the monotonic clock that V8's CPU profiles use too. */
  phases: Array<{ phase: string; fromUs: number; toUs: number }>;
  /** Processes counted besides the platform's (the console of the console phase). */
  extraProcesses: Map<string, number>;
}

const monotonicMicros = () => Number(process.hrtime.bigint() / 1000n);

/** Runs `work` as phase `phase` of the run (its span goes into phases.json beside CPU profiles). */
async function phase<T>(bench: Bench, name: string, work: () => Promise<T>): Promise<T> {
  const fromUs = monotonicMicros();
  try {
    return await work();
  } finally {
    bench.phases.push({ phase: name, fromUs, toUs: monotonicMicros() });
  }
}

async function main(): Promise<number> {
  let plan: Plan | 'help';
  try {
    plan = planFrom(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`e2e bench: ${(error as Error).message}\n\n${usage}`);
    return 2;
  }
  if (plan === 'help') {
    process.stdout.write(usage);
    return 0;
  }
  const loadBefore = loadavg()[0]!;
  if (plan.tracing) return tracingCost(plan, loadBefore);
  if (plan.postgres !== undefined) return storeComparison(plan, loadBefore);
  const dataDir = mkdtempSync(join(tmpdir(), 'shoal-e2e-bench-'));
  let dev: ShoalDev | undefined;
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      platformStopping = true;
      if (dev !== undefined) {
        const code = await dev.stop();
        if (plan.logFile !== undefined) writeFileSync(plan.logFile, dev.output());
        if (code !== 0) process.stderr.write(`e2e bench: shoal dev exited with ${code} when stopped\n${dev.output().slice(-4000)}\n`);
      }
      await apacheKafka?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    })());
  process.once('SIGINT', () => {
    progress('interrupted: stopping shoal dev');
    void stop().finally(() => process.exit(130));
  });

  try {
    if (plan.apacheKafka) {
      progress(`starting Apache Kafka ${KAFKA_VERSION}`);
      apacheKafka = await startApacheKafka({ dataDir: join(dataDir, 'apache-kafka'), heapMb: 1024 });
    }
    progress(`starting shoal dev on ${dataDir}`);
    const started = performance.now();
    dev = await startPlatform(dataDir, { SHIPPING_AUTO_DISPATCH_MS: '0', ...(plan.cpuProfDir === undefined ? {} : profilingEnv(plan.cpuProfDir)) }, apacheKafka === undefined ? [] : ['--brokers', apacheKafka.bootstrap]);
    progress(`shoal dev ready in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    const bench = await prepare(dev);
    try {
      return await run(bench, plan, loadBefore);
    } finally {
      bench.traffic.close();
      await bench.watch.stop();
    }
  } catch (error) {
    if (dev !== undefined) process.stderr.write(`e2e bench: shoal dev's last output:\n${dev.output().slice(-6000)}\n`);
    throw error;
  } finally {
    progress('stopping shoal dev');
    await stop();
  }
}

/** shoal dev on free ports, its services logging warnings only. */
function startPlatform(dataDir: string, env: Record<string, string>, args: string[], store: { postgres?: string; replicas?: number } = {}): Promise<ShoalDev> {
  // Request counts come from the embedded broker; Apache Kafka is not asked.
  // The console only in the phase that measures it.
  return startShoalDev({ dataDir, logLevel: 'warn', env, args: [...args, '--no-console'], brokerMetrics: args.length === 0, readyTimeoutMs: 300_000, ...store });
}

/** The broker's request counts by client and API now; none on Apache Kafka. */
function requestsOf(bench: Bench): Promise<Awaited<ReturnType<typeof readBrokerRequests>>> {
  return bench.brokerMetrics === undefined ? Promise.resolve(new Map()) : readBrokerRequests(bench.brokerMetrics);
}

/** The Apache Kafka of --apache-kafka, stopped after shoal dev. */
let apacheKafka: ApacheKafka | undefined;

/**
 * The environment that makes shoal dev and every service write a CPU profile (cpu-profile-preload.ts). tsx
 * first: NODE_OPTIONS comes before the command line's own `--import tsx`.
 */
function profilingEnv(dir: string): Record<string, string> {
  mkdirSync(dir, { recursive: true });
  const preload = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), 'cpu-profile-preload.ts')).href;
  return { SHOAL_CPU_PROF_DIR: dir, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import tsx --import ${preload}`.trim() };
}

/** Stock and credit for every order to go through, the confirmation watch, the order traffic. */
async function prepare(dev: ShoalDev): Promise<Bench> {
  const shop = new Shop((service) => dev.url(service));
  for (const sku of SKUS) await shop.setStock(sku, STOCK);
  for (const customer of CUSTOMERS) await shop.setLimit(customer, CREDIT_LIMIT, 'EUR');
  // ERROR only: kafkajs warns at every rebalance of the scratch groups.
  const kafka = new Kafka({ clientId: BENCH_CLIENT, brokers: [dev.ready.broker], logLevel: logLevel.ERROR, logCreator: kafkaErrors });
  // OrderConfirmed first: the type the watch waits for unless told otherwise.
  const watch = await startArrivalWatch({
    kafka,
    topics: [...new Set(FLOW.map((step) => step.topic))],
    groupId: `${BENCH_PREFIX}-flow-${Date.now()}`,
    eventTypes: [CONFIRMED, ...FLOW.map((step) => step.type).filter((type) => type !== CONFIRMED)],
  });
  const traffic = new OrderTraffic({ url: dev.instancesOf('orders').map((instance) => instance.url), skus: SKUS, customers: CUSTOMERS });
  const brokerMetrics = dev.ready.brokerMetrics;
  if (brokerMetrics === undefined && apacheKafka === undefined) throw new Error('shoal dev did not say where its broker serves GET /metrics (--broker-metrics-port)');
  return { dev, kafka, brokerMetrics, watch, traffic, problems: [], phases: [], extraProcesses: new Map() };
}

async function run(bench: Bench, plan: Plan, loadBefore: number): Promise<number> {
  progress(`warming up with ${count(plan.warmupOrders)} orders`);
  await phase(bench, 'warm-up', async () => {
    const warmup = await bench.traffic.closedLoop(plan.warmupOrders, plan.concurrency);
    await confirmed(bench, 'warm-up', warmup.orders, warmup.failures);
    await idle(bench, 'warm-up');
  });

  const { throughput, cpu, idleSeconds, requests } = await phase(bench, 'throughput', () => throughputPhase(bench, plan));
  const latency: LatencyFigures[] = [];
  for (const { rate, seconds } of plan.rates) latency.push(await phase(bench, `latency at ${rate}/s`, () => latencyPhase(bench, rate, seconds)));
  const consoleCost = await phase(bench, 'console', () => consolePhase(bench, plan));

  const baselines = new KafkaBaselines(bench.kafka, CONFIRM_TIMEOUT_MS);
  const hopRate = plan.rates[0]!.rate;
  progress(`baseline: raw kafkajs produce -> consume, ${count(hopRate)}/s for ${plan.hopSeconds} s`);
  const hop = await phase(bench, 'baseline: raw hop', () => baselines.hopLatency(hopRate, plan.hopSeconds));
  progress(`baseline: raw kafkajs chain of 3 relays, ${count(plan.orders)} records`);
  const chainPids = new Map([['shoal dev (broker, registry)', bench.dev.child.pid!], ['this benchmark', process.pid]]);
  const cpuBeforeChain = readCpu(chainPids);
  const chain = await phase(bench, 'baseline: raw chain', () => baselines.relayChain(plan.orders));
  const chainCpu = [...cpuUsedBetween(cpuBeforeChain, readCpu(chainPids)).values()].reduce<number | undefined>((sum, seconds) => (sum === undefined || seconds === undefined ? undefined : sum + seconds), 0);
  if (plan.cpuProfDir !== undefined) writeFileSync(join(plan.cpuProfDir, 'phases.json'), `${JSON.stringify(bench.phases, null, 2)}\n`);
  if (hop.missing + chain.missing > 0) bench.problems.push(`raw kafkajs baselines lost records: ${hop.missing} of the hop run, ${chain.missing} of the chain`);

  const figures = {
    throughput,
    idleSeconds,
    cpu,
    latency,
    baselines: { hop: { rate: hopRate, seconds: plan.hopSeconds, samplesMs: hop.latenciesMs, missing: hop.missing }, chain: { ...chain, cpuSeconds: chainCpu } },
    requests: [{ phase: 'throughput', ...requests }, ...latency.map((run) => ({ phase: `${count(run.rate)}/s`, ...run.requests }))],
  };
  const { table, goalsMet, goalsChecked } = figuresTable(figures);
  const lateness = latency.map((run) => `${count(run.rate)}/s: ${run.maxLateMs.toFixed(1)} ms`).join(', ');
  process.stdout.write(
    [
      '',
      `Shoal end-to-end benchmark: the whole choreography under shoal dev on ${apacheKafka === undefined ? 'the embedded broker' : `Apache Kafka ${apacheKafka.version} (--apache-kafka, 1 GiB heap)`}${plan.quick ? ' (--quick: smaller, noisier)' : ''}`,
      `node ${process.version}, ${availableParallelism()} cores, 1-min load average ${loadBefore.toFixed(2)} before and ${loadavg()[0]!.toFixed(2)} after the run`,
      `shoal dev on a fresh data dir, services at LOG_LEVEL=warn, ${SKUS.length} skus, ${CUSTOMERS.length} customers; every order is confirmed (PLACED -> CONFIRMED, 4 event hops)`,
      `confirmation = OrderConfirmed arriving at a kafkajs consumer in this process; open-loop sender at most ${lateness} behind schedule`,
      '',
      table,
      '',
      ...baselineLines(figures.baselines),
      '',
      ...latency.flatMap((run) => [
        `Where place -> confirmed goes at ${count(run.rate)}/s: each event from its cause (its predecessor arriving here; for OrderPlaced the scheduled`,
        'send) to its arrival here, split at its ce_time (when the service created it: fetched, decoded, handling) into the way to the',
        'handler and the way out (commit, outbox relay, broker, the fetch here); ms resolution',
        stepsTable(run),
        '',
      ]),
      `CPU during the throughput phase (/proc/<pid>/stat): ${throughput.seconds.toFixed(2)} s to the last confirmation, ${idleSeconds.toFixed(2)} s until idle; and per order during each latency phase, from its first POST until idle`,
      cpuTable(figures),
      '',
      `Broker requests per order, by Kafka API: the platform's clients (shoal dev and the services), from the first POST until idle; the benchmark's own clients apart`,
      requestsTable(figures),
      '',
      consoleLine(consoleCost),
      '',
      `goals met: ${goalsMet + ((consolePercent(consoleCost) ?? Number.POSITIVE_INFINITY) <= CONSOLE_GOAL_PERCENT ? 1 : 0)} of ${goalsChecked + 1}`,
      '',
    ].join('\n'),
  );
  if (bench.problems.length > 0) {
    process.stderr.write(`e2e bench: the run is not valid:\n${bench.problems.map((problem) => `  - ${problem}`).join('\n')}\n`);
    return 1;
  }
  return 0;
}

/**
 * Tracing's price in the same run: the warm-up and the throughput phase on a fresh platform with tracing off,
 * then on another with every service exporting its spans (OTLP/HTTP protobuf, the default protocol) to a
 * receiver in this process, which decodes each export and counts its spans.
 */
async function tracingCost(plan: Plan, loadBefore: number): Promise<number> {
  const receiver = await startOtlpReceiver({ closeWithTest: false, keepSpans: false });
  const sides: Array<{ name: string; env: Record<string, string> }> = [
    { name: 'tracing off', env: {} },
    { name: 'tracing on', env: { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' } },
  ];
  const results: TracingSide[] = [];
  const problems: string[] = [];
  try {
    for (const side of sides) {
      let spansBefore = 0;
      const measured = await throughputOnFreshPlatform(plan, side.name, side.env, {}, () => {
        // The exporters' delay is a second: what the warm-up exported has arrived once the platform is idle.
        spansBefore = receiver.spanCount();
      });
      results.push({ ...measured, spans: receiver.spanCount() - spansBefore });
      problems.push(...measured.problems);
    }
  } finally {
    await receiver.close();
  }
  process.stdout.write(
    [
      '',
      `Shoal end-to-end benchmark, tracing's cost: the throughput phase (${count(plan.orders)} orders, ${plan.concurrency} in flight, after a warm-up of ${count(plan.warmupOrders)}) on the embedded broker${plan.quick ? ' (--quick: smaller, noisier)' : ''}`,
      `node ${process.version}, ${availableParallelism()} cores, 1-min load average ${loadBefore.toFixed(2)} before and ${loadavg()[0]!.toFixed(2)} after the run; a fresh shoal dev for each side, off first`,
      '',
      tracingTable(results),
      '',
    ].join('\n'),
  );
  if (problems.length > 0) {
    process.stderr.write(`e2e bench: the run is not valid:\n${problems.map((problem) => `  - ${problem}`).join('\n')}\n`);
    return 1;
  }
  return 0;
}

/**
 * A fresh shoal dev (on `store`), its warm-up, then the throughput phase (`beforeThroughput` runs just before
 * it); stopped and deleted afterwards. The figures of the phase and the run's problems.
 */
async function throughputOnFreshPlatform(
  plan: Plan,
  name: string,
  env: Record<string, string>,
  store: { postgres?: string; replicas?: number },
  beforeThroughput: () => void = () => undefined,
): Promise<{ name: string; throughput: ThroughputFigures; cpu: CpuFigure[]; cpuMsPerOrder: number | undefined; problems: string[] }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'shoal-e2e-bench-'));
  progress(`${name}: starting shoal dev on ${dataDir}`);
  const profiles = plan.cpuProfDir === undefined ? {} : profilingEnv(join(plan.cpuProfDir, name.replace(/\W+/g, '-')));
  const dev = await startPlatform(dataDir, { SHIPPING_AUTO_DISPATCH_MS: '0', ...profiles, ...env }, [], store);
  const bench = await prepare(dev);
  try {
    progress(`${name}: warming up with ${count(plan.warmupOrders)} orders`);
    const warmup = await bench.traffic.closedLoop(plan.warmupOrders, plan.concurrency);
    await confirmed(bench, `${name}: warm-up`, warmup.orders, warmup.failures);
    await idle(bench, `${name}: warm-up`);
    beforeThroughput();
    const { throughput, cpu } = await throughputPhase(bench, plan);
    const cpuSeconds = cpu.reduce<number | undefined>((sum, row) => (sum === undefined || row.untilIdle === undefined ? undefined : sum + row.untilIdle), 0);
    return { name, throughput, cpu, cpuMsPerOrder: cpuSeconds === undefined ? undefined : (cpuSeconds * 1000) / throughput.orders, problems: bench.problems };
  } finally {
    bench.traffic.close();
    await bench.watch.stop();
    platformStopping = true;
    await dev.stop();
    platformStopping = false;
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * `--postgres`: the throughput phase on SQLite, on PostgreSQL with one instance of each service, and with
 * `--replicas` of each, every side on a fresh platform and fresh databases.
 */
async function storeComparison(plan: Plan, loadBefore: number): Promise<number> {
  let server: PostgresServer | undefined;
  if (plan.postgres === '') {
    progress('starting a durable PostgreSQL (fsync on)');
    server = await startPostgres({ durable: true });
  }
  const url = server?.url() ?? plan.postgres!;
  const sides: Array<{ name: string; judged: boolean; store: { postgres?: string; replicas?: number } }> = [
    { name: 'SQLite, one instance each', judged: false, store: {} },
    { name: 'PostgreSQL, one instance each', judged: true, store: { postgres: url } },
    ...(plan.replicas > 1 ? [{ name: `PostgreSQL, ${plan.replicas} instances each`, judged: false, store: { postgres: url, replicas: plan.replicas } }] : []),
  ];
  const results: Array<StoreSide & { cpu: CpuFigure[] }> = [];
  const problems: string[] = [];
  try {
    for (const side of sides) {
      if (side.store.postgres !== undefined) await dropServiceDatabases(side.store.postgres);
      const measured = await throughputOnFreshPlatform(plan, side.name, {}, side.store);
      results.push({ ...measured, judged: side.judged });
      problems.push(...measured.problems);
    }
  } finally {
    await server?.stop();
  }
  process.stdout.write(
    [
      '',
      `Shoal end-to-end benchmark, the stores: the throughput phase (${count(plan.orders)} orders, ${plan.concurrency} in flight, after a warm-up of ${count(plan.warmupOrders)}) on the embedded broker${plan.quick ? ' (--quick: smaller, noisier)' : ''}`,
      `node ${process.version}, ${availableParallelism()} cores, 1-min load average ${loadBefore.toFixed(2)} before and ${loadavg()[0]!.toFixed(2)} after the run; a fresh shoal dev for each side, in this order`,
      `PostgreSQL ${server === undefined ? `at ${url.replace(/:[^:@/]*@/, ':***@')}` : `${server.version}, started by the bench, durable (fsync and synchronous commit on)`}`,
      '',
      storeTable(results),
      '',
    ].join('\n'),
  );
  if (problems.length > 0) {
    process.stderr.write(`e2e bench: the run is not valid:\n${problems.map((problem) => `  - ${problem}`).join('\n')}\n`);
    return 1;
  }
  return 0;
}

/** Drops the services' databases (and nothing else) on the server, so that a side starts on empty ones. */
async function dropServiceDatabases(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const service of SERVICES) await client.query(`DROP DATABASE IF EXISTS ${serviceDatabaseName(service)} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

/** Every process whose CPU a phase counts: each instance of each service, shoal dev (broker and registry), this benchmark. */
function processesOf(bench: Bench): Map<string, number> {
  return new Map<string, number>([
    ...bench.extraProcesses,
    ...SERVICES.flatMap((service) => bench.dev.instancesOf(service).map((instance) => [instance.name, instance.pid] as const)),
    [apacheKafka === undefined ? 'shoal dev (broker, registry)' : 'shoal dev (registry)', bench.dev.child.pid!],
    ...(apacheKafka === undefined ? [] : [[`Apache Kafka ${apacheKafka.version}`, apacheKafka.pid] as const]),
    ['this benchmark', process.pid],
  ]);
}

/** The console may cost at most this much more CPU per order, all processes together. */
const CONSOLE_GOAL_PERCENT = 5;

interface ConsoleCost {
  rate: number;
  seconds: number;
  rounds: number;
  /** CPU ms per order of every process, without and with the console. */
  withoutMs: number | undefined;
  withMs: number | undefined;
  /** The console process's own share, ms per order. */
  consoleMs: number | undefined;
  extraPercent: number | undefined;
  /** The console's own process as a share of the CPU per order without it. */
  ownPercent: number | undefined;
}

/**
 * The console's cost as the goal judges it: the larger of the measured difference and its own process's share,
 * since the difference of two runs on a shared machine can be smaller than what the console alone used.
 */
function consolePercent(cost: ConsoleCost): number | undefined {
  return cost.extraPercent === undefined || cost.ownPercent === undefined ? undefined : Math.max(cost.extraPercent, cost.ownPercent);
}

/** Rounds of the console phase: each runs the first rate without, then with, a console; alternating evens out drifts in the machine's load. */
const CONSOLE_ROUNDS = 2;

/** The same latency run without, then with, a console reading every topic, in rounds; CPU per order of all processes. */
async function consolePhase(bench: Bench, plan: Plan): Promise<ConsoleCost> {
  const { rate, seconds } = plan.rates[0]!;
  const totals = { withoutSeconds: 0, withoutOrders: 0, withSeconds: 0, withOrders: 0, consoleSeconds: 0, readable: true };
  const add = (run: LatencyFigures, side: 'without' | 'with') => {
    const values = [...run.cpu.values()];
    if (values.some((value) => value === undefined)) totals.readable = false;
    totals[`${side}Seconds`] += values.reduce<number>((sum, value) => sum + (value ?? 0), 0);
    totals[`${side}Orders`] += run.samplesMs.length - run.missing;
  };
  for (let round = 1; round <= CONSOLE_ROUNDS; round += 1) {
    progress(`console, round ${round} of ${CONSOLE_ROUNDS}: ${count(rate)}/s for ${seconds} s without the console`);
    add(await latencyPhase(bench, rate, seconds), 'without');
    const consoleProcess = await startConsole(bench);
    try {
      progress(`console, round ${round} of ${CONSOLE_ROUNDS}: ${count(rate)}/s for ${seconds} s with the console`);
      bench.extraProcesses.set('console', consoleProcess.child.pid!);
      const withConsole = await latencyPhase(bench, rate, seconds);
      add(withConsole, 'with');
      const own = withConsole.cpu.get('console');
      if (own === undefined) totals.readable = false;
      totals.consoleSeconds += own ?? 0;
    } finally {
      bench.extraProcesses.delete('console');
      consoleProcess.child.kill('SIGINT');
      await consoleProcess.exited;
    }
  }
  if (!totals.readable) return { rate, seconds, rounds: CONSOLE_ROUNDS, withoutMs: undefined, withMs: undefined, consoleMs: undefined, extraPercent: undefined, ownPercent: undefined };
  const withoutMs = (totals.withoutSeconds * 1000) / totals.withoutOrders;
  const withMs = (totals.withSeconds * 1000) / totals.withOrders;
  const consoleMs = (totals.consoleSeconds * 1000) / totals.withOrders;
  return { rate, seconds, rounds: CONSOLE_ROUNDS, withoutMs, withMs, consoleMs, extraPercent: ((withMs - withoutMs) / withoutMs) * 100, ownPercent: (consoleMs / withoutMs) * 100 };
}

/** The console as shoal dev would run it, on a free port, once it has read every topic to its end. */
async function startConsole(bench: Bench): Promise<{ child: ChildProcess; exited: Promise<unknown> }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', discoverConsole().main], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env,
      KAFKA_BROKERS: bench.dev.ready.broker,
      SCHEMA_REGISTRY_URL: bench.dev.ready.registry,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      SHOAL_DATA_DIR: bench.dev.ready.dataDir,
      SHOAL_CONSOLE_SERVICES: SERVICES.map((service) => `${service}=${bench.dev.adminUrl(service)}`).join(','),
    },
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const deadline = performance.now() + IDLE_TIMEOUT_MS;
  for (;;) {
    const status = await fetch(`http://127.0.0.1:${port}/api/status`, { signal: AbortSignal.timeout(2_000) })
      .then((response) => (response.ok ? (response.json() as Promise<{ traffic: { caughtUp: boolean }; index: { events: number } }>) : undefined))
      .catch(() => undefined);
    if (status?.traffic.caughtUp === true) {
      progress(`console: caught up with ${count(status.index.events)} events`);
      return { child, exited };
    }
    if (child.exitCode !== null || performance.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the console did not catch up within ${IDLE_TIMEOUT_MS / 1000} s (exit code ${child.exitCode})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function consoleLine(cost: ConsoleCost): string {
  const ms = (value: number | undefined) => (value === undefined ? '-' : `${value.toFixed(2)} ms`);
  const extra = cost.extraPercent === undefined ? '-' : `${cost.extraPercent >= 0 ? '+' : ''}${cost.extraPercent.toFixed(1)} %`;
  const judged = consolePercent(cost);
  const met = judged !== undefined && judged <= CONSOLE_GOAL_PERCENT ? 'met' : 'NOT met';
  const own = cost.ownPercent === undefined ? '-' : `${cost.ownPercent.toFixed(1)} %`;
  return [
    `The console's cost at ${count(cost.rate)}/s for ${cost.seconds} s, ${cost.rounds} rounds of the same run without then with it: CPU per order of every process ${ms(cost.withoutMs)} without the console,`,
    `${ms(cost.withMs)} with it (${extra}); the console's own process ${ms(cost.consoleMs)} per order (${own} of the CPU without it);`,
    `goal <= +${CONSOLE_GOAL_PERCENT} %, judged on the larger of the two: ${met}`,
  ].join('\n');
}

async function throughputPhase(bench: Bench, plan: Plan): Promise<{ throughput: ThroughputFigures; cpu: CpuFigure[]; idleSeconds: number; requests: RequestFigures }> {
  progress(`throughput: ${count(plan.orders)} orders, ${plan.concurrency} in flight`);
  const pids = processesOf(bench);
  const requestsAtStart = await requestsOf(bench);
  const cpuAtStart = readCpu(pids);
  const run = await bench.traffic.closedLoop(plan.orders, plan.concurrency);
  const confirmations = await confirmed(bench, 'throughput', run.orders, run.failures);
  const cpuAtConfirmed = readCpu(pids);
  await idle(bench, 'throughput');
  const idleAt = performance.now();
  const cpuAtIdle = readCpu(pids);
  const requests = requestsBetween(requestsAtStart, await requestsOf(bench), run.orders.length);

  const firstSent = Math.min(...run.orders.map((order) => order.sentAt));
  const lastAnswered = Math.max(...run.orders.map((order) => order.answeredAt));
  const lastConfirmed = Math.max(...confirmations.filter((at) => Number.isFinite(at)));
  const answerToConfirm = run.orders.map((order, i) => confirmations[i]! - order.answeredAt).filter((lag) => Number.isFinite(lag));
  const untilConfirmed = cpuUsedBetween(cpuAtStart, cpuAtConfirmed);
  const untilIdle = cpuUsedBetween(cpuAtStart, cpuAtIdle);
  return {
    throughput: {
      orders: run.orders.length,
      concurrency: plan.concurrency,
      seconds: (lastConfirmed - firstSent) / 1000,
      postSeconds: (lastAnswered - firstSent) / 1000,
      drainMs: lastConfirmed - lastAnswered,
      meanAnswerToConfirmMs: answerToConfirm.reduce((sum, lag) => sum + lag, 0) / answerToConfirm.length,
      missing: confirmations.filter((at) => !Number.isFinite(at)).length,
    },
    cpu: [...pids].map(([name, pid]) => ({ process: name, pid, untilConfirmed: untilConfirmed.get(name), untilIdle: untilIdle.get(name) })),
    idleSeconds: (idleAt - firstSent) / 1000,
    requests,
  };
}

async function latencyPhase(bench: Bench, rate: number, seconds: number): Promise<LatencyFigures> {
  // Untimed, as the raw hop's first second: one order at a time takes other paths than the throughput phase's
  // batches, and TurboFan compiles them in the first seconds at a rate.
  progress(`latency: ${count(rate)} orders/s for ${LEAD_IN_SECONDS} s untimed, then ${seconds} s, open loop`);
  const leadIn = await bench.traffic.openLoop(rate, LEAD_IN_SECONDS);
  await confirmed(bench, `lead-in at ${rate}/s`, leadIn.orders, leadIn.failures);
  await idle(bench, `lead-in at ${rate}/s`);
  const pids = processesOf(bench);
  const requestsAtStart = await requestsOf(bench);
  const cpuAtStart = readCpu(pids);
  const run = await bench.traffic.openLoop(rate, seconds);
  const confirmations = await confirmed(bench, `latency at ${rate}/s`, run.orders, run.failures);
  await idle(bench, `latency at ${rate}/s`);
  const cpu = cpuUsedBetween(cpuAtStart, readCpu(pids));
  const requests = requestsBetween(requestsAtStart, await requestsOf(bench), run.orders.length);
  const samplesMs = run.orders.map((order, i) => confirmations[i]! - order.scheduledAt).sort((a, b) => a - b);
  // Per order and event: from its cause (the predecessor's arrival here; for the first, the scheduled send) to
  // its ce_time (the emitting service created it), and from then to its arrival here.
  const steps = FLOW.map((step, i) => {
    const arrived = bench.watch.arrivalsOf(step.type);
    const created = bench.watch.createdAtOf(step.type);
    const before = i === 0 ? undefined : bench.watch.arrivalsOf(FLOW[i - 1]!.type);
    const spans = run.orders.map((order) => {
      const from = before === undefined ? order.scheduledAt : (before.get(order.orderId) ?? Number.NaN);
      const to = arrived.get(order.orderId) ?? Number.NaN;
      const at = (created.get(order.orderId) ?? Number.NaN) - performance.timeOrigin;
      return { whole: to - from, untilCreated: at - from, afterCreated: to - at };
    });
    const sorted = (pick: (span: (typeof spans)[number]) => number) => spans.map(pick).filter((ms) => Number.isFinite(ms)).sort((a, b) => a - b);
    return {
      event: step.type.slice(step.type.lastIndexOf('.') + 1),
      by: step.by,
      samplesMs: sorted((span) => span.whole),
      untilCreatedMs: sorted((span) => span.untilCreated),
      afterCreatedMs: sorted((span) => span.afterCreated),
    };
  });
  const answers = run.orders.map((order) => order.answeredAt - order.scheduledAt).sort((a, b) => a - b);
  return { rate, seconds, samplesMs, missing: samplesMs.filter((ms) => !Number.isFinite(ms)).length, maxLateMs: run.maxLateMs, steps, answersMs: answers, requests, cpu };
}

/**
 * The arrival time of each order's OrderConfirmed (Infinity for one that did not arrive within the time limit),
 * in the order of `orders`. A refused POST or a missing confirmation makes the run invalid; both are noted.
 */
async function confirmed(bench: Bench, phase: string, orders: readonly PlacedOrder[], failures: readonly string[]): Promise<number[]> {
  if (failures.length > 0) bench.problems.push(`${phase}: ${count(failures.length)} POST /orders failed, the first: ${failures[0]}`);
  if (orders.length === 0) throw new Error(`${phase}: no order was placed; the first failure: ${failures[0]}`);
  const ids = orders.map((order) => order.orderId);
  if (!(await bench.watch.waitFor(ids, CONFIRM_TIMEOUT_MS))) {
    const missing = ids.filter((id) => !bench.watch.arrivalsOf().has(id));
    bench.problems.push(`${phase}: ${count(missing.length)} of ${count(ids.length)} orders not confirmed within ${CONFIRM_TIMEOUT_MS / 1000} s of the last POST, e.g. ${missing.slice(0, 3).join(', ')}`);
  }
  return ids.map((id) => bench.watch.arrivalsOf().get(id) ?? Number.POSITIVE_INFINITY);
}

async function idle(bench: Bench, phase: string): Promise<void> {
  const services = SERVICES.map((service) => bench.dev.adminUrl(service));
  const busy = await waitForIdle({ kafka: bench.kafka, services, ignorePrefix: BENCH_PREFIX, timeoutMs: IDLE_TIMEOUT_MS });
  if (busy !== undefined) bench.problems.push(`after ${phase}: the platform still had work in hand ${IDLE_TIMEOUT_MS / 1000} s later: ${busy}`);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`e2e bench failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
