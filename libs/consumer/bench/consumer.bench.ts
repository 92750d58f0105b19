import { join } from 'node:path';
import type { KafkaMessage } from 'kafkajs';
import pg from 'pg';
import type { EventCodec, ShoalEvent } from '@shoal/contract';
import { Publisher } from '@shoal/transport';
import type { MaybePromise, ServiceDatabase, Transaction } from '@shoal/store';
import { SqliteServiceDatabase } from '@shoal/store-sqlite';
import { PostgresServiceDatabase } from '@shoal/store-postgres';
import { postgresMissingReason, startPostgres, type PostgresServer } from '@shoal/postgres';
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
 *   PostgreSQL: new events, duplicates   the first two on a PostgreSQL database (a durable server: fsync and
 *                        synchronous commit on, as in production; PostgreSQL of Debian's package, started by
 *                        @shoal/postgres), the same handler through tx.sql; skipped with the reason when no
 *                        PostgreSQL is installed
 *   PostgreSQL, 3 partitions in flight   new events on PostgreSQL with partitionsInFlight 3 (the service host
 *                        runs up to 16): the transactions of the partitions on connections of their own, side by
 *                        side, as only a database with a pool can
 *
 * The runtime's figures are checked, not assumed: each pass must count every record as handled (resp. as a
 * duplicate), and the read model must hold exactly one upsert per event. Goals (docs/benchmarks.md): the runtime
 * within 2x the time of raw kafkajs, checked against both baselines; on PostgreSQL, new events at 10,000 events/s
 * or more. Exits 0 whether or not it is met;
 * non-zero only when the benchmark itself fails.
 */
const usage = `Usage: node --import tsx libs/consumer/bench/consumer.bench.ts [--quick]

  --quick   10x fewer events (a smoke run; figures are noisier)
`;

const goals = { overhead: 2, postgresEventsPerSecond: 10_000 } as const;

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
interface ReadModel {
  database: ServiceDatabase;
  /** The handler's write, in its transaction. */
  upsert(tx: Transaction<unknown>, event: ShoalEvent<'shoal.orders.OrderPlaced'>): MaybePromise<unknown>;
  /** Upserts the read model took. */
  applied(): Promise<number>;
  close(): Promise<void>;
}

const UPSERT = 'INSERT INTO orders (order_id, customer_id, total, events) VALUES (?, ?, ?, 1) ON CONFLICT (order_id) DO UPDATE SET total = excluded.total, events = orders.events + 1';
const ORDERS_TABLE = 'CREATE TABLE orders (order_id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, total INTEGER NOT NULL, events INTEGER NOT NULL)';

/** On SQLite: the statement prepared once on the connection, as a service written against better-sqlite3 does. */
function sqliteModel(path: string, platform: BenchPlatform): ReadModel {
  const database = new SqliteServiceDatabase({ path, catalog: platform.catalog });
  database.db.exec(ORDERS_TABLE);
  const upsert = database.db.prepare<[string, string, number]>(UPSERT);
  return {
    database,
    upsert: (_tx, event) => upsert.run(event.data.orderId, event.data.customerId, event.data.total.amount),
    applied: async () => (database.db.prepare('SELECT SUM(events) AS n FROM orders').get() as { n: number }).n,
    close: async () => database.close(),
  };
}

/** On PostgreSQL: a new database on the bench's server, the statement through tx.sql. */
async function postgresModel(server: PostgresServer, name: string, platform: BenchPlatform): Promise<ReadModel> {
  const admin = new pg.Client({ connectionString: server.url() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const database = await PostgresServiceDatabase.open({ url: server.url(name), catalog: platform.catalog, service: 'bench' });
  await database.sql.run(ORDERS_TABLE);
  return {
    database,
    upsert: (tx, event) => tx.sql.run(UPSERT, [event.data.orderId, event.data.customerId, event.data.total.amount]),
    applied: async () => Number((await database.sql.get<{ n: number }>('SELECT SUM(events) AS n FROM orders'))!.n),
    close: () => database.close(),
  };
}

/**
 * One pass of the runtime over `topic` for `group` until `expected` records were handled or found duplicate,
 * from the member joining (start() resolving) to the transaction that completed the last record.
 */
async function consumeWithRuntime(
  platform: BenchPlatform,
  model: ReadModel,
  options: { group: string; topic: string; expected: number; codec: EventCodec; parkByKey?: boolean; failingOrder?: string; partitionsInFlight?: number },
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
    ...(options.partitionsInFlight === undefined ? {} : { partitionsInFlight: options.partitionsInFlight }),
    handlers: {
      'shoal.orders.OrderPlaced': (event, tx) => {
        if (!failed && event.data.orderId === options.failingOrder) {
          failed = true;
          throw new ShoalError('SHOAL_EVENT_DATA_INVALID', `order ${event.data.orderId} fails on purpose`);
        }
        return model.upsert(tx, event) as void | Promise<void>;
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
async function warmUp(platform: BenchPlatform, events: number, postgres: PostgresServer | undefined): Promise<void> {
  const topic = 'bench.warmup';
  await createTopics(platform.kafka, [topic], PARTITIONS);
  progress(`warming up with ${count(events)} events`);
  await fill(platform, [topic], events, 2);
  const codec = platform.codec();
  await consumeRaw(platform, topic, events, (message) => codec.decode(message));
  const model = sqliteModel(join(platform.workDir, 'warmup.db'), platform);
  try {
    await consumeWithRuntime(platform, model, { group: newGroup('warmup'), topic, expected: events, codec: platform.codec() });
  } finally {
    await model.close();
  }
  if (postgres !== undefined) {
    const onPostgres = await postgresModel(postgres, 'warmup', platform);
    try {
      await consumeWithRuntime(platform, onPostgres, { group: newGroup('warmup-pg'), topic, expected: events, codec: platform.codec() });
    } finally {
      await onPostgres.close();
    }
  }
}

interface Figures {
  raw: Span[];
  decode: Span[];
  runtime: Span[];
  duplicates: Span[];
  noParking: Span[];
  keyParked: Span[];
  postgres: Span[];
  postgresDuplicates: Span[];
  postgresInFlight: Span[];
}

async function rounds(platform: BenchPlatform, events: number, postgres: PostgresServer | undefined): Promise<Figures> {
  const figures: Figures = { raw: [], decode: [], runtime: [], duplicates: [], noParking: [], keyParked: [], postgres: [], postgresDuplicates: [], postgresInFlight: [] };
  for (let round = 1; round <= ROUNDS; round++) {
    progress(`round ${round} of ${ROUNDS}: raw kafkajs`);
    figures.raw.push(await consumeRaw(platform, TOPIC, events, undefined));

    progress(`round ${round} of ${ROUNDS}: kafkajs + decode`);
    const codec = platform.codec();
    figures.decode.push(await consumeRaw(platform, TOPIC, events, (message) => codec.decode(message)));

    progress(`round ${round} of ${ROUNDS}: consumer runtime, new events`);
    await newAndDuplicates(platform, sqliteModel(join(platform.workDir, `service-${round}.db`), platform), events, figures.runtime, figures.duplicates);

    progress(`round ${round} of ${ROUNDS}: consumer runtime, no parking`);
    const unparked = sqliteModel(join(platform.workDir, `service-${round}-no-parking.db`), platform);
    try {
      const pass = await consumeWithRuntime(platform, unparked, { group: newGroup('no-parking'), topic: TOPIC, expected: events, codec: platform.codec(), parkByKey: false });
      expectCounts(pass.subscription, { handled: events, duplicates: 0 });
      figures.noParking.push(pass.span);
      await expectUpserts(unparked, events);
    } finally {
      await unparked.close();
    }

    progress(`round ${round} of ${ROUNDS}: consumer runtime, a key parked`);
    const parking = sqliteModel(join(platform.workDir, `service-${round}-parked.db`), platform);
    try {
      const perOrder = Math.ceil(events / ORDERS); // the events of ord-1-0: indexes 0, ORDERS, 2 * ORDERS, ...
      const pass = await consumeWithRuntime(platform, parking, { group: newGroup('parked'), topic: TOPIC, expected: events, codec: platform.codec(), failingOrder: 'ord-1-0' });
      expectCounts(pass.subscription, { handled: events - perOrder, duplicates: 0, deadLettered: 1, parked: perOrder - 1 });
      figures.keyParked.push(pass.span);
      await expectUpserts(parking, events - perOrder);
    } finally {
      await parking.close();
    }

    if (postgres !== undefined) {
      progress(`round ${round} of ${ROUNDS}: consumer runtime on PostgreSQL, new events and duplicates`);
      await newAndDuplicates(platform, await postgresModel(postgres, `service_${round}`, platform), events, figures.postgres, figures.postgresDuplicates);

      progress(`round ${round} of ${ROUNDS}: consumer runtime on PostgreSQL, 3 partitions in flight`);
      const inFlight = await postgresModel(postgres, `service_${round}_in_flight`, platform);
      try {
        const pass = await consumeWithRuntime(platform, inFlight, { group: newGroup('in-flight'), topic: TOPIC, expected: events, codec: platform.codec(), partitionsInFlight: PARTITIONS });
        expectCounts(pass.subscription, { handled: events, duplicates: 0 });
        figures.postgresInFlight.push(pass.span);
        await expectUpserts(inFlight, events);
      } finally {
        await inFlight.close();
      }
    }
  }
  return figures;
}

/** "new events" then "duplicates" (the same group on the same database, reading the copy topic), checked, on `model`. */
async function newAndDuplicates(platform: BenchPlatform, model: ReadModel, events: number, fresh: Span[], duplicates: Span[]): Promise<void> {
  try {
    const group = newGroup('runtime');
    const first = await consumeWithRuntime(platform, model, { group, topic: TOPIC, expected: events, codec: platform.codec() });
    expectCounts(first.subscription, { handled: events, duplicates: 0 });
    fresh.push(first.span);

    progress(`  ${model.database.sql.dialect}: duplicates`);
    const again = await consumeWithRuntime(platform, model, { group, topic: COPY_TOPIC, expected: events, codec: platform.codec() });
    expectCounts(again.subscription, { handled: 0, duplicates: events });
    duplicates.push(again.span);

    await expectUpserts(model, events);
  } finally {
    await model.close();
  }
}

function expectCounts(subscription: Subscription, expected: { handled: number; duplicates: number; deadLettered?: number; parked?: number }): void {
  const { handled, duplicates, skipped, deadLettered, parked, lastFailure } = subscription.status();
  if (handled !== expected.handled || duplicates !== expected.duplicates || skipped !== 0 || deadLettered !== (expected.deadLettered ?? 0) || parked !== (expected.parked ?? 0)) {
    throw new Error(`expected ${JSON.stringify(expected)}, the runtime counted ${JSON.stringify({ handled, duplicates, skipped, deadLettered, parked, lastFailure })}`);
  }
}

async function expectUpserts(model: ReadModel, expected: number): Promise<void> {
  const applied = await model.applied();
  if (applied !== expected) throw new Error(`the read model took ${applied} upserts for ${expected} events on ${model.database.sql.dialect}`);
}

function report(figures: Figures, events: number, valueBytes: number, postgresMissing: string | undefined): { rows: ThroughputRow[]; goals: Goal[]; notes: string[] } {
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
  const postgresRows: ThroughputRow[] = [];
  const postgresGoals: Goal[] = [];
  if (figures.postgres.length > 0) {
    const onPostgres = combineSpans(figures.postgres);
    const postgresDuplicates = combineSpans(figures.postgresDuplicates);
    const inFlight = combineSpans(figures.postgresInFlight);
    const perSecond = messages / Math.min(onPostgres.seconds, inFlight.seconds);
    postgresRows.push(
      row('PostgreSQL, new events', onPostgres, `as runtime, new events, on PostgreSQL; ${(onPostgres.seconds / runtime.seconds).toFixed(2)}x SQLite's time`, onPostgres.seconds / decode.seconds),
      row('PostgreSQL, duplicates', postgresDuplicates, `as runtime, duplicates, on PostgreSQL; ${(postgresDuplicates.seconds / duplicates.seconds).toFixed(2)}x SQLite's time`, postgresDuplicates.seconds / decode.seconds),
      row('PostgreSQL, 3 in flight', inFlight, `new events on PostgreSQL, partitionsInFlight ${PARTITIONS}; ${(onPostgres.seconds / inFlight.seconds).toFixed(2)}x as fast as 1`, inFlight.seconds / decode.seconds),
    );
    postgresGoals.push({
      goal: `runtime on PostgreSQL, new events (the faster of 1 and 3 partitions in flight), ${count(goals.postgresEventsPerSecond)}/s or more (SQLite: ${count(Math.round(messages / runtime.seconds))}/s)`,
      measured: `${count(Math.round(perSecond))}/s`,
      met: perSecond >= goals.postgresEventsPerSecond,
    });
  }
  return {
    notes: postgresMissing === undefined ? [] : [`PostgreSQL workloads skipped: ${postgresMissing}`],
    rows: [
      row('raw kafkajs', raw, 'eachBatch counting records: the floor'),
      row('kafkajs + decode', decode, `EventCodec.decode per record: the baseline; ${vsRaw(decode)}`, 1),
      row('runtime, new events', runtime, `inbox row + 1 upsert per event, 200 per transaction; ${vsRaw(runtime)}`, runtime.seconds / decode.seconds),
      row('runtime, duplicates', duplicates, `every event id already in the inbox; ${vsRaw(duplicates)}`, duplicates.seconds / decode.seconds),
      row('runtime, no parking', noParking, `new events, parkByKey false; parking on costs ${(runtime.seconds / noParking.seconds).toFixed(2)}x this`, noParking.seconds / decode.seconds),
      row('runtime, a key parked', keyParked, `new events, one order's events parked: every key looked up; ${(keyParked.seconds / noParking.seconds).toFixed(2)}x no parking`, keyParked.seconds / decode.seconds),
      ...postgresRows,
    ],
    goals: [
      within('new events', runtime, 'kafkajs + decode', decode),
      within('new events', runtime, 'raw kafkajs', raw),
      within('duplicates', duplicates, 'kafkajs + decode', decode),
      within('duplicates', duplicates, 'raw kafkajs', raw),
      ...postgresGoals,
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
    const postgresMissing = postgresMissingReason();
    const postgres = postgresMissing === undefined ? await startPostgres({ durable: true }) : undefined;
    try {
      await warmUp(platform, plan.warmupEvents, postgres);
      const { rows, goals, notes } = report(await rounds(platform, plan.events, postgres), plan.events, valueBytes, postgresMissing);
      return {
        lines: [
        `broker in a child process, registry and clients in this one, on 127.0.0.1; ${count(plan.events)} OrderPlaced events over ${count(ORDERS)} orders, ${PARTITIONS} partitions`,
        `${ROUNDS} interleaved rounds per workload after a warm-up, each from the group join to the last record; kafkajs consumer defaults (1 partition at a time)`,
        'ratio = seconds / kafkajs + decode seconds; MB/s counts record values only; CPU columns are shares of one core (broker: the broker process; client: this process)',
        ...(postgres === undefined ? [] : [`PostgreSQL ${postgres.version} in a child process on 127.0.0.1, durable (fsync and synchronous commit on), a pool of 10 connections`]),
        ...notes,
        '',
        formatThroughputTable(rows),
      ],
        goals,
      };
    } finally {
      await postgres?.stop();
    }
  },
});
