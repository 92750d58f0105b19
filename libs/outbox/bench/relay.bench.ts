import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Partitioners, type Kafka, type Message, type Producer } from 'kafkajs';
import type { EventCodec, ShoalEvent } from '@shoal/contract';
import { storedRecordCount } from '../../../infra/broker/bench/kafkajs-client.js';
import { formatLatencyTable, formatThroughputTable, quantile, type LatencyRow, type ThroughputRow } from '../../../infra/broker/bench/report.js';
import { startSpan, type Span } from '../../../infra/broker/bench/span.js';
import { SqliteServiceDatabase } from '@shoal/store-sqlite';
import { OutboxRelay } from '../src/index.js';
import { combineSpans, count, orderPlaced, progressOf, runBench, settlesWithin, type BenchPlatform, type Goal } from './bench-platform.js';

/**
 * Outbox relay benchmark: `npm run bench -- relay [--quick]`, also run by `npm run bench -- runtime`.
 *
 * A broker in a child process and a registry in this process on temp dirs (bench-platform.ts); every event is
 * an OrderPlaced (3 lines, an address) to `orders.order` (3 partitions), keyed by its order.
 *
 * Throughput, in interleaved rounds so that a change in the machine's load hits every workload alike:
 *   raw kafkajs            the baseline: an idempotent producer, acks -1, one request in flight (the relay's
 *                          guarantees), sending the SAME events, encoded beforehand, in batches of the
 *                          relay's batch size, one batch at a time as the relay does
 *   raw kafkajs + encode   the same, each batch encoded by the EventCodec just before it is sent
 *   outbox relay           the events committed into a ServiceDatabase outbox first (1-10 events per
 *                          transaction, one aggregate per transaction), then timed from the commit of the last
 *                          one to the relay's whenIdle(): read, encode, publish, move the position
 * Latency at moderate load: an open-loop writer commits one event per transaction at a fixed rate while the
 * relay runs; commit-to-publish is from `transact` resolving to `relay.flush()`, called right after the commit,
 * resolving: the broker acknowledged the batch holding the event and the relay moved its position. The baseline
 * sends each event with raw kafkajs at the same rate, one send per event, measured from the send to its ack.
 * Both writers keep their schedule whatever the acknowledgements do (open loop), so a slow ack queues work
 * instead of slowing the writer down and hiding the delay.
 *
 * Every workload's records are counted on the broker afterwards (high watermarks), so a figure cannot come
 * from events that never arrived. Exits 0 whether or not the goals are met; non-zero only when the benchmark
 * itself fails.
 */
const usage = `Usage: node --import tsx libs/outbox/bench/relay.bench.ts [--quick]

  --quick   10x fewer events, a 5x shorter latency run (a smoke run; figures are noisier)
`;

const goals = { relayEventsPerSecond: 20_000, overheadVsRawKafkajs: 2, commitToPublishP99Ms: 20 } as const;

const TOPIC = 'orders.order';
const ROUNDS = 2;
/** The relay's default batch size, which the raw producer mirrors. */
const BATCH_SIZE = 500;
const AGGREGATES = 10_000;
const MAX_EVENTS_PER_TRANSACTION = 10;
const TIME_LIMIT_MS = 120_000;

function planFor(quick: boolean) {
  return {
    /** Over all rounds, per throughput workload. */
    events: quick ? 10_000 : 100_000,
    warmupEvents: quick ? 1_000 : 5_000,
    latency: { ratePerSecond: 1_000, warmupMs: quick ? 500 : 1_000, measureMs: quick ? 2_000 : 10_000 },
  };
}
type Plan = ReturnType<typeof planFor>;

type OrderPlacedEvent = ShoalEvent<'shoal.orders.OrderPlaced'>;

const progress = progressOf('relay');

/**
 * `events` OrderPlaced events cut into transactions of 1-10 events (5.5 on average), each on one of AGGREGATES
 * orders; the sizes and orders follow fixed strides, so every run commits the same shapes.
 */
function transactions(events: number, seed: number): OrderPlacedEvent[][] {
  const result: OrderPlacedEvent[][] = [];
  for (let seq = 0, k = 0; seq < events; k++) {
    const size = Math.min(events - seq, 1 + ((k * 7 + seed) % MAX_EVENTS_PER_TRANSACTION));
    const orderId = `ord-${seed}-${(k * 7919) % AGGREGATES}`;
    result.push(Array.from({ length: size }, (_, i) => orderPlaced(seq + i, orderId)));
    seq += size;
  }
  return result;
}

/** A producer with the relay's guarantees (Publisher): idempotent, one request in flight, Kafka's partitioner. */
async function rawProducer(kafka: Kafka): Promise<Producer> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  return producer;
}

async function encodeAll(codec: EventCodec, events: readonly OrderPlacedEvent[]): Promise<Message[]> {
  const messages: Message[] = [];
  for (const event of events) messages.push(await codec.encode(event));
  return messages;
}

/** Sends each batch with one producer.send, waiting for its acknowledgement before the next (as the relay does). */
async function sendInBatches(producer: Producer, batches: ReadonlyArray<readonly Message[]>): Promise<void> {
  for (const messages of batches) await producer.send({ topic: TOPIC, acks: -1, messages: [...messages] });
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < items.length; i += size) result.push(items.slice(i, i + size));
  return result;
}

/** Records `run` added to the topic; a shortfall is reported beside the figure instead of being hidden. */
async function counted(platform: BenchPlatform, run: () => Promise<Span>): Promise<{ span: Span; stored: number }> {
  const before = await storedRecordCount(platform.kafka, TOPIC);
  const span = await run();
  return { span, stored: (await storedRecordCount(platform.kafka, TOPIC)) - before };
}

interface ThroughputFigures {
  raw: Span[];
  rawEncode: Span[];
  relay: Span[];
  commit: Span[];
  /** Events each workload got to the broker, as the high watermarks say; per round. */
  stored: { raw: number; rawEncode: number; relay: number };
  valueBytes: number;
}

async function throughput(platform: BenchPlatform, plan: Plan): Promise<ThroughputFigures> {
  const { kafka, broker } = platform;
  const producer = await rawProducer(kafka);
  const codec = platform.codec();
  const database = new SqliteServiceDatabase({ path: join(platform.workDir, 'throughput.db'), catalog: platform.catalog });
  const relay = new OutboxRelay({ database, kafka, codec: platform.codec(), batchSize: BATCH_SIZE });
  const figures: ThroughputFigures = { raw: [], rawEncode: [], relay: [], commit: [], stored: { raw: 0, rawEncode: 0, relay: 0 }, valueBytes: 0 };
  try {
    // Warm-up: JIT, connections, codec caches and the broker's first segments, for the producer and the relay alike.
    progress(`warming up with ${count(plan.warmupEvents)} events each`);
    const warmup = transactions(plan.warmupEvents, 1);
    await sendInBatches(producer, chunks(await encodeAll(codec, warmup.flat()), BATCH_SIZE));
    relay.start();
    await relay.whenIdle();
    await Promise.all(warmup.map((tx) => database.transact((t) => tx.forEach((event) => t.emit(event)))));
    await relay.whenIdle();

    const perRound = Math.ceil(plan.events / ROUNDS);
    for (let round = 1; round <= ROUNDS; round++) {
      // Each workload moves events of its own (ids must be new for the outbox), alike in size and keys.
      const rawEvents = transactions(perRound, 100 + round).flat();
      const rawEncodeEvents = transactions(perRound, 200 + round).flat();
      const relayTransactions = transactions(perRound, 300 + round);
      const rawMessages = await encodeAll(codec, rawEvents);
      figures.valueBytes = rawMessages.reduce((sum, m) => sum + (m.value as Buffer).length, 0) / rawMessages.length;

      progress(`round ${round} of ${ROUNDS}: raw kafkajs, ${count(perRound)} events`);
      const raw = await counted(platform, async () => {
        const timer = startSpan(broker, 'this-process');
        await sendInBatches(producer, chunks(rawMessages, BATCH_SIZE));
        return timer.stop();
      });
      figures.raw.push(raw.span);
      figures.stored.raw += raw.stored;

      progress(`round ${round} of ${ROUNDS}: raw kafkajs + encode, ${count(perRound)} events`);
      const rawEncode = await counted(platform, async () => {
        const timer = startSpan(broker, 'this-process');
        for (const batch of chunks(rawEncodeEvents, BATCH_SIZE)) await sendInBatches(producer, [await encodeAll(codec, batch)]);
        return timer.stop();
      });
      figures.rawEncode.push(rawEncode.span);
      figures.stored.rawEncode += rawEncode.stored;

      progress(`round ${round} of ${ROUNDS}: outbox relay, ${count(perRound)} events in ${count(relayTransactions.length)} transactions`);
      const relayed = await counted(platform, async () => {
        // All commits in one synchronous stretch (a transaction whose work does not await commits before
        // transact returns): the relay cannot start before the last one, so the timed part below is the
        // relay's work alone, from a full outbox to an empty one.
        const commitTimer = startSpan(broker, 'this-process');
        const commits = relayTransactions.map((tx) => database.transact((t) => tx.forEach((event) => t.emit(event))));
        await Promise.all(commits);
        figures.commit.push(await commitTimer.stop());
        const timer = startSpan(broker, 'this-process');
        if (!(await settlesWithin(relay.whenIdle(), TIME_LIMIT_MS))) throw new Error(`the relay did not empty the outbox within ${TIME_LIMIT_MS / 1000} s: ${JSON.stringify(await relay.status())}`);
        return timer.stop();
      });
      figures.relay.push(relayed.span);
      figures.stored.relay += relayed.stored;
    }
    const status = await relay.status();
    if (status.backlog !== 0 || status.lastError !== undefined) throw new Error(`the relay ended with a backlog or an error: ${JSON.stringify(status)}`);
    return figures;
  } finally {
    await relay.stop();
    await producer.disconnect();
    database.close();
  }
}

/** An open-loop run's latencies, ms ascending (warm-up excluded), and how far its writer fell behind schedule. */
interface OpenLoopRun {
  samplesMs: number[];
  maxLateMs: number;
}

/**
 * Calls `act(i)` for i = 0..n-1 at `ratePerSecond` on a fixed schedule from the start: a call that is due runs
 * even if earlier ones are unacknowledged. `act` returns a promise of the latency it measured, ms; those of the
 * first `warmup` calls are dropped. maxLateMs is the largest delay of a call behind its schedule (timer
 * granularity, event-loop stalls).
 */
async function openLoop(n: number, warmup: number, ratePerSecond: number, act: (i: number) => Promise<number>): Promise<OpenLoopRun> {
  const intervalMs = 1000 / ratePerSecond;
  const latencies: Array<Promise<number>> = [];
  const start = performance.now();
  let maxLateMs = 0;
  for (let i = 0; i < n; i++) {
    const due = start + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    maxLateMs = Math.max(maxLateMs, performance.now() - due);
    const latency = act(i);
    // Every promise is awaited below; until then a failure must not count as unhandled.
    latency.catch(() => undefined);
    latencies.push(latency);
  }
  const all = Promise.all(latencies);
  if (!(await settlesWithin(all, TIME_LIMIT_MS))) throw new Error(`the acknowledgements of an open-loop run did not all arrive within ${TIME_LIMIT_MS / 1000} s`);
  return { samplesMs: (await all).slice(warmup).sort((a, b) => a - b), maxLateMs };
}

interface LatencyFigures {
  relay: OpenLoopRun;
  raw: OpenLoopRun;
}

async function latency(platform: BenchPlatform, plan: Plan): Promise<LatencyFigures> {
  const { ratePerSecond, warmupMs, measureMs } = plan.latency;
  const warmup = Math.floor((ratePerSecond * warmupMs) / 1000);
  const expected = Math.floor((ratePerSecond * measureMs) / 1000);
  const seconds = `${(measureMs / 1000).toFixed(1)} s after ${(warmupMs / 1000).toFixed(1)} s of warm-up`;

  progress(`latency: outbox relay, ${count(ratePerSecond)} commits/s for ${seconds}`);
  const events = transactions(warmup + expected, 400).flat();
  const database = new SqliteServiceDatabase({ path: join(platform.workDir, 'latency.db'), catalog: platform.catalog });
  const relay = new OutboxRelay({ database, kafka: platform.kafka, codec: platform.codec(), batchSize: BATCH_SIZE });
  let relayRun: OpenLoopRun;
  try {
    relay.start();
    await relay.whenIdle();
    relayRun = await openLoop(events.length, warmup, ratePerSecond, async (i) => {
      await database.transact((tx) => tx.emit(events[i]!));
      const committedAt = performance.now();
      await relay.flush();
      return performance.now() - committedAt;
    });
  } finally {
    await relay.stop();
    database.close();
  }

  progress(`latency: raw kafkajs, ${count(ratePerSecond)} sends/s for ${seconds}`);
  const messages = await encodeAll(platform.codec(), transactions(warmup + expected, 500).flat());
  const producer = await rawProducer(platform.kafka);
  try {
    const rawRun = await openLoop(messages.length, warmup, ratePerSecond, (i) => {
      const sentAt = performance.now();
      return producer.send({ topic: TOPIC, acks: -1, messages: [messages[i]!] }).then(() => performance.now() - sentAt);
    });
    return { relay: relayRun, raw: rawRun };
  } finally {
    await producer.disconnect();
  }
}

function throughputReport(figures: ThroughputFigures, plan: Plan): { rows: ThroughputRow[]; goals: Goal[] } {
  const raw = combineSpans(figures.raw);
  const rawEncode = combineSpans(figures.rawEncode);
  const relay = combineSpans(figures.relay);
  const commit = combineSpans(figures.commit);
  const perRound = Math.ceil(plan.events / ROUNDS);
  const messages = perRound * ROUNDS;
  const shortfall = (stored: number) => (stored === messages ? [] : [`BROKER HOLDS ${count(stored)} OF ${count(messages)}`]);
  const relayRate = messages / relay.seconds;
  const ratio = relay.seconds / raw.seconds;
  const row = (workload: string, span: Span, extra: Partial<ThroughputRow>): ThroughputRow => ({
    workload,
    messages,
    seconds: span.seconds,
    valueBytes: figures.valueBytes,
    brokerCpu: span.brokerCpu,
    ...(span.clientCpu === undefined ? {} : { clientCpu: span.clientCpu }),
    ...extra,
  });
  const relayComplete = figures.stored.relay === messages;
  const rows = [
    row('raw kafkajs, pre-encoded', raw, { note: [`batches of ${BATCH_SIZE}, idempotent, acks -1, 1 in flight`, ...shortfall(figures.stored.raw)].join('; ') }),
    row('raw kafkajs + encode', rawEncode, { ratio: rawEncode.seconds / raw.seconds, note: ['EventCodec.encode per batch before its send', ...shortfall(figures.stored.rawEncode)].join('; ') }),
    row('outbox relay', relay, {
      ratio,
      note: ['from a full outbox to whenIdle(): read, encode, publish, move the position', ...shortfall(figures.stored.relay)].join('; '),
    }),
    { ...row('  commit into the outbox', commit, {}), brokerCpu: undefined, note: 'transact + emit, 1-10 events per transaction (not part of the relay figure)' },
  ];
  // A relay whose events did not all reach the broker meets nothing, whatever its speed.
  return {
    rows,
    goals: [
      { goal: `relay >= ${count(goals.relayEventsPerSecond)} events/s`, measured: `${count(relayRate)}/s`, met: relayComplete && relayRate >= goals.relayEventsPerSecond },
      { goal: `relay within ${goals.overheadVsRawKafkajs}x the time of raw kafkajs`, measured: `${ratio.toFixed(2)}x`, met: relayComplete && ratio <= goals.overheadVsRawKafkajs },
    ],
  };
}

function latencyReport(figures: LatencyFigures, plan: Plan): { rows: LatencyRow[]; goals: Goal[] } {
  const rate = `${count(plan.latency.ratePerSecond)}/s`;
  const row = (workload: string, run: OpenLoopRun, note: string): LatencyRow => ({
    workload,
    messages: run.samplesMs.length,
    p50Ms: quantile(run.samplesMs, 0.5),
    p99Ms: quantile(run.samplesMs, 0.99),
    maxMs: run.samplesMs[run.samplesMs.length - 1] ?? Number.NaN,
    note: `${rate}, ${note}; writer at most ${run.maxLateMs.toFixed(1)} ms behind schedule`,
  });
  const relay = row('outbox relay, commit -> published', figures.relay, '1 event per transaction, until flush() resolves');
  return {
    rows: [relay, row('raw kafkajs, send -> ack', figures.raw, '1 event per send, idempotent, acks -1')],
    goals: [{ goal: `relay p99 commit -> published <= ${goals.commitToPublishP99Ms} ms at ${rate}`, measured: `${relay.p99Ms.toFixed(2)} ms`, met: relay.p99Ms <= goals.commitToPublishP99Ms }],
  };
}

runBench({
  name: 'relay',
  title: 'Shoal outbox relay benchmark',
  usage,
  async run(platform, quick) {
    const plan = planFor(quick);
    const throughputResult = throughputReport(await throughput(platform, plan), plan);
    const latencyResult = latencyReport(await latency(platform, plan), plan);
    return {
      lines: [
        `broker in a child process, registry and clients in this one, on 127.0.0.1; OrderPlaced events to ${TOPIC} (3 partitions), keyed by order`,
        `throughput: ${ROUNDS} interleaved rounds per workload, after a warm-up; relay batch size ${BATCH_SIZE} (its default); ratio = seconds / raw kafkajs seconds`,
        'MB/s counts record values only; CPU columns are shares of one core (broker: the broker process; client: this process)',
        '',
        formatThroughputTable(throughputResult.rows),
        '',
        formatLatencyTable(latencyResult.rows),
      ],
      goals: [...throughputResult.goals, ...latencyResult.goals],
    };
  },
});
