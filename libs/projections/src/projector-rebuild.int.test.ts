import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tempDir } from '@shoal/testing';
import { isShoalError } from '@shoal/core';
import type { Projector } from './projector.js';
import { eventually, expectedRows, orderProjection, orderRows, publishOrders, startProjectionPlatform, type PublishedOrder } from './testing/index.js';

interface ReaderLog {
  reads: number;
  readsWhileRebuilding: number;
  empty: number;
  errors: unknown[];
}

/** Queries the projector on every turn of the event loop until stopped, recording what went wrong. */
function readInALoop(projector: Projector): { stop(): ReaderLog } {
  const log: ReaderLog = { reads: 0, readsWhileRebuilding: 0, empty: 0, errors: [] };
  let running = true;
  const turn = () => {
    if (!running) return;
    try {
      const rebuilding = projector.status().rebuilding;
      const { rows } = projector.read((db) => db.prepare<[], { rows: number }>('SELECT count(*) AS rows FROM order_events').get()!);
      log.reads += 1;
      if (rebuilding) log.readsWhileRebuilding += 1;
      if (rows === 0) log.empty += 1;
    } catch (error) {
      log.errors.push(error);
    }
    setImmediate(turn);
  };
  setImmediate(turn);
  return {
    stop: () => {
      running = false;
      return log;
    },
  };
}

/** Publishes batches of 200 events until stopped; resolves with everything it published. */
function publishInALoop(publish: (from: number) => Promise<PublishedOrder[]>, from: number): { stop(): Promise<PublishedOrder[]> } {
  let running = true;
  const published: PublishedOrder[] = [];
  const loop = (async () => {
    for (let next = from; running; next += 200) published.push(...(await publish(next)));
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return published;
    },
  };
}

describe('Projector rebuild', () => {
  it('rebuilds into a shadow while reads are served and events keep coming, then swaps in a model identical to a fresh build', async () => {
    const platform = await startProjectionPlatform();
    const dataDir = tempDir('projection');
    const before = await publishOrders(platform.publisher, 0, 20_000);
    const projector = platform.projector({ projection: orderProjection(), dataDir });
    await projector.start();
    await projector.whenCaughtUp();

    const reader = readInALoop(projector);
    const publisher = publishInALoop((from) => publishOrders(platform.publisher, from, 200), 20_000);
    const handle = await projector.rebuild({ from: 'beginning' });
    expect(projector.status().rebuilding).toBe(true);
    expect(handle.progress()).toMatchObject({ state: 'building', generation: 2, reason: 'requested', from: 'beginning' });
    // The captured end covers at least the backlog; what is published later does not move it.
    expect(handle.progress().total).toBeGreaterThanOrEqual(20_000);
    const refused = await projector.rebuild().catch((error: unknown) => error);
    expect(isShoalError(refused, 'SHOAL_PROJECTION_REBUILDING')).toBe(true);

    const result = await handle.done;
    const during = await publisher.stop();
    const log = reader.stop();
    expect(result.state).toBe('swapped');
    expect(result.partitions.every((p) => p.caughtUp && p.done === p.total)).toBe(true);
    expect(result.done).toBe(result.total);
    expect(log.errors).toEqual([]);
    expect(log.empty).toBe(0);
    expect(log.readsWhileRebuilding).toBeGreaterThan(0);

    await projector.whenCaughtUp();
    const rebuilt = projector.read(orderRows);
    expect(rebuilt).toEqual(expectedRows([...before, ...during]));
    const fresh = platform.projector({ projection: orderProjection(), dataDir: tempDir('fresh') });
    await fresh.start();
    await fresh.whenCaughtUp();
    expect(fresh.read(orderRows)).toEqual(rebuilt);

    const status = projector.status();
    expect(status).toMatchObject({ state: 'running', rebuilding: false, lag: 0, model: { file: 'order-counts.v1.g2.db', generation: 2 }, rebuild: { state: 'swapped' } });
    expect(readdirSync(dataDir).filter((file) => file.endsWith('.db') || file.endsWith('.json')).sort()).toEqual(['order-counts.current.json', 'order-counts.v1.g2.db']);
  });

  it('rebuilds a new version on start while the old model serves reads, then swaps it in', async () => {
    const platform = await startProjectionPlatform();
    const dataDir = tempDir('projection');
    const published = await publishOrders(platform.publisher, 0, 8000);
    const v1 = platform.projector({ projection: orderProjection({ version: 1 }), dataDir });
    await v1.start();
    await v1.whenCaughtUp();
    await v1.stop();

    const v2 = platform.projector({ projection: orderProjection({ version: 2 }), dataDir });
    await v2.start();
    const reader = readInALoop(v2);
    expect(v2.status()).toMatchObject({ state: 'stale', stale: true, version: 2, model: { version: 1 }, rebuilding: true, rebuild: { reason: 'version-change', version: 2 } });
    // Stale but whole: the old version's rows, without the column version 2 adds.
    expect(v2.read(orderRows)).toEqual(expectedRows(published));
    expect(() => v2.read((db) => db.prepare('SELECT customer_id FROM order_events').all())).toThrow(/customer_id/);

    const result = await v2.rebuilding()!.done;
    const log = reader.stop();
    expect(result.state).toBe('swapped');
    expect(log.errors).toEqual([]);
    expect(log.empty).toBe(0);
    await v2.whenCaughtUp();
    expect(v2.status()).toMatchObject({ state: 'running', stale: false, model: { version: 2, file: 'order-counts.v2.g2.db' } });
    expect(v2.read(orderRows)).toEqual(expectedRows(published));
    expect(v2.read((db) => db.prepare<[], { customers: number }>('SELECT count(DISTINCT customer_id) AS customers FROM order_events').get()!.customers)).toBe(7);
    expect(readdirSync(dataDir).filter((file) => file.endsWith('.db')).sort()).toEqual(['order-counts.v2.g2.db']);
  });

  it('rebuilds from a timestamp: the new model holds the events from that time on', async () => {
    const platform = await startProjectionPlatform();
    const dataDir = tempDir('projection');
    const early = await publishOrders(platform.publisher, 0, 1500);
    const cut = Date.now() + 1;
    await eventually(() => expect(Date.now()).toBeGreaterThan(cut));
    const late = await publishOrders(platform.publisher, 1500, 1500);
    const projector = platform.projector({ projection: orderProjection(), dataDir });
    await projector.start();
    await projector.whenCaughtUp();
    expect(projector.read(orderRows)).toEqual(expectedRows([...early, ...late]));

    const handle = await projector.rebuild({ from: { timestamp: cut } });
    expect(handle.progress().total).toBe(1500);
    const result = await handle.done;
    expect(result).toMatchObject({ state: 'swapped', from: { timestamp: cut }, done: 1500 });
    expect(projector.read(orderRows)).toEqual(expectedRows(late));
    expect(projector.status().model).toMatchObject({ generation: 2, builtFrom: { timestamp: cut } });
  });

  it('leaves the live model untouched when a rebuild fails, and deletes the shadow of a cancelled one', async () => {
    const platform = await startProjectionPlatform();
    const dataDir = tempDir('projection');
    const published = await publishOrders(platform.publisher, 0, 3000);
    const first = platform.projector({ projection: orderProjection(), dataDir });
    await first.start();
    await first.whenCaughtUp();
    await first.stop();

    // The same version, whose handler now refuses an event the live model applied long ago: only a replay meets it.
    const projector = platform.projector({ projection: orderProjection({ failOn: 1234 }), dataDir });
    await projector.start();
    const more = await publishOrders(platform.publisher, 3000, 500);
    await projector.whenCaughtUp();
    const failed = await (await projector.rebuild()).done;
    expect(failed.state).toBe('failed');
    expect(failed.error).toMatchObject({ code: 'SHOAL_HANDLER_FAILED' });
    expect(projector.status()).toMatchObject({ state: 'running', rebuilding: false, model: { generation: 1 }, rebuild: { state: 'failed', generation: 2 } });
    expect(projector.read(orderRows)).toEqual(expectedRows([...published, ...more]));
    expect(readdirSync(dataDir).filter((file) => file.endsWith('.db'))).toEqual(['order-counts.v1.g1.db']);

    // A rebuild still running when the projector stops is cancelled: its shadow goes, the live model stays.
    const cancelled = await projector.rebuild();
    await projector.stop();
    expect((await cancelled.done).state).toBe('cancelled');
    expect(readdirSync(dataDir).filter((file) => file.endsWith('.db'))).toEqual(['order-counts.v1.g1.db']);
  });
});
