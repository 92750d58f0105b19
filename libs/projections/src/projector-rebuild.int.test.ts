import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tempDir, eventually } from '@shoal/testing';
import { isShoalError } from '@shoal/core';
import type { ServiceDatabase } from '@shoal/store';
import type { Projector } from './projector.js';
import { expectedRows, orderProjection, orderRows, projectionStores, publishOrders, startProjectionPlatform, type OrderTables, type PublishedOrder } from './testing/index.js';

/** The model of a generation: its file, or its schema. */
function modelLocation(store: string, version: number, generation: number): string {
  return store === 'sqlite' ? `order-counts.v${version}.g${generation}.db` : `order-counts_v${version}_g${generation}`;
}

interface ReaderLog {
  reads: number;
  readsWhileRebuilding: number;
  empty: number;
  errors: unknown[];
}

/** Queries the projector one read after another until stopped, recording what went wrong. */
function readInALoop(projector: Projector<OrderTables>): { stop(): Promise<ReaderLog> } {
  const log: ReaderLog = { reads: 0, readsWhileRebuilding: 0, empty: 0, errors: [] };
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        const rebuilding = projector.status().rebuilding;
        const { rows } = await projector.read(({ db }) =>
          db
            .selectFrom('order_events')
            .select((eb) => eb.fn.countAll<number>().as('rows'))
            .executeTakeFirstOrThrow(),
        );
        log.reads += 1;
        if (rebuilding) log.readsWhileRebuilding += 1;
        if (Number(rows) === 0) log.empty += 1;
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

/** Publishes batches of 200 events until stopped (or `batches` of them); resolves with everything it published. */
function publishInALoop(publish: (from: number) => Promise<PublishedOrder[]>, from: number, batches = Infinity): { stop(): Promise<PublishedOrder[]> } {
  let running = true;
  const published: PublishedOrder[] = [];
  const loop = (async () => {
    for (let next = from, batch = 0; running && batch < batches; next += 200, batch += 1) published.push(...(await publish(next)));
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return published;
    },
  };
}

/** The models of order-counts: its files and pointer under `dataDir`, or its schemas in `database`. */
async function models(dataDir: string, database: ServiceDatabase | undefined): Promise<string[]> {
  if (database === undefined) return readdirSync(dataDir).filter((file) => file.endsWith('.db') || file.endsWith('.json')).sort();
  const rows = await database.sql.all<{ nspname: string }>("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'order-counts%' ORDER BY nspname");
  return rows.map((row) => row.nspname);
}

describe.each(projectionStores)('Projector rebuild on $name', (store) => {
  it.skipIf(store.missing !== undefined)('rebuilds into a shadow while reads are served and events keep coming, then swaps in a model identical to a fresh build', async () => {
    const platform = await startProjectionPlatform();
    const dataDir = tempDir('projection');
    const database = await store.database();
    // Every statement is a round trip on PostgreSQL: a smaller backlog keeps the test's length alike on both.
    const backlog = store.name === 'sqlite' ? 20_000 : 1000;
    const before = await publishOrders(platform.publisher, 0, backlog);
    const projector = platform.projector({ projection: orderProjection(), dataDir, database });
    await projector.start();
    await projector.whenCaughtUp();

    const reader = readInALoop(projector);
    // On PostgreSQL a bounded stream: the live feed applies a round trip per event, and must not fall behind forever.
    const publisher = publishInALoop((from) => publishOrders(platform.publisher, from, 200), backlog, store.name === 'sqlite' ? Infinity : 5);
    const handle = await projector.rebuild({ from: 'beginning' });
    expect(projector.status().rebuilding).toBe(true);
    expect(handle.progress()).toMatchObject({ state: 'building', generation: 2, reason: 'requested', from: 'beginning' });
    // The captured end covers at least the backlog; what is published later does not move it.
    expect(handle.progress().total).toBeGreaterThanOrEqual(backlog);
    const refused = await projector.rebuild().catch((error: unknown) => error);
    expect(isShoalError(refused, 'SHOAL_PROJECTION_REBUILDING')).toBe(true);

    const result = await handle.done;
    const during = await publisher.stop();
    const log = await reader.stop();
    expect(result.state).toBe('swapped');
    expect(result.partitions.every((p) => p.caughtUp && p.done === p.total)).toBe(true);
    expect(result.done).toBe(result.total);
    expect(log.errors).toEqual([]);
    expect(log.empty).toBe(0);
    expect(log.readsWhileRebuilding).toBeGreaterThan(0);

    await projector.whenCaughtUp();
    const rebuilt = await projector.read(orderRows);
    expect(rebuilt).toEqual(expectedRows([...before, ...during]));
    const fresh = platform.projector({ projection: orderProjection({ name: 'fresh-counts' }), dataDir: tempDir('fresh'), database });
    await fresh.start();
    await fresh.whenCaughtUp();
    expect(await fresh.read(orderRows)).toEqual(rebuilt);

    const status = projector.status();
    expect(status).toMatchObject({ state: 'running', rebuilding: false, lag: 0, model: { file: modelLocation(store.name, 1, 2), generation: 2 }, rebuild: { state: 'swapped' } });
    expect(await models(dataDir, database)).toEqual(store.name === 'sqlite' ? ['order-counts.current.json', 'order-counts.v1.g2.db'] : ['order-counts_v1_g2']);
  });

  it.skipIf(store.missing !== undefined)('rebuilds a new version on start while the old model serves reads, then swaps it in', async () => {
    const platform = await startProjectionPlatform();
    const dataDir = tempDir('projection');
    const database = await store.database();
    const published = await publishOrders(platform.publisher, 0, store.name === 'sqlite' ? 8000 : 2000);
    const v1 = platform.projector({ projection: orderProjection({ version: 1 }), dataDir, database });
    await v1.start();
    await v1.whenCaughtUp();
    await v1.stop();

    const v2 = platform.projector({ projection: orderProjection({ version: 2 }), dataDir, database });
    await v2.start();
    const reader = readInALoop(v2);
    expect(v2.status()).toMatchObject({ state: 'stale', stale: true, version: 2, model: { version: 1 }, rebuilding: true, rebuild: { reason: 'version-change', version: 2 } });
    // Stale but whole: the old version's rows, without the column version 2 adds.
    expect(await v2.read(orderRows)).toEqual(expectedRows(published));
    await expect(v2.read(({ db }) => db.selectFrom('order_events').select('customer_id').execute())).rejects.toThrow(/customer_id/);

    const result = await v2.rebuilding()!.done;
    const log = await reader.stop();
    expect(result.state).toBe('swapped');
    expect(log.errors).toEqual([]);
    expect(log.empty).toBe(0);
    await v2.whenCaughtUp();
    expect(v2.status()).toMatchObject({ state: 'running', stale: false, model: { version: 2, file: modelLocation(store.name, 2, 2) } });
    expect(await v2.read(orderRows)).toEqual(expectedRows(published));
    expect(await v2.read(({ sql }) => sql.get<{ customers: number }>('SELECT count(DISTINCT customer_id) AS customers FROM order_events'))).toEqual({ customers: 7 });
    expect((await models(dataDir, database)).filter((model) => !model.endsWith('.json'))).toEqual([modelLocation(store.name, 2, 2)]);
  });

  it.skipIf(store.missing !== undefined)('rebuilds from a timestamp: the new model holds the events from that time on', async () => {
    const platform = await startProjectionPlatform();
    const dataDir = tempDir('projection');
    const database = await store.database();
    const early = await publishOrders(platform.publisher, 0, 1500);
    const cut = Date.now() + 1;
    await eventually(() => expect(Date.now()).toBeGreaterThan(cut));
    const late = await publishOrders(platform.publisher, 1500, 1500);
    const projector = platform.projector({ projection: orderProjection(), dataDir, database });
    await projector.start();
    await projector.whenCaughtUp();
    expect(await projector.read(orderRows)).toEqual(expectedRows([...early, ...late]));

    const handle = await projector.rebuild({ from: { timestamp: cut } });
    expect(handle.progress().total).toBe(1500);
    const result = await handle.done;
    expect(result).toMatchObject({ state: 'swapped', from: { timestamp: cut }, done: 1500 });
    expect(await projector.read(orderRows)).toEqual(expectedRows(late));
    expect(projector.status().model).toMatchObject({ generation: 2, builtFrom: { timestamp: cut } });
  });

  it.skipIf(store.missing !== undefined)('leaves the live model untouched when a rebuild fails, and deletes the shadow of a cancelled one', async () => {
    const platform = await startProjectionPlatform();
    const dataDir = tempDir('projection');
    const database = await store.database();
    const published = await publishOrders(platform.publisher, 0, store.name === 'sqlite' ? 3000 : 1500);
    const first = platform.projector({ projection: orderProjection(), dataDir, database });
    await first.start();
    await first.whenCaughtUp();
    await first.stop();

    // The same version, whose handler now refuses an event the live model applied long ago: only a replay meets it.
    const projector = platform.projector({ projection: orderProjection({ failOn: 1234 }), dataDir, database });
    await projector.start();
    const more = await publishOrders(platform.publisher, published.length, 500);
    await projector.whenCaughtUp();
    const failed = await (await projector.rebuild()).done;
    expect(failed.state).toBe('failed');
    expect(failed.error).toMatchObject({ code: 'SHOAL_HANDLER_FAILED' });
    expect(projector.status()).toMatchObject({ state: 'running', rebuilding: false, model: { generation: 1 }, rebuild: { state: 'failed', generation: 2 } });
    expect(await projector.read(orderRows)).toEqual(expectedRows([...published, ...more]));
    expect((await models(dataDir, database)).filter((model) => !model.endsWith('.json'))).toEqual([modelLocation(store.name, 1, 1)]);

    // A rebuild still running when the projector stops is cancelled: its shadow goes, the live model stays.
    const cancelled = await projector.rebuild();
    await projector.stop();
    expect((await cancelled.done).state).toBe('cancelled');
    expect((await models(dataDir, database)).filter((model) => !model.endsWith('.json'))).toEqual([modelLocation(store.name, 1, 1)]);
  });
});
