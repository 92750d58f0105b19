import { join } from 'node:path';
import type { Statement } from 'better-sqlite3';
import type { KafkaMessage } from 'kafkajs';
import { type EventCodec } from '@shoal/contract';
import { Publisher } from '@shoal/transport';
import { SqliteServiceDatabase } from '@shoal/store-sqlite';
import { createTopics } from '../../../infra/broker/bench/kafkajs-client.js';
import { formatThroughputTable, type ThroughputRow } from '../../../infra/broker/bench/report.js';
import { startSpan, type Span, type SpanTimer } from '../../../infra/broker/bench/span.js';
import { eventually } from '@shoal/testing';
import { combineSpans, count, orderPlaced, progressOf, runBench, settlesWithin, type BenchPlatform, type Goal } from '../../outbox/bench/bench-platform.js';
import { ShoalError } from '@shoal/core';
import { subscribe, type Subscription } from '../src/index.js';

/**
 * Consumer runtime benchmark: `npm run bench -- consumer [--quick]`, also run by `npm run bench -- runtime`.
 *
 * A broker in a child process and a registry in this process on temp dirs (outbox/bench/bench-platform.ts).
 * `orders.order` (3 partitions) is filled with OrderPlaced events through the Publisher, and a second topic with
 * the very same records (same event ids). Each workload reads a topic from the beginning with a new consumer
 * group, timed from the group join to the last record, in interleaved rounds so that a change in the machine's
 * load hits every workload alike:
 *
 *   raw kafkajs          eachBatch counting records: the floor of any consumer
 *   kafkajs + decode     the same, each record decoded by the EventCodec: the baseline "consuming the same
 *                        events", what any consumer that reads the events has to do
 *   runtime, new events  subscribe() with one upsert per event into the service database, the inbox on (its
 *                        defaults: one transaction per 200 records)
 *   runtime, duplicates  the same group on the same database reading the copy topic: every event id is in
 *                        the inbox already, so every record is acknowledged as a duplicate without its handler
 *   runtime, no parking  "new events" with parkByKey: false: what parking costs a group that holds nothing
 *                        back (one index seek per run)
 *   runtime, a key parked  "new events" with the first event of one order failing (poison): that order's later
 *                        events are parked, and every other record's key is looked up among the parked ones
 *
 * The runtime's figures are checked, not assumed: each pass must count every record as handled (resp. as a
 * duplicate), and the read model must hold exactly one upsert per event. Goal (docs/benchmarks.md): the runtime
 * within 2x the time of raw kafkajs, checked against both baselines. Exits 0 whether or not it is met;
 * non-zero only when the benchmark itself fails.
 */
const usage = `Usage: node --import tsx libs/consumer/bench/consumer.bench.ts [--quick]

  --quick   10x fewer events (a smoke run; figures are noisier)
`;

const goals = { overhead: 2 } as const;

const TOPIC = 'orders.order';
const COPY_TOPIC = 'bench.orders-again';
const PARTITIONS = 3;
const ROUNDS = 2;
const ORDERS = 20_000;
const PUBLISH_BATCH = 2_000;
const TIME_LIMIT_MS = 120_000;

function planFor(quick: boolean) {
  return { events: quick ? 10_000 : 100_000, warmupEvents: quick ? 2_000 : 10_000 };
}

const progress = progressOf('consumer');

/** Publishes `events` OrderPlaced events (over ORDERS orders) to each of `topics`, the same records to each; returns the Avro value size. */
async function fill(platform: BenchPlatform, topics: readonly string[], events: number, seed: number): Promise<number> {
  const publisher = new Publisher({ kafka: platform.kafka, codec: platform.codec() });
  await publisher.connect();
  let valueBytes = 0;
  try {
    for (let from = 0; from < events; from += PUBLISH_BATCH) {
      const batch = Array.from({ length: Math.min(PUBLISH_BATCH, events - from) }, (_, i) => orderPlaced(from + i, `ord-${seed}-${(from + i) % ORDERS}`));
      for (const topic of topics) await publisher.publishBatch(batch, { topic });
    }
    valueBytes = (await platform.codec().encode(orderPlaced(0, `ord-${seed}-0`))).value!.length;
  } finally {
    await publisher.disconnect();
  }
  return valueBytes;
}

let groups = 0;
const newGroup = (name: string) => `bench-${name}-${++groups}`;

/**
 * Reads `topic` from the beginning with a new group until `expected` records arrived, calling `perRecord`
 * (awaiting it only when it returns a promise). From the group join to the batch holding the last record.
 */
async function consumeRaw(platform: BenchPlatform, topic: string, expected: number, perRecord: ((message: KafkaMessage) => unknown) | undefined): Promise<Span> {
  const consumer = platform.kafka.consumer({ groupId: newGroup('raw') });
  let timer: SpanTimer | undefined;
  let ended: Promise<Span> | undefined;
  let received = 0;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  consumer.on(consumer.events.GROUP_JOIN, () => {
    timer ??= startSpan(platform.broker, 'this-process');
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        if (perRecord !== undefined) {
          for (const message of batch.messages) {
            const result = perRecord(message);
            if (result instanceof Promise) await result;
          }
        }
        received += batch.messages.length;
        if (received >= expected && ended === undefined) {
          ended = timer!.stop();
          finish();
        }
      },
    });
    if (!(await settlesWithin(finished, TIME_LIMIT_MS))) throw new Error(`kafkajs read ${count(received)} of ${count(expected)} records of ${topic} within ${TIME_LIMIT_MS / 1000} s`);
    return await ended!;
  } finally {
    await consumer.disconnect();
  }
}

/** A service database whose read model takes one upsert per OrderPlaced: what a typical handler writes. */
function readModel(path: string, platform: BenchPlatform): { database: SqliteServiceDatabase; upsert: Statement<[string, string, number]> } {
  const database = new SqliteServiceDatabase({ path, catalog: platform.catalog });
  database.db.exec('CREATE TABLE orders (order_id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, total INTEGER NOT NULL, events INTEGER NOT NULL)');
  const upsert = database.db.prepare<[string, string, number]>(
    'INSERT INTO orders (order_id, customer_id, total, events) VALUES (?, ?, ?, 1) ON CONFLICT (order_id) DO UPDATE SET total = excluded.total, events = events + 1',
  );
  return { database, upsert };
}

/**
 * One pass of the runtime over `topic` for `group` until `expected` records were handled or found duplicate,
 * from the member joining (start() resolving) to the transaction that completed the last record.
 */
async function consumeWithRuntime(
  platform: BenchPlatform,
  model: ReturnType<typeof readModel>,
  options: { group: string; topic: string; expected: number; codec: EventCodec; parkByKey?: boolean; failingOrder?: string },
): Promise<{ span: Span; subscription: Subscription }> {
  let failed = false;
  const subscription = subscribe({
    database: model.database,
    kafka: platform.kafka,
    codec: options.codec,
    group: options.group,
    topics: [options.topic],
    fromBeginning: true,
    parkByKey: options.parkByKey ?? true,
    handlers: {
      'shoal.orders.OrderPlaced': (event) => {
        if (!failed && event.data.orderId === options.failingOrder) {
          failed = true;
          throw new ShoalError('SHOAL_EVENT_DATA_INVALID', `order ${event.data.orderId} fails on purpose`);
        }
        model.upsert.run(event.data.orderId, event.data.customerId, event.data.total.amount);
      },
    },
  });
  try {
    await subscription.start();
    const timer = startSpan(platform.broker, 'this-process');
    const completed = () => {
      const status = subscription.status();
      return status.handled + status.duplicates + status.skipped + status.deadLettered + status.parked >= options.expected;
    };
    // Checked every 2 ms: the poll costs a few µs a turn, and a coarser one would add up to its interval to the span.
    await eventually(completed, { what: () => `the runtime to complete ${count(options.expected)} records (${JSON.stringify(subscription.status())})`, timeoutMs: TIME_LIMIT_MS, intervalMs: 2 });
    const span = await timer.stop();
    return { span, subscription };
  } finally {
    await subscription.stop();
  }
}

/** JIT, connections and codec caches for every kind of consumer, on a topic of its own. */
async function warmUp(platform: BenchPlatform, events: number): Promise<void> {
  const topic = 'bench.warmup';
  await createTopics(platform.kafka, [topic], PARTITIONS);
  progress(`warming up with ${count(events)} events`);
  await fill(platform, [topic], events, 2);
  const codec = platform.codec();
  await consumeRaw(platform, topic, events, (message) => codec.decode(message));
  const model = readModel(join(platform.workDir, 'warmup.db'), platform);
  try {
    await consumeWithRuntime(platform, model, { group: newGroup('warmup'), topic, expected: events, codec: platform.codec() });
  } finally {
    model.database.close();
  }
}

interface Figures {
  raw: Span[];
  decode: Span[];
  runtime: Span[];
  duplicates: Span[];
  noParking: Span[];
  keyParked: Span[];
}

async function rounds(platform: BenchPlatform, events: number): Promise<Figures> {
  const figures: Figures = { raw: [], decode: [], runtime: [], duplicates: [], noParking: [], keyParked: [] };
  for (let round = 1; round <= ROUNDS; round++) {
    progress(`round ${round} of ${ROUNDS}: raw kafkajs`);
    figures.raw.push(await consumeRaw(platform, TOPIC, events, undefined));

    progress(`round ${round} of ${ROUNDS}: kafkajs + decode`);
    const codec = platform.codec();
    figures.decode.push(await consumeRaw(platform, TOPIC, events, (message) => codec.decode(message)));

    progress(`round ${round} of ${ROUNDS}: consumer runtime, new events`);
    const model = readModel(join(platform.workDir, `service-${round}.db`), platform);
    try {
      const group = newGroup('runtime');
      const first = await consumeWithRuntime(platform, model, { group, topic: TOPIC, expected: events, codec: platform.codec() });
      expectCounts(first.subscription, { handled: events, duplicates: 0 });
      figures.runtime.push(first.span);

      progress(`round ${round} of ${ROUNDS}: consumer runtime, duplicates`);
      const again = await consumeWithRuntime(platform, model, { group, topic: COPY_TOPIC, expected: events, codec: platform.codec() });
      expectCounts(again.subscription, { handled: 0, duplicates: events });
      figures.duplicates.push(again.span);

      expectUpserts(model, events);
    } finally {
      model.database.close();
    }

    progress(`round ${round} of ${ROUNDS}: consumer runtime, no parking`);
    const unparked = readModel(join(platform.workDir, `service-${round}-no-parking.db`), platform);
    try {
      const pass = await consumeWithRuntime(platform, unparked, { group: newGroup('no-parking'), topic: TOPIC, expected: events, codec: platform.codec(), parkByKey: false });
      expectCounts(pass.subscription, { handled: events, duplicates: 0 });
      figures.noParking.push(pass.span);
      expectUpserts(unparked, events);
    } finally {
      unparked.database.close();
    }

    progress(`round ${round} of ${ROUNDS}: consumer runtime, a key parked`);
    const parking = readModel(join(platform.workDir, `service-${round}-parked.db`), platform);
    try {
      const perOrder = Math.ceil(events / ORDERS); // the events of ord-1-0: indexes 0, ORDERS, 2 * ORDERS, ...
      const pass = await consumeWithRuntime(platform, parking, { group: newGroup('parked'), topic: TOPIC, expected: events, codec: platform.codec(), failingOrder: 'ord-1-0' });
      expectCounts(pass.subscription, { handled: events - perOrder, duplicates: 0, deadLettered: 1, parked: perOrder - 1 });
      figures.keyParked.push(pass.span);
      expectUpserts(parking, events - perOrder);
    } finally {
      parking.database.close();
    }
  }
  return figures;
}

function expectCounts(subscription: Subscription, expected: { handled: number; duplicates: number; deadLettered?: number; parked?: number }): void {
  const { handled, duplicates, skipped, deadLettered, parked, lastFailure } = subscription.status();
  if (handled !== expected.handled || duplicates !== expected.duplicates || skipped !== 0 || deadLettered !== (expected.deadLettered ?? 0) || parked !== (expected.parked ?? 0)) {
    throw new Error(`expected ${JSON.stringify(expected)}, the runtime counted ${JSON.stringify({ handled, duplicates, skipped, deadLettered, parked, lastFailure })}`);
  }
}

function expectUpserts(model: ReturnType<typeof readModel>, expected: number): void {
  const applied = model.database.db.prepare('SELECT SUM(events) AS n FROM orders').get() as { n: number };
  if (applied.n !== expected) throw new Error(`the read model took ${applied.n} upserts for ${expected} events`);
}

function report(figures: Figures, events: number, valueBytes: number): { rows: ThroughputRow[]; goals: Goal[] } {
  const raw = combineSpans(figures.raw);
  const decode = combineSpans(figures.decode);
  const runtime = combineSpans(figures.runtime);
  const duplicates = combineSpans(figures.duplicates);
  const noParking = combineSpans(figures.noParking);
  const keyParked = combineSpans(figures.keyParked);
  const messages = events * ROUNDS;
  const row = (workload: string, span: Span, note: string, ratio?: number): ThroughputRow => ({
    workload,
    messages,
    seconds: span.seconds,
    valueBytes,
    brokerCpu: span.brokerCpu,
    ...(span.clientCpu === undefined ? {} : { clientCpu: span.clientCpu }),
    ...(ratio === undefined ? {} : { ratio }),
    note,
  });
  const vsRaw = (span: Span) => `${(span.seconds / raw.seconds).toFixed(2)}x raw kafkajs`;
  // The goal is "within 2x of raw kafkajs"; it is checked against both baselines: kafkajs + decode
  // consumes the same events (like for like), raw kafkajs is the floor the projection benchmark also uses.
  const within = (name: string, span: Span, baseline: string, baselineSpan: Span): Goal => {
    const ratio = span.seconds / baselineSpan.seconds;
    return { goal: `runtime, ${name}, within ${goals.overhead}x the time of ${baseline}`, measured: `${ratio.toFixed(2)}x`, met: ratio <= goals.overhead };
  };
  return {
    rows: [
      row('raw kafkajs', raw, 'eachBatch counting records: the floor'),
      row('kafkajs + decode', decode, `EventCodec.decode per record: the baseline; ${vsRaw(decode)}`, 1),
      row('runtime, new events', runtime, `inbox row + 1 upsert per event, 200 per transaction; ${vsRaw(runtime)}`, runtime.seconds / decode.seconds),
      row('runtime, duplicates', duplicates, `every event id already in the inbox; ${vsRaw(duplicates)}`, duplicates.seconds / decode.seconds),
      row('runtime, no parking', noParking, `new events, parkByKey false; parking on costs ${(runtime.seconds / noParking.seconds).toFixed(2)}x this`, noParking.seconds / decode.seconds),
      row('runtime, a key parked', keyParked, `new events, one order's events parked: every key looked up; ${(keyParked.seconds / noParking.seconds).toFixed(2)}x no parking`, keyParked.seconds / decode.seconds),
    ],
    goals: [
      within('new events', runtime, 'kafkajs + decode', decode),
      within('new events', runtime, 'raw kafkajs', raw),
      within('duplicates', duplicates, 'kafkajs + decode', decode),
      within('duplicates', duplicates, 'raw kafkajs', raw),
    ],
  };
}

runBench({
  name: 'consumer',
  title: 'Shoal consumer runtime benchmark',
  usage,
  async run(platform, quick) {
    const plan = planFor(quick);
    await createTopics(platform.kafka, [COPY_TOPIC], PARTITIONS);
    progress(`publishing ${count(plan.events)} events to ${TOPIC} and ${COPY_TOPIC}`);
    const valueBytes = await fill(platform, [TOPIC, COPY_TOPIC], plan.events, 1);
    await warmUp(platform, plan.warmupEvents);
    const { rows, goals } = report(await rounds(platform, plan.events), plan.events, valueBytes);
    return {
      lines: [
        `broker in a child process, registry and clients in this one, on 127.0.0.1; ${count(plan.events)} OrderPlaced events over ${count(ORDERS)} orders, ${PARTITIONS} partitions`,
        `${ROUNDS} interleaved rounds per workload after a warm-up, each from the group join to the last record; kafkajs consumer defaults (1 partition at a time)`,
        'ratio = seconds / kafkajs + decode seconds; MB/s counts record values only; CPU columns are shares of one core (broker: the broker process; client: this process)',
        '',
        formatThroughputTable(rows),
      ],
      goals,
    };
  },
});
