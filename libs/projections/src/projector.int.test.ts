import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Database from 'better-sqlite3';
import { describe, expect, it, onTestFinished } from 'vitest';
import { tempDir, eventually } from '@shoal/testing';
import { EventCodec, RegistryClient, createEvent } from '@shoal/contract';
import type { ServiceDatabase } from '@shoal/store';
import { expectedRows, orderProjection, orderRows, projectionStores, publishOrders, startProjectionPlatform, type PublishedOrder } from './testing/index.js';

const POSITIONS = "SELECT partition, next_offset FROM projection_positions WHERE topic = 'orders.order' ORDER BY partition";

/** next_offset per partition of orders.order, as stored in a read model: a file under `dataDir`, or a schema of `database`. */
async function storedPositions(location: string, dataDir: string, database: ServiceDatabase | undefined): Promise<Record<number, number>> {
  let rows: Array<{ partition: number; next_offset: number }>;
  if (database === undefined) {
    const db = new Database(join(dataDir, location), { readonly: true });
    try {
      rows = db.prepare<[], { partition: number; next_offset: number }>(POSITIONS).all();
    } finally {
      db.close();
    }
  } else {
    rows = await database.sql.all(POSITIONS.replace('FROM projection_positions', `FROM "${location}".projection_positions`));
  }
  return Object.fromEntries(rows.map((row) => [row.partition, Number(row.next_offset)]));
}

/** The model of a generation: its file, or its schema. */
function modelLocation(store: string, name: string, version: number, generation: number): string {
  return store === 'sqlite' ? `${name}.v${version}.g${generation}.db` : `${name}_v${version}_g${generation}`;
}

/** The offset after the last published event of each partition. */
function endOf(published: readonly PublishedOrder[]): Record<number, number> {
  const ends: Record<number, number> = {};
  for (const { partition, offset } of published) ends[partition] = Math.max(ends[partition] ?? 0, offset + 1);
  return ends;
}

describe.each(projectionStores)('Projector on $name', (store) => {
  it.skipIf(store.missing !== undefined)('applies each event once, keeps its positions in the read model and resumes there after a graceful stop', async () => {
    const platform = await startProjectionPlatform();
    const dataDir = tempDir('projection');
    const database = await store.database();
    const first = await publishOrders(platform.publisher, 0, 3000);
    // A type without a handler: skipped and counted, and the position still moves past it.
    const confirmed = createEvent(
      'shoal.orders.OrderConfirmed',
      { orderId: 'ord-0001', customerId: 'cus-1', paymentId: 'pay-1', total: { amount: 100, currency: 'EUR' }, confirmedAt: 1 },
      { source: '/shoal/orders', subject: 'ord-0001' },
    );
    const [skippedAt] = await platform.publisher.publish(confirmed);

    const projector = platform.projector({ projection: orderProjection(), dataDir, database, recordsPerTransaction: 500 });
    await projector.start();
    await projector.whenCaughtUp();
    expect(await projector.read(orderRows)).toEqual(expectedRows(first));
    const status = projector.status();
    expect(status).toMatchObject({ state: 'running', applied: 3000, skipped: 1, skippedByType: { 'shoal.orders.OrderConfirmed': 1 }, poisoned: 0, lag: 0, rebuilding: false, stale: false });
    expect(status.model).toMatchObject({ file: modelLocation(store.name, 'order-counts', 1, 1), version: 1, generation: 1, builtFrom: 'beginning' });
    const ends = endOf(first);
    ends[skippedAt!.partition] = Math.max(ends[skippedAt!.partition] ?? 0, Number(skippedAt!.offset) + 1);
    expect(status.partitions.map((p) => [p.partition, p.nextOffset])).toEqual(Object.entries(ends).map(([p, end]) => [Number(p), end]));
    await projector.stop();
    expect(await storedPositions(modelLocation(store.name, 'order-counts', 1, 1), dataDir, database)).toEqual(ends);

    const second = await publishOrders(platform.publisher, 3000, 2000);
    const resumed = platform.projector({ projection: orderProjection(), dataDir, database });
    await resumed.start();
    await resumed.whenCaughtUp();
    expect(await resumed.read(orderRows)).toEqual(expectedRows([...first, ...second]));
    // Only the new events were applied by the resumed projector.
    expect(resumed.status().applied).toBe(2000);
    if (store.name === 'sqlite') {
      expect(readdirSync(dataDir).sort()).toEqual(['order-counts.current.json', 'order-counts.v1.g1.db', 'order-counts.v1.g1.db-shm', 'order-counts.v1.g1.db-wal']);
    }
  });

  it.skipIf(store.missing !== undefined)('rolls back a failed run with its position, stops, and applies everything once after a fix', async () => {
    const platform = await startProjectionPlatform();
    const dataDir = tempDir('projection');
    const database = await store.database();
    const published = await publishOrders(platform.publisher, 0, 4000);
    const failOn = 2345;
    const broken = platform.projector({ projection: orderProjection({ failOn }), dataDir, database, recordsPerTransaction: 300 });
    await broken.start();
    const caughtUp = broken.whenCaughtUp();
    await expect(caughtUp).rejects.toMatchObject({ code: 'SHOAL_HANDLER_FAILED' });
    const status = broken.status();
    const failing = published.find((p) => p.seq === failOn)!;
    expect(status.state).toBe('failed');
    expect(status.error?.code).toBe('SHOAL_HANDLER_FAILED');
    expect(status.error?.message).toContain(`orders.order/${failing.partition}@${failing.offset}`);
    // The model holds exactly the events below the stored positions: the failing run left neither rows nor position.
    const positions = Object.fromEntries(status.partitions.map((p) => [p.partition, p.nextOffset]));
    expect(positions[failing.partition]).toBeLessThanOrEqual(failing.offset);
    expect(await broken.read(orderRows)).toEqual(expectedRows(published.filter((p) => p.offset < positions[p.partition]!)));
    await broken.stop();

    const fixed = platform.projector({ projection: orderProjection(), dataDir, database });
    await fixed.start();
    await fixed.whenCaughtUp();
    expect(await fixed.read(orderRows)).toEqual(expectedRows(published));
  });

  it.skipIf(store.missing !== undefined)('skips a record it cannot decode, live and in a rebuild alike, so both build the same model', async () => {
    const platform = await startProjectionPlatform();
    const dataDir = tempDir('projection');
    const database = await store.database();
    const before = await publishOrders(platform.publisher, 0, 500);
    const producer = platform.kafka().producer();
    await producer.connect();
    onTestFinished(() => producer.disconnect());
    // Valid CloudEvent headers of a handled type, but a value that is not Confluent-framed Avro.
    const poison = (id: string) => ({
      key: 'ord-0001',
      value: Buffer.from('not avro at all'),
      headers: { ce_specversion: '1.0', ce_id: id, ce_source: '/shoal/orders', ce_type: 'shoal.orders.OrderPlaced', 'content-type': 'application/avro' },
    });
    await producer.send({ topic: 'orders.order', messages: [poison('poison-1')] });
    const after = await publishOrders(platform.publisher, 500, 500);
    // The last record of its partition: the position must move past it too, or the model never catches up.
    await producer.send({ topic: 'orders.order', messages: [poison('poison-2')] });
    const projector = platform.projector({ projection: orderProjection(), dataDir, database });
    await projector.start();
    await projector.whenCaughtUp();
    expect(projector.status()).toMatchObject({ state: 'running', poisoned: 2, applied: 1000, lag: 0 });
    const live = await projector.read(orderRows);
    expect(live).toEqual(expectedRows([...before, ...after]));

    expect((await (await projector.rebuild()).done).state).toBe('swapped');
    expect(projector.status()).toMatchObject({ poisoned: 2, model: { generation: 2 } });
    expect(await projector.read(orderRows)).toEqual(live);
  });

  it.skipIf(store.missing !== undefined)('retries while the registry is down instead of skipping events, then applies each once', async () => {
    const platform = await startProjectionPlatform();
    const published = await publishOrders(platform.publisher, 0, 1500);
    const database = await store.database();
    // The registry as the projector sees it: 503 until it comes back, then the real one.
    let down = true;
    let refused = 0;
    const gateway = createServer((request, response) => {
      if (down) {
        refused += 1;
        response.writeHead(503).end();
        return;
      }
      void fetch(`${platform.registryUrl}${request.url}`).then(async (answer) => {
        response.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' }).end(Buffer.from(await answer.arrayBuffer()));
      });
    });
    await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => gateway.close(() => resolve())));
    const registry = new RegistryClient({ url: `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`, retries: 0 });
    const projector = platform.projector({
      projection: orderProjection(),
      dataDir: tempDir('projection'),
      database,
      codec: new EventCodec({ registry, catalog: platform.catalog }),
      retry: { initialMs: 20, maxMs: 100 },
    });
    await projector.start();
    await eventually(() => expect(refused).toBeGreaterThan(3));
    expect(projector.status()).toMatchObject({ state: 'running', applied: 0, poisoned: 0, lag: 1500 });
    expect(await projector.read(orderRows)).toEqual([]);

    down = false;
    await projector.whenCaughtUp();
    expect(await projector.read(orderRows)).toEqual(expectedRows(published));
    expect(projector.status()).toMatchObject({ applied: 1500, poisoned: 0, lag: 0 });
  });
});
