/**
 * Test support for this package's tests: a real broker and registry with the catalog, a real
 * service database in a temp dir, a publisher, subscriptions that stop when the test ends, events to
 * publish, records that are not events, and a reader of a dead-letter topic.
 */
import { join } from 'node:path';
import type { IHeaders, KafkaMessage, Producer } from 'kafkajs';
import { onTestFinished } from 'vitest';
import { connected, eventually, tempDir, uniqueName } from '@shoal/testing';
import { createEvent, EventCodec, type OrderPlaced, type ShoalEvent } from '@shoal/contract';
import { Publisher } from '@shoal/transport';
import { startTestPlatform, type TestPlatform } from '@shoal/contract/testing';
import type { SchemaCatalog } from '@shoal/contract';
import type { ServiceDatabase } from '@shoal/store';
import { SqliteServiceDatabase } from '@shoal/store-sqlite';
import type { EventHandlers } from '../event-handlers.js';
import { subscribe, type SubscribeOptions, type Subscription } from '../subscription.js';

/** The connection type of a service database. */
type DbOf<D> = D extends ServiceDatabase<infer Db> ? Db : never;

export interface ConsumerTestbed<D extends ServiceDatabase<unknown> = SqliteServiceDatabase> {
  platform: TestPlatform;
  database: D;
  /** Publishes with the platform's codec, so its schema ids are the registry's. */
  publisher: Publisher;
  /** A plain kafkajs producer, for records that are not valid events. */
  producer: Producer;
  /**
   * A subscription on the testbed's database (fromBeginning, 3 quick retries, short fetch waits, a unique
   * group unless given), stopped when the test ends. Its codec is its own, cold, as a new process's would be.
   */
  subscription<H extends EventHandlers<DbOf<D>>>(options: Partial<SubscribeOptions<H, DbOf<D>>> & Pick<SubscribeOptions<H, DbOf<D>>, 'handlers'>): Subscription;
}

/** A testbed on a SQLite file (`database`, default a new one in a temp dir). */
export async function consumerTestbed(options: { database?: string } = {}): Promise<ConsumerTestbed> {
  const platform = await startTestPlatform();
  return testbedOn(platform, openDatabase(platform, options.database ?? join(tempDir('consumer'), 'service.db')));
}

/**
 * A testbed on the service database `open` gives for the platform's catalog: with @shoal/store-postgres's
 * `storeAdapters`, the same test on SQLite and on PostgreSQL (`consumerTestbedOn(adapter.open)`).
 */
export async function consumerTestbedOn<D extends ServiceDatabase<unknown>>(open: (catalog: SchemaCatalog) => Promise<D>): Promise<ConsumerTestbed<D>> {
  const platform = await startTestPlatform();
  return testbedOn(platform, await open(platform.catalog));
}

async function testbedOn<D extends ServiceDatabase<unknown>>(platform: TestPlatform, database: D): Promise<ConsumerTestbed<D>> {
  const publisher = await connected(new Publisher({ kafka: platform.kafka(), codec: platform.codec }));
  const producer = await connected(platform.kafka().producer());
  return {
    platform,
    database,
    publisher,
    producer,
    subscription(options) {
      const created = subscribe({
        database,
        kafka: platform.kafka(),
        codec: new EventCodec({ registry: platform.registry, catalog: platform.catalog }),
        group: uniqueName('group'),
        topics: ['orders.order'],
        fromBeginning: true,
        retry: { attempts: 3, initialMs: 5, maxMs: 20 },
        consumer: { maxWaitTimeInMs: 100 },
        ...options,
      } as SubscribeOptions<EventHandlers<unknown>, unknown>);
      onTestFinished(() => created.stop());
      return created;
    },
  };
}

/** A service database at `path`, closed when the test ends (before its temp dir is removed). */
export function openDatabase(platform: Pick<TestPlatform, 'catalog'>, path: string): SqliteServiceDatabase {
  const database = new SqliteServiceDatabase({ path, catalog: platform.catalog });
  onTestFinished(() => database.close());
  return database;
}

export const orderSource = '/shoal/orders';

/** An OrderPlaced of `orderId`; `sequence` travels as placedAt, for tests that check order. */
export function orderPlaced(orderId: string, sequence = 0): ShoalEvent<'shoal.orders.OrderPlaced'> {
  const data: OrderPlaced = {
    orderId,
    customerId: 'cus-1',
    lines: [{ sku: 'SKU-1', quantity: 2, unitPrice: { amount: 500, currency: 'EUR' } }],
    total: { amount: 1000, currency: 'EUR' },
    shippingAddress: null,
    placedAt: sequence,
  };
  return createEvent('shoal.orders.OrderPlaced', data, { source: orderSource, subject: orderId });
}

export function orderShipped(orderId: string): ShoalEvent<'shoal.orders.OrderShipped'> {
  return createEvent('shoal.orders.OrderShipped', { orderId, customerId: 'cus-1', shipmentId: `shp-${orderId}`, trackingNumber: 'TRK-1', shippedAt: 1 }, { source: orderSource, subject: orderId });
}

/** The StockReserved an inventory handler emits for `placed`. */
export function stockReserved(placed: ShoalEvent<'shoal.orders.OrderPlaced'>): ShoalEvent<'shoal.inventory.StockReserved'> {
  const { orderId, customerId, lines, total } = placed.data;
  return createEvent('shoal.inventory.StockReserved', { orderId, customerId, lines, total, reservedAt: 2 }, { source: '/shoal/inventory', subject: orderId, causedBy: placed });
}

/** Headers of a record that claims to be an OrderPlaced, for values that are not one. */
export function poisonHeaders(id: string): Record<string, string> {
  return { ce_specversion: '1.0', ce_id: id, ce_source: orderSource, ce_type: 'shoal.orders.OrderPlaced', 'content-type': 'application/avro' };
}

/** Every record of `topic` once there are `count` of them, in offset order, with headers as text. */
export async function readTopic(platform: TestPlatform, topic: string, count: number): Promise<Array<KafkaMessage & { text: Record<string, string> }>> {
  const consumer = platform.kafka().consumer({ groupId: uniqueName('reader'), maxWaitTimeInMs: 100 });
  await connected(consumer);
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const records: KafkaMessage[] = [];
  await consumer.run({
    eachMessage: async ({ message }) => {
      records.push(message);
    },
  });
  await eventually(() => records.length >= count, () => `${count} records on ${topic} (${records.length} so far)`);
  await consumer.stop();
  return records.map((record) => Object.assign(record, { text: headerTexts(record.headers ?? {}) }));
}

function headerTexts(headers: IHeaders): Record<string, string> {
  const texts: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) texts[name] = Array.isArray(value) ? value.map(String).join(',') : value.toString();
  }
  return texts;
}
