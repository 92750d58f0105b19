import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pino, { type Logger } from 'pino';
import type { Kafka } from 'kafkajs';
import { startBrokerProcess, type BrokerProcess } from './broker-process.js';
import { createBenchKafka, createTopics, storedRecordCount } from './kafkajs-client.js';
import { consumeWithKafkajs, measureLatencyWithKafkajs } from './kafkajs-consume.js';
import { produceAndEncodeWithKafkajs, type ProduceWorkload } from './kafkajs-produce.js';
import { consumeWithKcat, produceWithKcat, writeRecordFile } from './kcat.js';
import { formatLatencyTable, formatTable, formatThroughputTable, messagesPerSecond, quantile, type GoalCheck, type LatencyRow, type ThroughputRow } from './report.js';
import { apacheKafkaMissingReason, KAFKA_VERSION } from '@shoal/apache-kafka';
import { residentMemory, startApacheKafkaTarget } from './apache-kafka-target.js';
import { produceWithPerfTest } from './perf-test.js';

/**
 * Broker benchmark: `npm run bench -- broker [--quick] [--cpu-prof-dir=<dir>]`.
 *
 * Starts a broker in a child process on a fresh temp dir, drives it from 127.0.0.1 with kafkajs (this
 * process), kcat and kafka-producer-perf-test (child processes), then does the same with Apache Kafka
 * (the pinned version, a JVM from Maven's jars) when Java and Maven are there; prints each broker's
 * tables and one side by side with the ratios and goals, and removes the brokers and their data. Every workload is bounded in count and time.
 * Exits 0 whether or not the goals are met; non-zero only when the benchmark itself fails.
 */
// `shoal bench` forwards only arguments that start with '-', hence --cpu-prof-dir=<dir> in one piece.
const usage = `Usage: shoal bench broker [--quick] [--cpu-prof-dir=<dir>] [--no-apache-kafka] [--kafka-heap-mb=<n>]

  --quick               every workload about 10x smaller (a smoke run; figures are noisier)
  --cpu-prof-dir=<dir>  write a V8 CPU profile of the broker process into <dir> (open in Chrome DevTools)
  --no-apache-kafka     only the embedded broker (otherwise every workload runs on Apache Kafka too)
  --kafka-heap-mb=<n>   Apache Kafka's JVM heap (default 1024, what kafka-server-start.sh gives it)
`;

const goals = {
  kcatProduceMsgPerSec: 300_000,
  kafkajsProduceMsgPerSec: 100_000,
  kafkajsProduceRatio: 0.6,
  kafkajsConsumeMsgPerSec: 100_000,
  latencyP99Ms: 5,
} as const;

const PARTITIONS = 3;
const RECORDS_PER_SEND = 1000;
const SENDS_IN_FLIGHT = 4;
const PRODUCE_ROUNDS = 5;
const KCAT_TARGET_SECONDS = 20;

function planFor(quick: boolean) {
  const scale = quick ? 0.1 : 1;
  return {
    kafkajsProduce: [
      { valueBytes: 100, sends: Math.round(300 * scale), warmupSends: Math.round(20 * scale), hasGoal: true },
      { valueBytes: 1024, sends: Math.round(100 * scale), warmupSends: Math.round(10 * scale), hasGoal: false },
    ],
    produceTimeLimitMs: 30_000,
    kcatRecords: Math.round(1_000_000 * scale),
    perfTestRecords: Math.round(1_000_000 * scale),
    kcatValueBytes: 100,
    processTimeLimitMs: (quick ? 20 : 60) * 1000,
    consumeTimeLimitMs: (quick ? 20 : 60) * 1000,
    latency: { ratePerSecond: 200, warmupMs: 1000 * scale, measureMs: 5000 * scale, maxWaitTimeInMs: 100, drainTimeoutMs: 5000, valueBytes: 100 },
  };
}
type Plan = ReturnType<typeof planFor>;

const kafkajsVersion = (createRequire(import.meta.url)('kafkajs/package.json') as { version: string }).version;
const progress = (message: string) => process.stderr.write(`broker bench: ${message}\n`);
const count = (n: number) => Math.round(n).toLocaleString('en-US');
const check = (text: string, met: boolean): GoalCheck => ({ text, met });

function parseOptions(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      'cpu-prof-dir': { type: 'string' },
      'no-apache-kafka': { type: 'boolean', default: false },
      'kafka-heap-mb': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  }).values;
}

interface TargetRun {
  name: string;
  throughput: ThroughputRow[];
  latency: LatencyRow[];
  msToFirstAnswer: number;
  /** Resident memory after the workloads, and its peak over the run. */
  memory: { rssBytes: number; peakBytes: number };
}

async function main(): Promise<number> {
  let values: ReturnType<typeof parseOptions>;
  try {
    values = parseOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`shoal bench broker: ${(error as Error).message}\n\n${usage}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  const plan = planFor(values.quick);
  // Other processes on the machine compete for the same cores; the load average says how much.
  const loadBefore = loadavg()[0]!;
  const logger = pino({ level: 'warn' }, pino.destination(2)).child({ module: 'broker-bench' });
  const workDir = mkdtempSync(join(tmpdir(), 'shoal-broker-bench-'));
  let broker: BrokerProcess | undefined;
  const cleanUp = async () => {
    await broker?.close();
    rmSync(workDir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanUp().finally(() => process.exit(130)));

  const kafkaMissing = values['no-apache-kafka'] ? '--no-apache-kafka' : apacheKafkaMissingReason();
  const runs: TargetRun[] = [];
  try {
    // One target at a time, each alone on the machine, with the same clients and workloads.
    progress('embedded broker');
    broker = await startBrokerProcess({ dataDir: join(workDir, 'broker'), ...(values['cpu-prof-dir'] ? { cpuProfDir: values['cpu-prof-dir'] } : {}) });
    runs.push(await runWorkloads('embedded broker', broker, plan, logger, workDir));
    await broker.close();
    broker = undefined;
    if (kafkaMissing === null) {
      progress(`Apache Kafka ${KAFKA_VERSION}`);
      broker = await startApacheKafkaTarget({ dataDir: join(workDir, 'apache-kafka'), heapMb: values['kafka-heap-mb'] === undefined ? 1024 : Number(values['kafka-heap-mb']) });
      runs.push(await runWorkloads(`Apache Kafka ${KAFKA_VERSION}`, broker, plan, logger, workDir));
      await broker.close();
      broker = undefined;
    }

    const [embedded, kafka] = runs as [TargetRun, TargetRun | undefined];
    const checked = [...embedded.throughput, ...embedded.latency].flatMap((row) => (row.goal ? [row.goal] : []));
    const comparison = kafka === undefined ? undefined : compareRuns(embedded, kafka);
    const compared = comparison?.goals ?? [];
    process.stdout.write(
      [
        '',
        `Shoal broker benchmark${values.quick ? ' (--quick: ~10x smaller, noisier)' : ''}`,
        `node ${process.version}, ${availableParallelism()} CPUs, 1-min load average ${loadBefore.toFixed(2)} before and ${loadavg()[0]!.toFixed(2)} after the run`,
        `broker in a child process; kafkajs ${kafkajsVersion} clients in the benchmark process; kcat (librdkafka) and kafka-producer-perf-test as separate processes; all on 127.0.0.1`,
        `kafkajs produce: ${count(RECORDS_PER_SEND)} records per producer.send, acks -1, no compression, ${SENDS_IN_FLIGHT} sends in flight, topics of ${PARTITIONS} partitions`,
        'ratio = kafkajs produce msg/s / kafkajs encode-only msg/s (the same requests encoded by kafkajs, not sent);',
        'MB/s counts record values only; CPU columns are shares of one core (broker: the broker process; client: this process for kafkajs,',
        'kcat and kafka-producer-perf-test for their rows), over 100% when GC and I/O threads run beside the main thread',
        ...runs.flatMap((run) => ['', `== ${run.name} ==`, '', formatThroughputTable(run.throughput), '', formatLatencyTable(run.latency)]),
        '',
        ...(comparison === undefined
          ? [`Apache Kafka not run: ${kafkaMissing}`]
          : [
              `== side by side: embedded broker vs Apache Kafka ${KAFKA_VERSION} (JVM heap ${values['kafka-heap-mb'] ?? 1024} MiB, G1), same clients, same machine, one after the other ==`,
              '',
              comparison.table,
            ]),
        '',
        `embedded broker goals met: ${checked.filter((g) => g.met).length} of ${checked.length}`,
        ...(comparison === undefined ? [] : [`side-by-side goals met: ${compared.filter((g) => g.met).length} of ${compared.length}`]),
        '',
      ].join('\n'),
    );
    return 0;
  } finally {
    await cleanUp();
  }
}

/** Every workload against one broker, in the order the single-broker benchmark always ran them. */
async function runWorkloads(name: string, broker: BrokerProcess, plan: Plan, logger: Logger, workDir: string): Promise<TargetRun> {
  const kafka = createBenchKafka(broker.bootstrap, logger);
  const throughput: ThroughputRow[] = [];
  for (const size of plan.kafkajsProduce) throughput.push(...(await kafkajsProduceRows(kafka, broker, plan, size)));
  const kcat = await kcatProduceRow(kafka, broker, plan, workDir);
  throughput.push(kcat.row);
  throughput.push(await perfTestRow(kafka, broker, plan));
  throughput.push(await kafkajsConsumeRow(kafka, broker, plan, kcat.topic, kcat.stored));
  throughput.push(await kcatConsumeRow(broker, plan, kcat.topic, kcat.stored));
  const latency = await latencyRows(kafka, plan);
  return { name, throughput, latency, msToFirstAnswer: broker.msToFirstAnswer, memory: residentMemory(broker.pid) };
}

async function perfTestRow(kafka: Kafka, broker: BrokerProcess, plan: Plan): Promise<ThroughputRow> {
  const topic = 'bench-perf-test';
  await createTopics(kafka, [topic], PARTITIONS);
  progress(`kafka-producer-perf-test, ${count(plan.perfTestRecords)} records`);
  const run = await produceWithPerfTest(broker, { topic, records: plan.perfTestRecords, recordBytes: 100, timeLimitMs: plan.processTimeLimitMs * 2 });
  const stored = await storedRecordCount(kafka, topic);
  return {
    workload: 'kafka-producer-perf-test, 100 B',
    messages: run.records,
    seconds: run.seconds,
    valueBytes: 100,
    ...(run.brokerCpu === undefined ? {} : { brokerCpu: run.brokerCpu }),
    ...(run.clientCpu === undefined ? {} : { clientCpu: run.clientCpu }),
    note: `acks=all, its default batching; its own figures: avg ${run.avgLatencyMs} ms, p99 ${run.p99LatencyMs} ms${stored === run.records ? '' : `; STORED ${count(stored)} OF ${count(run.records)}`}`,
  };
}

/** Embedded / Kafka for each workload both ran, with the side-by-side goals. */
function compareRuns(embedded: TargetRun, kafka: TargetRun): { table: string; goals: GoalCheck[] } {
  const goalsMet: GoalCheck[] = [];
  const rows: string[][] = [];
  const rate = (run: TargetRun, workload: string) => {
    const row = run.throughput.find((r) => r.workload === workload);
    return row === undefined ? Number.NaN : messagesPerSecond(row);
  };
  const produceWorkloads = new Set(['kafkajs produce, 100 B', 'kafkajs produce, 1 KiB', 'kcat produce, 100 B', 'kafka-producer-perf-test, 100 B']);
  for (const row of embedded.throughput) {
    if (row.workload.startsWith('  ')) continue;
    const mine = rate(embedded, row.workload);
    const theirs = rate(kafka, row.workload);
    const ratio = mine / theirs;
    const goal = produceWorkloads.has(row.workload) ? check('ratio >= 1.0', ratio >= 1) : undefined;
    if (goal) goalsMet.push(goal);
    rows.push([row.workload, `${count(mine)} msg/s`, `${count(theirs)} msg/s`, ratio.toFixed(2), goal?.text ?? '', goal ? (goal.met ? 'met' : 'NOT MET') : '']);
  }
  for (const row of embedded.latency) {
    const other = kafka.latency.find((r) => r.workload === row.workload);
    if (other === undefined) continue;
    const goal = row.workload === 'kafkajs produce -> consume' ? check('p99 <= Kafka p99', row.p99Ms <= other.p99Ms) : undefined;
    if (goal) goalsMet.push(goal);
    rows.push([`${row.workload}, p50`, `${row.p50Ms.toFixed(2)} ms`, `${other.p50Ms.toFixed(2)} ms`, (row.p50Ms / other.p50Ms).toFixed(2), '', '']);
    rows.push([`${row.workload}, p99`, `${row.p99Ms.toFixed(2)} ms`, `${other.p99Ms.toFixed(2)} ms`, (row.p99Ms / other.p99Ms).toFixed(2), goal?.text ?? '', goal ? (goal.met ? 'met' : 'NOT MET') : '']);
  }
  const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
  const memoryGoal = check('<= 0.25 of Kafka', embedded.memory.peakBytes <= kafka.memory.peakBytes / 4);
  goalsMet.push(memoryGoal);
  rows.push(['resident memory, after the workloads', mib(embedded.memory.rssBytes), mib(kafka.memory.rssBytes), (embedded.memory.rssBytes / kafka.memory.rssBytes).toFixed(2), '', '']);
  rows.push(['resident memory, peak', mib(embedded.memory.peakBytes), mib(kafka.memory.peakBytes), (embedded.memory.peakBytes / kafka.memory.peakBytes).toFixed(2), memoryGoal.text, memoryGoal.met ? 'met' : 'NOT MET']);
  rows.push(['time to first answer (process start -> ApiVersions)', `${embedded.msToFirstAnswer.toFixed(0)} ms`, `${kafka.msToFirstAnswer.toFixed(0)} ms`, (embedded.msToFirstAnswer / kafka.msToFirstAnswer).toFixed(2), '', '']);
  const table = formatTable(
    [
      { title: 'workload', align: 'left' },
      { title: 'embedded', align: 'right' },
      { title: 'Apache Kafka', align: 'right' },
      { title: 'ratio', align: 'right' },
      { title: 'goal', align: 'left' },
      { title: '', align: 'left' },
    ],
    rows,
  );
  return { table, goals: goalsMet };
}

async function kafkajsProduceRows(kafka: Kafka, broker: BrokerProcess, plan: Plan, size: Plan['kafkajsProduce'][number]): Promise<ThroughputRow[]> {
  const label = size.valueBytes >= 1024 ? `${size.valueBytes / 1024} KiB` : `${size.valueBytes} B`;
  const workload: ProduceWorkload = {
    topic: `bench-kafkajs-produce-${size.valueBytes}`,
    partitions: PARTITIONS,
    valueBytes: size.valueBytes,
    recordsPerSend: RECORDS_PER_SEND,
    sends: size.sends,
    warmupSends: size.warmupSends,
    concurrency: SENDS_IN_FLIGHT,
    rounds: PRODUCE_ROUNDS,
    timeLimitMs: plan.produceTimeLimitMs,
  };
  progress(`kafkajs produce ${label}`);
  await createTopics(kafka, [workload.topic], PARTITIONS);
  const { produced, encoded, warmupMessages } = await produceAndEncodeWithKafkajs(kafka, broker, workload);
  const stored = await storedRecordCount(kafka, workload.topic);
  const expectedStored = warmupMessages + produced.messages;

  const produceRate = messagesPerSecond(produced);
  const ratio = produceRate / messagesPerSecond(encoded);
  const notes = [`${SENDS_IN_FLIGHT} sends in flight; ${PRODUCE_ROUNDS} rounds alternating with encode-only`];
  if (produced.messages < workload.sends * RECORDS_PER_SEND) notes.push(`stopped at the ${plan.produceTimeLimitMs / 1000} s limit`);
  if (stored !== expectedStored) notes.push(`STORED ${count(stored)} OF ${count(expectedStored)} SENT`);
  const goalMet = produceRate >= goals.kafkajsProduceMsgPerSec && ratio >= goals.kafkajsProduceRatio && stored === expectedStored;
  return [
    {
      workload: `kafkajs produce, ${label}`,
      messages: produced.messages,
      seconds: produced.seconds,
      valueBytes: size.valueBytes,
      ...(produced.brokerCpu === undefined ? {} : { brokerCpu: produced.brokerCpu }),
      clientCpu: produced.clientCpu,
      ratio,
      ...(size.hasGoal ? { goal: check(`>= ${count(goals.kafkajsProduceMsgPerSec)} msg/s, ratio >= ${goals.kafkajsProduceRatio}`, goalMet) } : {}),
      note: notes.join('; '),
    },
    {
      workload: `  kafkajs encode-only, ${label}`,
      messages: encoded.messages,
      seconds: encoded.seconds,
      valueBytes: size.valueBytes,
      clientCpu: encoded.clientCpu,
      note: 'ceiling: Produce v7 requests encoded, not sent',
    },
  ];
}

/**
 * kcat produces up to plan.kcatRecords; a probe of a tenth of that first sizes the run to about
 * KCAT_TARGET_SECONDS, so a slow broker gives a shorter run, not a stalled benchmark.
 */
async function kcatProduceRow(kafka: Kafka, broker: BrokerProcess, plan: Plan, workDir: string): Promise<{ row: ThroughputRow; topic: string; stored: number }> {
  const probeTopic = 'bench-kcat-probe';
  const topic = 'bench-kcat-produce';
  await createTopics(kafka, [probeTopic, topic], PARTITIONS);

  const probeRecords = Math.round(plan.kcatRecords / 10);
  const probeFile = join(workDir, 'kcat-probe.txt');
  await writeRecordFile(probeFile, probeRecords, plan.kcatValueBytes);
  progress(`kcat produce probe, ${count(probeRecords)} records`);
  const probe = await produceWithKcat(broker, { topic: probeTopic, file: probeFile, timeLimitMs: plan.processTimeLimitMs });
  const probeRate = probe.timedOut ? 0 : probeRecords / probe.span.seconds;
  const records = Math.max(probeRecords, Math.min(plan.kcatRecords, Math.floor((probeRate * KCAT_TARGET_SECONDS) / 10_000) * 10_000));

  const file = join(workDir, 'kcat-records.txt');
  await writeRecordFile(file, records, plan.kcatValueBytes);
  progress(`kcat produce, ${count(records)} records`);
  const run = await produceWithKcat(broker, { topic, file, timeLimitMs: plan.processTimeLimitMs });
  const stored = await storedRecordCount(kafka, topic);

  const notes = ['linger.ms=5, batch.num.messages=10000'];
  if (records < plan.kcatRecords) notes.push(`${count(records)} not ${count(plan.kcatRecords)}: probe ran at ${count(probeRate)} msg/s`);
  if (run.timedOut) notes.push(`KILLED at the ${plan.processTimeLimitMs / 1000} s limit`);
  if (stored !== records) notes.push(`STORED ${count(stored)} OF ${count(records)}`);
  const rate = messagesPerSecond({ messages: stored, seconds: run.span.seconds });
  return {
    topic,
    stored,
    row: {
      workload: `kcat produce, ${plan.kcatValueBytes} B`,
      messages: stored,
      seconds: run.span.seconds,
      valueBytes: plan.kcatValueBytes,
      brokerCpu: run.span.brokerCpu,
      ...(run.span.clientCpu === undefined ? {} : { clientCpu: run.span.clientCpu }),
      goal: check(`>= ${count(goals.kcatProduceMsgPerSec)} msg/s`, rate >= goals.kcatProduceMsgPerSec && !run.timedOut && stored === records),
      note: notes.join('; '),
    },
  };
}

async function kafkajsConsumeRow(kafka: Kafka, broker: BrokerProcess, plan: Plan, topic: string, expected: number): Promise<ThroughputRow> {
  progress(`kafkajs consume, ${count(expected)} records`);
  const result = await consumeWithKafkajs(kafka, broker, { topic, groupId: 'bench-kafkajs-consume', expected, timeLimitMs: plan.consumeTimeLimitMs });
  const rate = messagesPerSecond({ messages: result.messages, seconds: result.span.seconds });
  return {
    workload: `kafkajs consume (eachBatch), ${plan.kcatValueBytes} B`,
    messages: result.messages,
    seconds: result.span.seconds,
    valueBytes: plan.kcatValueBytes,
    brokerCpu: result.span.brokerCpu,
    clientCpu: result.span.clientCpu,
    goal: check(`>= ${count(goals.kafkajsConsumeMsgPerSec)} msg/s`, result.complete && rate >= goals.kafkajsConsumeMsgPerSec),
    note: result.complete ? 'from group join to the last record; default fetch sizes' : `INCOMPLETE: ${count(result.messages)} of ${count(expected)} within ${plan.consumeTimeLimitMs / 1000} s`,
  };
}

async function kcatConsumeRow(broker: BrokerProcess, plan: Plan, topic: string, expected: number): Promise<ThroughputRow> {
  progress(`kcat consume, ${count(expected)} records`);
  const run = await consumeWithKcat(broker, { topic, expected, timeLimitMs: plan.processTimeLimitMs });
  const complete = !run.timedOut && run.lines === expected;
  return {
    workload: `kcat consume, ${plan.kcatValueBytes} B`,
    messages: run.lines,
    seconds: run.span.seconds,
    valueBytes: plan.kcatValueBytes,
    brokerCpu: run.span.brokerCpu,
    ...(run.span.clientCpu === undefined ? {} : { clientCpu: run.span.clientCpu }),
    note: complete ? '-C -o beginning -e, whole process' : `INCOMPLETE: ${count(run.lines)} of ${count(expected)}${run.timedOut ? `, killed at ${plan.processTimeLimitMs / 1000} s` : ''}`,
  };
}

async function latencyRows(kafka: Kafka, plan: Plan): Promise<LatencyRow[]> {
  const options = { ...plan.latency, topic: 'bench-latency', groupId: 'bench-latency' };
  progress(`latency, ${options.ratePerSecond} msg/s for ${options.measureMs / 1000} s after ${options.warmupMs / 1000} s of warm-up`);
  await createTopics(kafka, [options.topic], PARTITIONS);
  const result = await measureLatencyWithKafkajs(kafka, options);
  const received = result.endToEndMs.length;
  const endToEnd = result.endToEndMs;
  const conditions = `${options.ratePerSecond} msg/s, 1 message per send, acks -1, maxWaitTimeInMs ${options.maxWaitTimeInMs}`;
  return [
    {
      workload: 'kafkajs produce -> consume',
      messages: received,
      p50Ms: quantile(endToEnd, 0.5),
      p99Ms: quantile(endToEnd, 0.99),
      maxMs: endToEnd.at(-1) ?? Number.NaN,
      goal: check(`p99 <= ${goals.latencyP99Ms} ms`, received === result.sent && quantile(endToEnd, 0.99) <= goals.latencyP99Ms),
      note: received === result.sent ? conditions : `${conditions}; RECEIVED ${count(received)} OF ${count(result.sent)}`,
    },
    {
      workload: 'kafkajs producer.send -> ack',
      messages: result.ackMs.length,
      p50Ms: quantile(result.ackMs, 0.5),
      p99Ms: quantile(result.ackMs, 0.99),
      maxMs: result.ackMs.at(-1) ?? Number.NaN,
      note: 'the same sends',
    },
  ];
}

process.exitCode = await main();
