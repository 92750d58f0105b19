/**
 * Several instances of one service on one PostgreSQL database: projectors of one projection sharing a
 * consumer group, reads from any instance through the pointer, one rebuild at a time across instances, and
 * the lock of a rebuilding instance killed with SIGKILL (a child process) freed by the server.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { eventually, tempDir } from '@shoal/testing';
import { isShoalError } from '@shoal/core';
import type { ServiceDatabase } from '@shoal/store';
import type { Projector } from './projector.js';
import { expectedRows, orderProjection, orderRows, projectionStores, publishOrders, startProjectionPlatform, type OrderTables } from './testing/index.js';
import type { ProjectorProcessSettings } from './testing/projector-process.js';

const here = dirname(fileURLToPath(import.meta.url));
const postgres = projectionStores.find((store) => store.name === 'postgres')!;

/** The schemas of order-counts in `database`. */
async function schemas(database: ServiceDatabase): Promise<string[]> {
  const rows = await database.sql.all<{ nspname: string }>("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'order-counts%' ORDER BY nspname");
  return rows.map((row) => row.nspname);
}

/** Reads `projector` one read after another until stopped; the errors it met. */
function readInALoop(projector: Projector<OrderTables>): { stop(): Promise<{ reads: number; errors: unknown[] }> } {
  const log = { reads: 0, errors: [] as unknown[] };
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        await projector.read(orderRows);
        log.reads += 1;
      } catch (error) {
        log.errors.push(error);
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return log;
    },
  };
}

describe('Projector instances on one PostgreSQL database', () => {
  it.skipIf(postgres.missing !== undefined)('spread the partitions over one consumer group, apply each event once and answer the same reads', async () => {
    const platform = await startProjectionPlatform();
    const database = (await postgres.database())!;
    const published = await publishOrders(platform.publisher, 0, 1500);
    const first = platform.projector({ projection: orderProjection(), dataDir: tempDir('projection'), database, followIntervalMs: 100 });
    const second = platform.projector({ projection: orderProjection(), dataDir: tempDir('projection'), database: await postgres.reopen(database), followIntervalMs: 100 });
    await Promise.all([first.start(), second.start()]);
    await Promise.all([first.whenCaughtUp(), second.whenCaughtUp()]);
    expect(await first.read(orderRows)).toEqual(expectedRows(published));
    expect(await second.read(orderRows)).toEqual(expectedRows(published));

    const more = await publishOrders(platform.publisher, 1500, 1000);
    await Promise.all([first.whenCaughtUp(), second.whenCaughtUp()]);
    // Whichever instance applied an event, it was applied once: the rows count each event once.
    expect(await second.read(orderRows)).toEqual(expectedRows([...published, ...more]));
    expect(first.status().applied + second.status().applied).toBe(2500);
    expect(first.status().applied).toBeGreaterThan(0);
    expect(second.status().applied).toBeGreaterThan(0);
    expect(first.status()).toMatchObject({ store: 'postgres', model: { file: 'order-counts_v1_g1' }, lag: 0 });
    expect(second.status()).toMatchObject({ store: 'postgres', model: { file: 'order-counts_v1_g1' }, lag: 0 });
  });

  it.skipIf(postgres.missing !== undefined)('rebuild on one instance while the other serves reads; both switch at the swap, and a second rebuild meanwhile is refused', async () => {
    const platform = await startProjectionPlatform();
    const database = (await postgres.database())!;
    const published = await publishOrders(platform.publisher, 0, 1000);
    const rebuilder = platform.projector({ projection: orderProjection(), dataDir: tempDir('projection'), database, followIntervalMs: 100 });
    const reader = platform.projector({ projection: orderProjection(), dataDir: tempDir('projection'), database: await postgres.reopen(database), followIntervalMs: 100 });
    await rebuilder.start();
    await reader.start();
    await Promise.all([rebuilder.whenCaughtUp(), reader.whenCaughtUp()]);

    const reads = readInALoop(reader);
    const handle = await rebuilder.rebuild();
    const refused = await reader.rebuild().catch((error: unknown) => error);
    expect(isShoalError(refused, 'SHOAL_PROJECTION_REBUILDING')).toBe(true);
    expect((refused as Error).message).toContain('another instance');
    expect(reader.status()).toMatchObject({ rebuilding: false, rebuild: null });
    expect((await handle.done).state).toBe('swapped');
    const log = await reads.stop();
    expect(log.errors).toEqual([]);
    expect(log.reads).toBeGreaterThan(0);

    // The other instance follows the pointer, and feeds the new model from then on.
    await eventually(() => expect(reader.status().model).toMatchObject({ generation: 2, file: 'order-counts_v1_g2' }));
    const more = await publishOrders(platform.publisher, 1000, 500);
    await Promise.all([rebuilder.whenCaughtUp(), reader.whenCaughtUp()]);
    expect(await reader.read(orderRows)).toEqual(expectedRows([...published, ...more]));
    expect(await rebuilder.read(orderRows)).toEqual(expectedRows([...published, ...more]));
    expect(await schemas(database)).toEqual(['order-counts_v1_g2']);
  });

  it.skipIf(postgres.missing !== undefined)('frees the rebuild lock of an instance killed in the middle of its rebuild', async () => {
    const platform = await startProjectionPlatform();
    const database = (await postgres.database())!;
    const published = await publishOrders(platform.publisher, 0, 2000);
    const survivor = platform.projector({ projection: orderProjection(), dataDir: tempDir('projection'), database, followIntervalMs: 100 });
    await survivor.start();
    await survivor.whenCaughtUp();

    // Another instance, in a child process, that rebuilds and kills itself with SIGKILL halfway through
    // (its handler at the 1,000th event it applies: this one applies everything live, so those are the rebuild's).
    const settings: ProjectorProcessSettings = {
      bootstrap: platform.bootstrap,
      registryUrl: platform.registryUrl,
      dataDir: tempDir('projection'),
      databaseUrl: postgres.location(database)!,
      rebuild: true,
      crashAt: 1000,
      recordsPerTransaction: 100,
    };
    const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'testing/projector-process.ts')], {
      cwd: join(here, '../../..'),
      env: { ...process.env, SHOAL_TEST_PROJECTOR: JSON.stringify(settings) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    onTestFinished(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, exitSignal) => resolve(exitSignal)));
    expect(signal, stderr).toBe('SIGKILL');
    // It died rebuilding: its shadow (created under the lock) is there, and the pointer still names the old model.
    expect(await schemas(database)).toEqual(['order-counts_v1_g1', 'order-counts_v1_g2']);
    expect(survivor.status().model).toMatchObject({ generation: 1 });

    // The server ends the dead instance's session, and with it its lock: a rebuild here goes ahead, and
    // deletes the shadow the dead one left.
    const handle = await eventually(() => survivor.rebuild(), { timeoutMs: 30_000 });
    expect(handle.generation).toBe(3);
    expect((await handle.done).state).toBe('swapped');
    await survivor.whenCaughtUp();
    expect(await survivor.read(orderRows)).toEqual(expectedRows(published));
    expect(await schemas(database)).toEqual(['order-counts_v1_g3']);
  });
});
