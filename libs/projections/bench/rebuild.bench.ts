import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Kafka, logLevel, type KafkaMessage } from 'kafkajs';
import { startRegistry } from '@shoal/schema-registry';
import { EventCodec, RegistryClient, loadSchemaCatalog, registerCatalog } from '@shoal/contract';
import { Publisher } from '@shoal/transport';
import { postgresMissingReason, startPostgres, type PostgresServer } from '@shoal/postgres';
import { PostgresServiceDatabase } from '@shoal/store-postgres';
import { startBrokerProcess, type BrokerProcess } from '../../../infra/broker/bench/broker-process.js';
import { defineProjection, Projector, type Projection } from '../src/index.js';
import { orderPlaced } from '../src/testing/order-projection.js';

/**
 * Projection benchmark: `npm run bench -- projections [--quick]`.
 *
 * A broker in a child process (as broker.bench.ts: it competes for cores as a real one on the same host
 * would) and a registry in this process on temp dirs; `orders.order` (3 partitions) is filled with
 * OrderPlaced events, then read four ways, each from the beginning with a new consumer group:
 *
 *   raw kafkajs            eachBatch counting records: the floor of any consumer
 *   kafkajs + decode       the same, each record decoded by the EventCodec
 *   projector build        a fresh Projector building its model live: decode, one upsert per event, the
 *                          positions in the same transactions (timed from start() to whenCaughtUp())
 *   projector rebuild      Projector.rebuild() of that model into a shadow, timed by its own progress
 *
 * The two projector rows run on SQLite (a file per model) and then, when PostgreSQL's binaries are there
 * (the @shoal/postgres fixture, started here), on PostgreSQL (a schema per model), in the same run.
 *
 * Goals (docs/benchmarks.md): a rebuild on SQLite replays >= 50,000 events/s; the projector on SQLite is
 * within 2x of raw kafkajs. PostgreSQL's figures are printed beside SQLite's, without a goal.
 * Exits 0 whether or not the goals are met; non-zero only when the benchmark itself fails.
 */
const usage = `Usage: node --import tsx libs/projections/bench/rebuild.bench.ts [--quick]

  --quick   10x fewer events (a smoke run; figures are noisier)
`;

const goals = { rebuildEventsPerSecond: 50_000, overheadVsRawKafkajs: 2 } as const;

function quietKafka(bootstrap: string): Kafka {
  return new Kafka({ clientId: 'projections-bench', brokers: [bootstrap], logLevel: logLevel.NOTHING });
}

/** One upsert per event through the raw executor (prepared once per connection, synchronous on SQLite): a typical hot read model. */
function benchProjection(): Projection {
  const upsert =
    'INSERT INTO orders (order_id, customer_id, total, events) VALUES (?, ?, ?, 1) ON CONFLICT (order_id) DO UPDATE SET total = excluded.total, events = orders.events + 1';
  return defineProjection({
    name: 'bench-orders',
    version: 1,
    topics: ['orders.order'],
    migrate: ({ sql }) => sql.run('CREATE TABLE orders (order_id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, total BIGINT NOT NULL, events INTEGER NOT NULL)'),
    handlers: {
      'shoal.orders.OrderPlaced': (event, { sql }) => sql.run(upsert, [event.data.orderId, event.data.customerId, event.data.total.amount]),
    },
  });
}

/** Reads orders.order from the beginning with a new group until `expected` records arrived; seconds from joining. */
async function consumeRaw(kafka: Kafka, expected: number, perRecord: ((message: KafkaMessage) => unknown) | undefined): Promise<number> {
  const consumer = kafka.consumer({ groupId: `bench-raw-${process.hrtime.bigint()}` });
  let started = 0n;
  let received = 0;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  consumer.on(consumer.events.GROUP_JOIN, () => {
    started = process.hrtime.bigint();
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: 'orders.order', fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        if (perRecord !== undefined) {
          for (const message of batch.messages) {
            const decoded = perRecord(message);
            if (decoded instanceof Promise) await decoded;
          }
        }
        received += batch.messages.length;
        if (received >= expected) finish();
      },
    });
    await finished;
    return Number(process.hrtime.bigint() - started) / 1e9;
  } finally {
    await consumer.disconnect();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } }, strict: true });
  if (values.help) {
    process.stdout.write(usage);
    return;
  }
  const events = values.quick ? 20_000 : 200_000;
  const dir = mkdtempSync(join(tmpdir(), 'shoal-projections-bench-'));
  let broker: BrokerProcess | undefined;
  let registry: Awaited<ReturnType<typeof startRegistry>> | undefined;
  let server: PostgresServer | undefined;
  try {
    broker = await startBrokerProcess({ dataDir: join(dir, 'broker') });
    registry = await startRegistry({ dataDir: join(dir, 'registry'), port: 0, logLevel: 'warn' });
    const catalog = loadSchemaCatalog();
    const registryClient = new RegistryClient({ url: registry.url });
    await registerCatalog(registryClient, catalog);
    const kafka = quietKafka(broker.bootstrap);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: 'orders.order', numPartitions: 3 }] });
    await admin.disconnect();

    const publisher = new Publisher({ kafka, codec: new EventCodec({ registry: registryClient, catalog }) });
    await publisher.connect();
    for (let from = 0; from < events; from += 2000) {
      await publisher.publishBatch(Array.from({ length: Math.min(2000, events - from) }, (_, i) => orderPlaced(from + i, 20_000)));
    }
    await publisher.disconnect();
    process.stdout.write(`orders.order holds ${events.toLocaleString('en')} OrderPlaced events (3 partitions)\n\n`);

    const rawSeconds = await consumeRaw(kafka, events, undefined);
    const decodeCodec = new EventCodec({ registry: registryClient, catalog });
    const decodeSeconds = await consumeRaw(kafka, events, (message) => decodeCodec.decode(message));

    /** Builds the model live, then rebuilds it; events/s of each. */
    const measure = async (database: PostgresServiceDatabase | undefined): Promise<{ build: number; rebuild: number }> => {
      const projector = new Projector({
        projection: benchProjection(),
        dataDir: join(dir, 'projections'),
        database,
        kafka,
        codec: new EventCodec({ registry: registryClient, catalog }),
        groupPrefix: `bench.${database === undefined ? 'sqlite' : 'postgres'}`,
      });
      const buildStart = process.hrtime.bigint();
      await projector.start();
      await projector.whenCaughtUp();
      const buildSeconds = Number(process.hrtime.bigint() - buildStart) / 1e9;
      const rebuild = await (await projector.rebuild()).done;
      await projector.stop();
      if (rebuild.state !== 'swapped') throw new Error(`the rebuild ended ${rebuild.state}: ${rebuild.error?.message}`);
      return { build: events / buildSeconds, rebuild: rebuild.done / (rebuild.elapsedMs / 1000) };
    };
    const sqlite = await measure(undefined);
    let postgres: { build: number; rebuild: number } | undefined;
    const missing = postgresMissingReason();
    if (missing === undefined) {
      server = await startPostgres();
      const database = await PostgresServiceDatabase.open({ url: server.url(), catalog, service: 'projections-bench' });
      try {
        postgres = await measure(database);
      } finally {
        await database.close();
      }
    }

    const rate = (seconds: number) => events / seconds;
    const rows: Array<[string, number, number | undefined]> = [
      ['raw kafkajs', rate(rawSeconds), undefined],
      ['kafkajs + decode', rate(decodeSeconds), undefined],
      ['projector build', sqlite.build, postgres?.build],
      ['projector rebuild', sqlite.rebuild, postgres?.rebuild],
    ];
    const figure = (perSecond: number | undefined) => (perSecond === undefined ? '' : Math.round(perSecond).toLocaleString('en')).padStart(10);
    process.stdout.write(`${''.padEnd(20)} ${'SQLite'.padStart(10)} ${'PostgreSQL'.padStart(10)}   events/s\n`);
    for (const [name, onSqlite, onPostgres] of rows) process.stdout.write(`${name.padEnd(20)} ${figure(onSqlite)} ${figure(onPostgres)}\n`);
    if (missing !== undefined) process.stdout.write(`(PostgreSQL skipped: ${missing})\n`);
    else process.stdout.write(`PostgreSQL / SQLite: build ${(postgres!.build / sqlite.build).toFixed(2)}x, rebuild ${(postgres!.rebuild / sqlite.rebuild).toFixed(2)}x\n`);
    const rebuildRate = sqlite.rebuild;
    const overhead = rate(rawSeconds) / rebuildRate;
    process.stdout.write(
      `\ngoal: rebuild on SQLite >= ${goals.rebuildEventsPerSecond.toLocaleString('en')} events/s: ${Math.round(rebuildRate).toLocaleString('en')} ${rebuildRate >= goals.rebuildEventsPerSecond ? 'met' : 'NOT met'}\n` +
        `goal: projector on SQLite within ${goals.overheadVsRawKafkajs}x of raw kafkajs: ${overhead.toFixed(2)}x ${overhead <= goals.overheadVsRawKafkajs ? 'met' : 'NOT met'}\n` +
        `(${availableParallelism()} cores, load ${loadavg()[0]!.toFixed(2)})\n`,
    );
  } finally {
    await registry?.close();
    await broker?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
