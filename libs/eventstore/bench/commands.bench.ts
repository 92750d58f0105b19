/**
 * The event store's command path, as the orders service runs it, on each adapter in the same run:
 *
 *   place     handleCommand on a new stream: read (nothing), decide, append one event with its outbox row
 *             (POST /orders)
 *   confirm   handleCommand on a stream of one event: read it, decide, append the second (a reaction)
 *   get       aggregateStream of a stream of two events (GET /orders/:id)
 *
 * against the plainest way of doing `place` on the same SQLite file format: better-sqlite3 alone, its
 * statements prepared, the stream's row, the event and the outbox row in one transaction, no Shoal.
 * `--baseline <dir>` also runs another copy of this package's `src/` (e.g. `git archive <commit>
 * libs/eventstore/src` unpacked where it resolves this repository's node_modules), interleaved with this one
 * round by round, so an older commit and this one are compared on the same machine in the same run.
 * PostgreSQL runs on the @shoal/postgres fixture when its binaries are installed (durable: fsync on).
 *
 * Each variant keeps one database for the run; the workloads run in slices, every variant's slice in turn
 * (the first variant alternating), so load from elsewhere on the machine falls on all of them alike. Figures
 * are commands (or reads) per second of wall time, and per second of this process's CPU time, which other
 * processes on a shared machine hardly move (SQLite runs in this process; PostgreSQL's server does not, so
 * its CPU figure leaves the server out). Run: `node --import tsx libs/eventstore/bench/commands.bench.ts [--quick] [--baseline <dir>] [--no-postgres]`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import pg from 'pg';
import { loadSchemaCatalog } from '@shoal/contract';
import { postgresMissingReason, startPostgres, type PostgresServer } from '@shoal/postgres';
import type { ServiceDatabase } from '@shoal/store';
import { PostgresServiceDatabase } from '@shoal/store-postgres';
import { SqliteServiceDatabase } from '@shoal/store-sqlite';
import * as current from '../src/index.js';
import { orderDecider, testLines, type OrderCommand } from '../src/testing/deciders.js';

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, baseline: { type: 'string' }, 'no-postgres': { type: 'boolean', default: false } } });
const SLICES = values.quick ? 2 : 10;
const SQLITE_SLICE = values.quick ? 300 : 600;
const POSTGRES_SLICE = values.quick ? 50 : 100;

type Store = current.EventStore;
interface EventStoreModule {
  /** `EventStore.open`, or a constructor in copies from before it. */
  EventStore: object;
  handleCommand: typeof current.handleCommand;
}

interface Variant {
  name: string;
  /** Commands of each workload in a slice. */
  slice: number;
  open(): Promise<{ database: ServiceDatabase; store: Store }>;
  module: EventStoreModule;
}

const WORKLOADS = ['place', 'confirm', 'get'] as const;
type Workload = (typeof WORKLOADS)[number];
/** Milliseconds spent and operations done, per workload. */
type Spent = Record<Workload, { wallMs: number; cpuMs: number; count: number }>;

const catalog = loadSchemaCatalog();
const workDir = mkdtempSync(join(tmpdir(), 'shoal-eventstore-bench-'));
let files = 0;
const newFile = (name: string) => join(workDir, `${(files += 1)}-${name}`);
const NOW = 1_767_225_600_000;
const place = (orderId: string): OrderCommand => ({ type: 'PlaceOrder', orderId, customerId: 'cus-1', lines: testLines(), now: NOW });
const confirm: OrderCommand = { type: 'ConfirmOrder', paymentId: 'pay-1', now: NOW + 1 };

/** A store of `module` on `database`: `EventStore.open` where the module has it, its constructor before. */
async function storeOf(module: EventStoreModule, database: ServiceDatabase): Promise<Store> {
  const options = { source: '/shoal/orders' };
  const { EventStore } = module as { EventStore: { open?: (database: ServiceDatabase, options: object) => Promise<Store> } };
  if (EventStore.open !== undefined) return EventStore.open(database, options);
  return new (EventStore as new (database: ServiceDatabase, options: object) => Store)(database, options);
}

function sqliteVariant(name: string, module: EventStoreModule): Variant {
  return {
    name,
    slice: SQLITE_SLICE,
    module,
    async open() {
      const database = new SqliteServiceDatabase({ path: newFile('orders.db'), catalog });
      return { database, store: await storeOf(module, database) };
    },
  };
}

function postgresVariant(server: PostgresServer): Variant {
  let databases = 0;
  return {
    name: 'PostgreSQL',
    slice: POSTGRES_SLICE,
    module: current,
    async open() {
      const name = `bench_${process.pid}_${(databases += 1)}`;
      const admin = new pg.Client({ connectionString: server.url() });
      await admin.connect();
      await admin.query(`CREATE DATABASE ${name}`);
      await admin.end();
      const database = await PostgresServiceDatabase.open({ url: server.url(name), catalog, service: 'orders' });
      return { database, store: await storeOf(current, database) };
    },
  };
}

const cpuMs = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

/** Runs `work` for every i in [from, to), one after the other, and adds the time it took to `spent`. */
async function timed(spent: Spent[Workload], from: number, to: number, work: (i: number) => Promise<unknown>): Promise<void> {
  const [wall, cpu] = [performance.now(), cpuMs()];
  for (let i = from; i < to; i += 1) await work(i);
  spent.wallMs += performance.now() - wall;
  spent.cpuMs += cpuMs() - cpu;
  spent.count += to - from;
}

const newSpent = (): Spent => ({ place: { wallMs: 0, cpuMs: 0, count: 0 }, confirm: { wallMs: 0, cpuMs: 0, count: 0 }, get: { wallMs: 0, cpuMs: 0, count: 0 } });

/** A variant's store, run slice by slice: each slice places, confirms and gets `slice` new orders. */
async function sliced(variant: Variant) {
  const { database, store } = await variant.open();
  const { handleCommand } = variant.module;
  const spent = newSpent();
  let next = 0;
  return {
    spent,
    database,
    async slice() {
      const [from, to] = [next, next + variant.slice];
      next = to;
      await timed(spent.place, from, to, (i) => handleCommand(store, orderDecider, `ord-${i}`, place(`ord-${i}`)));
      await timed(spent.confirm, from, to, (i) => handleCommand(store, orderDecider, `ord-${i}`, confirm));
      await timed(spent.get, from, to, (i) => store.aggregateStream(`ord-${i}`, orderDecider));
    },
  };
}

/** `place` with better-sqlite3 alone: what the statements cost without Shoal around them. */
async function rawSqlite() {
  const db = new Database(newFile('raw.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(`CREATE TABLE streams (stream_id TEXT PRIMARY KEY, version INTEGER NOT NULL) WITHOUT ROWID;
    CREATE TABLE events (global_position INTEGER PRIMARY KEY AUTOINCREMENT, stream_id TEXT NOT NULL, stream_version INTEGER NOT NULL, id TEXT NOT NULL UNIQUE,
      type TEXT NOT NULL, data TEXT NOT NULL, attributes TEXT NOT NULL, time TEXT, recorded_at INTEGER NOT NULL, UNIQUE (stream_id, stream_version));
    CREATE TABLE outbox (sequence INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, aggregatetype TEXT NOT NULL, aggregateid TEXT NOT NULL,
      type TEXT NOT NULL, payload TEXT NOT NULL, topic TEXT NOT NULL, headers TEXT NOT NULL, created_at INTEGER NOT NULL);`);
  const version = db.prepare('SELECT version FROM streams WHERE stream_id = ?');
  const claim = db.prepare('INSERT INTO streams (stream_id, version) VALUES (?, 1) ON CONFLICT (stream_id) DO NOTHING RETURNING version');
  const event = db.prepare('INSERT INTO events (stream_id, stream_version, id, type, data, attributes, time, recorded_at) VALUES (?, 1, ?, ?, ?, ?, ?, ?)');
  const outbox = db.prepare('INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload, topic, headers, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  const append = db.transaction((orderId: string, data: string, attributes: string, id: string) => {
    if (claim.get(orderId) === undefined) throw new Error('conflict');
    event.run(orderId, id, 'shoal.orders.OrderPlaced', data, attributes, new Date(NOW).toISOString(), NOW);
    outbox.run(id, 'order', orderId, 'shoal.orders.OrderPlaced', data, 'orders.order', attributes, NOW);
  });
  const spent = newSpent();
  let next = 0;
  return {
    spent,
    database: {
      close: () => {
        db.close();
      },
    },
    async slice() {
      const [from, to] = [next, next + SQLITE_SLICE];
      next = to;
      await timed(spent.place, from, to, async (i) => {
        const orderId = `ord-${i}`;
        version.get(orderId);
        const [decided] = orderDecider.decide(place(orderId), orderDecider.initialState());
        const id = `evt-${i}`;
        append(orderId, JSON.stringify(decided!.data), JSON.stringify({ specversion: '1.0', id, source: '/shoal/orders', type: decided!.type, subject: orderId }), id);
      });
    },
  };
}

const format = (value: number) => Math.round(value).toLocaleString('en-US');

const variants: Variant[] = [sqliteVariant('SQLite', current)];
if (values.baseline !== undefined) {
  const module = (await import(pathToFileURL(join(resolve(values.baseline), 'index.ts')).href)) as EventStoreModule;
  variants.push(sqliteVariant(`SQLite, ${values.baseline}`, module));
}
let server: PostgresServer | undefined;
const postgresMissing = values['no-postgres'] ? 'not asked for (--no-postgres)' : postgresMissingReason();
if (postgresMissing === undefined) {
  server = await startPostgres();
  variants.push(postgresVariant(server));
}

const runs: Array<{ name: string; run: { spent: Spent; database: { close(): unknown }; slice(): Promise<void> } }> = [{ name: 'raw better-sqlite3 (no Shoal)', run: await rawSqlite() }];
for (const variant of variants) runs.push({ name: variant.name, run: await sliced(variant) });
try {
  for (let round = 0; round < SLICES; round += 1) {
    for (const { run } of round % 2 === 0 ? runs : [...runs].reverse()) await run.slice();
  }
} finally {
  for (const { run } of runs) await run.database.close();
  server?.kill();
  rmSync(workDir, { recursive: true, force: true });
}

const perSecond = (spent: Spent[Workload], key: 'wallMs' | 'cpuMs') => (spent.count === 0 ? undefined : spent.count / (spent[key] / 1000));
const cell = (value: number | undefined) => (value === undefined ? '' : format(value));
const rawPlace = perSecond(runs[0]!.run.spent.place, 'cpuMs')!;
console.log(`event store commands, ${SLICES} slices of ${SQLITE_SLICE} (SQLite) or ${POSTGRES_SLICE} (PostgreSQL) new orders a variant, interleaved`);
console.log('| store | place/s | confirm/s | get/s | place per CPU s | confirm per CPU s | get per CPU s | place CPU vs raw |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const { name, run } of runs) {
  const wall = WORKLOADS.map((workload) => cell(perSecond(run.spent[workload], 'wallMs')));
  const cpu = WORKLOADS.map((workload) => cell(perSecond(run.spent[workload], 'cpuMs')));
  console.log(`| ${name} | ${wall.join(' | ')} | ${cpu.join(' | ')} | ${(perSecond(run.spent.place, 'cpuMs')! / rawPlace).toFixed(2)}x |`);
}
if (postgresMissing !== undefined) console.log(`PostgreSQL skipped: ${postgresMissing}`);
