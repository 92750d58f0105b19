import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { describe, expect, it, onTestFinished } from 'vitest';
import { tempDir, eventually } from '@shoal/testing';
import type { ServiceDatabase } from '@shoal/store';
import { expectedRows, orderProjection, orderRows, projectionStores, publishOrders, startProjectionPlatform, type OrderRow, type PublishedOrder } from './testing/index.js';
import type { ProjectorProcessSettings } from './testing/projector-process.js';

const here = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = join(here, '../../..');
const ROWS = 'SELECT order_id, events, seq_sum, last_seq FROM order_events ORDER BY order_id';
const POSITIONS = 'SELECT partition, next_offset FROM projection_positions';

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Starts the projector process; `exited` settles when it ends (it is killed if the test ends first). */
function projectorProcess(settings: ProjectorProcessSettings): { exited: Promise<Exit>; kill(): void; output(): string } {
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'testing/projector-process.ts')], {
    cwd: REPO_ROOT,
    env: { ...process.env, SHOAL_TEST_PROJECTOR: JSON.stringify(settings) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, stderr })));
  return { exited, kill: () => child.kill('SIGKILL'), output: () => stdout };
}

/** What a crashed process left in the read model (generation 1, a file under `dataDir` or a schema of `database`): its rows and positions. */
async function leftBehind(dataDir: string, database: ServiceDatabase | undefined): Promise<{ rows: OrderRow[]; positions: Record<number, number> }> {
  let rows: OrderRow[];
  let positions: Array<{ partition: number; next_offset: number }>;
  if (database === undefined) {
    const db = new Database(join(dataDir, 'order-counts.v1.g1.db'));
    try {
      rows = db.prepare<[], OrderRow>(ROWS).all();
      positions = db.prepare<[], { partition: number; next_offset: number }>(POSITIONS).all();
    } finally {
      db.close();
    }
  } else {
    rows = await database.transact(async (tx) => {
      await tx.sql.run('SET LOCAL search_path TO "order-counts_v1_g1"');
      return tx.sql.all<OrderRow>(ROWS);
    });
    positions = await database.sql.all(POSITIONS.replace('projection_positions', '"order-counts_v1_g1".projection_positions'));
  }
  return { rows, positions: Object.fromEntries(positions.map((p) => [p.partition, Number(p.next_offset)])) };
}

function applied(rows: readonly OrderRow[]): number {
  return rows.reduce((sum, row) => sum + row.events, 0);
}

/** The rows of exactly the events below the positions: what an atomic model must hold whenever it stopped. */
function rowsBelow(published: readonly PublishedOrder[], positions: Record<number, number>): OrderRow[] {
  return expectedRows(published.filter((p) => p.offset < (positions[p.partition] ?? 0)));
}

describe.each(projectionStores)('Projector crash recovery on $name', (store) => {
  it.skipIf(store.missing !== undefined)('is exact after SIGKILLs in the middle of a transaction and while it applies a backlog', async () => {
    const platform = await startProjectionPlatform();
    const dataDir = tempDir('projection');
    const database = await store.database();
    // Every statement is a round trip on PostgreSQL: a third of the events keeps the test's length alike on both.
    const [events, firstCrash, secondCrash] = store.name === 'sqlite' ? [12_000, 3333, 4100] : [4000, 1111, 1367];
    const published = await publishOrders(platform.publisher, 0, events);
    const databaseUrl = store.location(database);
    // On PostgreSQL every process joins the one group the instances share, whose dead member (the killed
    // process) holds its partitions for a session timeout: the shortest the broker accepts.
    const sessionTimeoutMs = 6000;
    const settings = { bootstrap: platform.bootstrap, registryUrl: platform.registryUrl, dataDir, recordsPerTransaction: 250, ...(databaseUrl === undefined ? {} : { databaseUrl, sessionTimeoutMs }) };

    // Killed by its own handler at its firstCrash-th event, inside an open run of at most 250 events: every
    // event of that run is gone (even those applied before it), every committed run is there.
    const first = await projectorProcess({ ...settings, crashAt: firstCrash }).exited;
    expect(first.signal, first.stderr).toBe('SIGKILL');
    const afterFirst = await leftBehind(dataDir, database);
    const appliedFirst = applied(afterFirst.rows);
    expect(appliedFirst).toBeGreaterThanOrEqual(firstCrash - 250);
    expect(appliedFirst).toBeLessThan(firstCrash);
    expect(afterFirst.rows).toEqual(rowsBelow(published, afterFirst.positions));

    // Resumes at the stored positions and is killed again mid-transaction.
    const second = await projectorProcess({ ...settings, crashAt: secondCrash }).exited;
    expect(second.signal, second.stderr).toBe('SIGKILL');
    const afterSecond = await leftBehind(dataDir, database);
    expect(applied(afterSecond.rows) - appliedFirst).toBeGreaterThanOrEqual(secondCrash - 250);
    expect(applied(afterSecond.rows) - appliedFirst).toBeLessThan(secondCrash);
    expect(afterSecond.rows).toEqual(rowsBelow(published, afterSecond.positions));

    // kill -9 from outside, at whatever moment the backlog has moved on.
    const third = projectorProcess(settings);
    const movedOn = (positions: Record<number, number>) => Object.values(positions).reduce((a, b) => a + b, 0) > Object.values(afterSecond.positions).reduce((a, b) => a + b, 0);
    await eventually(async () => expect(movedOn((await leftBehind(dataDir, database)).positions)).toBe(true));
    third.kill();
    expect((await third.exited).signal).toBe('SIGKILL');
    const afterThird = await leftBehind(dataDir, database);
    expect(afterThird.rows).toEqual(rowsBelow(published, afterThird.positions));

    const last = platform.projector({ projection: orderProjection(), dataDir, database, consumer: { maxWaitTimeInMs: 500, sessionTimeout: sessionTimeoutMs, heartbeatInterval: 500 } });
    await last.start();
    await last.whenCaughtUp();
    expect(await last.read(orderRows)).toEqual(expectedRows(published));
  });
});
