/**
 * node-postgres (`pg`) against postgres.js (`postgres`) on the statements a service database runs, against
 * one PostgreSQL server (the @shoal/postgres fixture, durable: fsync and synchronous commit on), each driver
 * in turn, interleaved over rounds, so both see the same server and machine:
 *
 *   inbox run        transactions of 200 single-row INSERT ... ON CONFLICT DO NOTHING, each awaited before
 *                    the next (a consumer run: inbox row per record), one transaction at a time
 *   small tx         BEGIN, one INSERT, COMMIT, one transaction at a time (a command)
 *   small tx x8      the same from 8 concurrent callers on a pool of 8 (several partitions or requests)
 *
 * Statements are prepared by both (pg: named statements; postgres.js: its default). Figures are rows or
 * transactions per second, medians of the rounds. Run: `node --import tsx libs/store-postgres/bench/drivers.bench.ts`.
 */
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import postgres from 'postgres';
import { startPostgres } from '@shoal/postgres';

const ROUNDS = 3;
const RUN = 200;
const RUNS = 25;
const SMALL = 1500;
const WORKERS = 8;

interface Driver {
  name: string;
  inboxRun(table: string, base: number): Promise<void>;
  smallTx(table: string, id: number): Promise<void>;
  close(): Promise<void>;
}

function nodePostgres(url: string): Driver {
  const pool = new pg.Pool({ connectionString: url, max: WORKERS });
  return {
    name: 'node-postgres (pg 8)',
    async inboxRun(table, base) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        for (let i = 0; i < RUN; i++) {
          await client.query({ name: `ins-${table}`, text: `INSERT INTO ${table} (id, v) VALUES ($1, $2) ON CONFLICT DO NOTHING`, values: [base + i, 'x'] });
        }
        await client.query('COMMIT');
      } finally {
        client.release();
      }
    },
    async smallTx(table, id) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query({ name: `ins-${table}`, text: `INSERT INTO ${table} (id, v) VALUES ($1, $2) ON CONFLICT DO NOTHING`, values: [id, 'x'] });
        await client.query('COMMIT');
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

function postgresJs(url: string): Driver {
  const sql = postgres(url, { max: WORKERS, onnotice: () => undefined });
  return {
    name: 'postgres.js (postgres 3)',
    async inboxRun(table, base) {
      await sql.begin(async (tx) => {
        for (let i = 0; i < RUN; i++) await tx`INSERT INTO ${tx(table)} (id, v) VALUES (${base + i}, ${'x'}) ON CONFLICT DO NOTHING`;
      });
    },
    async smallTx(table, id) {
      await sql.begin(async (tx) => {
        await tx`INSERT INTO ${tx(table)} (id, v) VALUES (${id}, ${'x'}) ON CONFLICT DO NOTHING`;
      });
    },
    close: () => sql.end(),
  };
}

async function timed(work: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const server = await startPostgres({ durable: true });
const admin = new pg.Client({ connectionString: server.url() });
await admin.connect();
const drivers = [nodePostgres(server.url()), postgresJs(server.url())];
const figures = new Map<string, { inbox: number[]; small: number[]; concurrent: number[] }>(drivers.map((d) => [d.name, { inbox: [], small: [], concurrent: [] }]));
try {
  let tables = 0;
  const freshTable = async () => {
    const table = `t${++tables}`;
    await admin.query(`CREATE TABLE ${table} (id BIGINT PRIMARY KEY, v TEXT NOT NULL)`);
    return table;
  };
  // Warm-up: connections, prepared statements, JIT.
  for (const driver of drivers) {
    const table = await freshTable();
    for (let r = 0; r < 3; r++) await driver.inboxRun(table, r * RUN);
    for (let i = 0; i < 200; i++) await driver.smallTx(table, 10_000 + i);
  }
  for (let round = 1; round <= ROUNDS; round++) {
    for (const driver of drivers) {
      const mine = figures.get(driver.name)!;
      const inboxTable = await freshTable();
      mine.inbox.push((RUN * RUNS) / (await timed(async () => {
        for (let r = 0; r < RUNS; r++) await driver.inboxRun(inboxTable, r * RUN);
      })));
      const smallTable = await freshTable();
      mine.small.push(SMALL / (await timed(async () => {
        for (let i = 0; i < SMALL; i++) await driver.smallTx(smallTable, i);
      })));
      const concurrentTable = await freshTable();
      mine.concurrent.push(SMALL / (await timed(async () => {
        let next = 0;
        await Promise.all(Array.from({ length: WORKERS }, async () => {
          while (next < SMALL) await driver.smallTx(concurrentTable, next++);
        }));
      })));
    }
  }
} finally {
  for (const driver of drivers) await driver.close();
  await admin.end();
  await server.stop();
}

const format = (n: number) => Math.round(n).toLocaleString('en-US');
console.log(`PostgreSQL ${server.version}, node ${process.version}; medians of ${ROUNDS} interleaved rounds`);
console.log('driver                      inbox run rows/s   small tx/s   small tx x8 /s');
for (const [name, f] of figures) {
  console.log(`${name.padEnd(28)}${format(median(f.inbox)).padStart(16)}${format(median(f.small)).padStart(13)}${format(median(f.concurrent)).padStart(17)}`);
}
