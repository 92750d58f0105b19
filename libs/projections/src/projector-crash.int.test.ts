import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { describe, expect, it, onTestFinished } from 'vitest';
import { tempDir, eventually } from '@shoal/testing';
import { expectedRows, orderProjection, orderRows, publishOrders, startProjectionPlatform, type OrderRow, type PublishedOrder } from './testing/index.js';
import type { ProjectorProcessSettings } from './testing/projector-process.js';

const here = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = join(here, '../../..');
const MODEL = 'order-counts.v1.g1.db';

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

/** What a crashed process left in the read model: its rows and positions. */
function leftBehind(dataDir: string): { rows: OrderRow[]; positions: Record<number, number> } {
  const db = new Database(join(dataDir, MODEL));
  try {
    const positions = db.prepare<[], { partition: number; next_offset: number }>('SELECT partition, next_offset FROM projection_positions').all();
    return { rows: orderRows(db), positions: Object.fromEntries(positions.map((p) => [p.partition, p.next_offset])) };
  } finally {
    db.close();
  }
}

function applied(rows: readonly OrderRow[]): number {
  return rows.reduce((sum, row) => sum + row.events, 0);
}

/** The rows of exactly the events below the positions: what an atomic model must hold whenever it stopped. */
function rowsBelow(published: readonly PublishedOrder[], positions: Record<number, number>): OrderRow[] {
  return expectedRows(published.filter((p) => p.offset < (positions[p.partition] ?? 0)));
}

describe('Projector crash recovery', () => {
  it('is exact after SIGKILLs in the middle of a transaction and while it applies a backlog', async () => {
    const platform = await startProjectionPlatform();
    const dataDir = tempDir('projection');
    const published = await publishOrders(platform.publisher, 0, 12_000);
    const settings = { bootstrap: platform.bootstrap, registryUrl: platform.registryUrl, dataDir, recordsPerTransaction: 250 };

    // Killed by its own handler at its 3,333rd event, inside an open run of at most 250 events: every event
    // of that run is gone (even those applied before the 3,333rd), every committed run is there.
    const first = await projectorProcess({ ...settings, crashAt: 3333 }).exited;
    expect(first.signal, first.stderr).toBe('SIGKILL');
    const afterFirst = leftBehind(dataDir);
    const appliedFirst = applied(afterFirst.rows);
    expect(appliedFirst).toBeGreaterThanOrEqual(3333 - 250);
    expect(appliedFirst).toBeLessThan(3333);
    expect(afterFirst.rows).toEqual(rowsBelow(published, afterFirst.positions));

    // Resumes at the stored positions and is killed again mid-transaction.
    const second = await projectorProcess({ ...settings, crashAt: 4100 }).exited;
    expect(second.signal, second.stderr).toBe('SIGKILL');
    const afterSecond = leftBehind(dataDir);
    expect(applied(afterSecond.rows) - appliedFirst).toBeGreaterThanOrEqual(4100 - 250);
    expect(applied(afterSecond.rows) - appliedFirst).toBeLessThan(4100);
    expect(afterSecond.rows).toEqual(rowsBelow(published, afterSecond.positions));

    // kill -9 from outside, at whatever moment the backlog has moved on.
    const third = projectorProcess(settings);
    const movedOn = (positions: Record<number, number>) => Object.values(positions).reduce((a, b) => a + b, 0) > Object.values(afterSecond.positions).reduce((a, b) => a + b, 0);
    await eventually(() => expect(movedOn(leftBehind(dataDir).positions)).toBe(true));
    third.kill();
    expect((await third.exited).signal).toBe('SIGKILL');
    const afterThird = leftBehind(dataDir);
    expect(afterThird.rows).toEqual(rowsBelow(published, afterThird.positions));

    const last = platform.projector({ projection: orderProjection(), dataDir });
    await last.start();
    await last.whenCaughtUp();
    expect(last.read(orderRows)).toEqual(expectedRows(published));
  });
});
