/**
 * Several instances of one service on one PostgreSQL database: subscriptions of one consumer group on
 * connections of their own to it. (Not SQLite: two SQLite connections in one process deadlock as soon as a
 * transaction awaits, since the other's busy wait blocks the thread the first needs to commit; SQLite
 * instances are separate processes, each with its single connection.) Kafka spreads the partitions over the
 * members; one leaves mid-stream (a rebalance hands its partitions, and records it had applied but whose
 * offsets it never committed, to the other); the shared inbox keeps every effect to one application. And
 * PostgreSQL itself goes away mid-stream: the subscription waits it out and dead-letters nothing.
 */
import { describe, expect, it } from 'vitest';
import { connected, eventually, uniqueName } from '@shoal/testing';
import { EventCodec } from '@shoal/contract';
import { startTestPlatform, type TestPlatform } from '@shoal/contract/testing';
import { queryBuilder, type ServiceDatabase } from '@shoal/store';
import { storeAdapters, testPostgresServer } from '@shoal/store-postgres/testing';
import { Publisher } from '@shoal/transport';
import { orderPlaced, stockReserved } from './testing/consumer-testbed.js';
import { subscribe, type SubscribeOptions, type Subscription } from './subscription.js';

interface Tables {
  effects: { event_id: string; n: number };
}

const postgres = storeAdapters.find((adapter) => adapter.name === 'postgres')!;

/** A member of `group` whose handler counts each event's applications in `effects` (through queryBuilder) and emits a StockReserved. */
function member(platform: TestPlatform, database: ServiceDatabase, group: string, applied: Map<string, number>, options: Partial<SubscribeOptions> = {}): Subscription {
  return subscribe({
    database,
    kafka: platform.kafka(),
    codec: new EventCodec({ registry: platform.registry, catalog: platform.catalog }),
    group,
    topics: ['orders.order'],
    fromBeginning: true,
    partitionsInFlight: 3,
    recordsPerTransaction: 20,
    consumer: { maxWaitTimeInMs: 100 },
    ...options,
    handlers: {
      'shoal.orders.OrderPlaced': async (event, tx) => {
        await queryBuilder<Tables>(tx.sql)
          .insertInto('effects')
          .values({ event_id: event.id, n: 1 })
          .onConflict((conflict) => conflict.column('event_id').doUpdateSet((eb) => ({ n: eb('effects.n', '+', 1) })))
          .execute();
        tx.emit(stockReserved(event));
        applied.set(event.id, (applied.get(event.id) ?? 0) + 1);
      },
    },
  });
}

async function countOf(database: ServiceDatabase, table: string): Promise<number> {
  return (await database.sql.get<{ count: number }>(`SELECT COUNT(*)::int AS count FROM ${table}`))!.count;
}

async function expectAppliedOnce(database: ServiceDatabase, total: number): Promise<void> {
  expect(await database.sql.all('SELECT event_id, n FROM effects WHERE n <> 1')).toEqual([]);
  expect(await countOf(database, 'effects')).toBe(total);
  expect(await countOf(database, 'inbox')).toBe(total);
  expect(await countOf(database, 'outbox')).toBe(total);
  expect(await countOf(database, 'parked_records')).toBe(0);
}

describe('Subscriptions on one PostgreSQL database', () => {
  it.skipIf(postgres.missing !== undefined)('apply every event once across two instances of a group, through a member leaving mid-stream', async () => {
    const platform = await startTestPlatform();
    const first = await postgres.open(platform.catalog);
    const second = await postgres.reopen(first, platform.catalog);
    await first.sql.run('CREATE TABLE effects (event_id TEXT PRIMARY KEY, n INTEGER NOT NULL)');
    const publisher = await connected(new Publisher({ kafka: platform.kafka(), codec: platform.codec }));
    const group = uniqueName('group');
    const byA = new Map<string, number>();
    const byB = new Map<string, number>();
    // A long commit interval: the member that leaves has applied records whose offsets it never committed.
    const a = member(platform, first, group, byA, { commitIntervalMs: 60_000 });
    const b = member(platform, second, group, byB, { commitIntervalMs: 60_000 });
    await Promise.all([a.start(), b.start()]);
    const events = Array.from({ length: 300 }, (_, n) => orderPlaced(`ord-${n % 40}`, n));
    await publisher.publishBatch(events.slice(0, 150));
    await eventually(() => a.status().handled > 0 && b.status().handled > 0, 'both members applying');
    await a.stop();
    await publisher.publishBatch(events.slice(150));

    await eventually(async () => expect(await countOf(first, 'effects')).toBe(300), { timeoutMs: 60_000 });
    await b.stop();
    await expectAppliedOnce(first, 300);
    // Every event was applied by a member; what b was handed again after the rebalance it found in the inbox.
    expect(new Set([...byA.keys(), ...byB.keys()]).size).toBe(300);
    expect(a.status().deadLettered + b.status().deadLettered).toBe(0);
  });

  it.skipIf(postgres.missing !== undefined)('waits out PostgreSQL stopped and started again mid-stream: nothing dead-lettered, everything applied once after', async () => {
    const platform = await startTestPlatform();
    const server = await testPostgresServer();
    const database = await postgres.open(platform.catalog);
    await database.sql.run('CREATE TABLE effects (event_id TEXT PRIMARY KEY, n INTEGER NOT NULL)');
    const publisher = await connected(new Publisher({ kafka: platform.kafka(), codec: platform.codec }));
    const applied = new Map<string, number>();
    // Quick outage retries, so the test does not wait out the default's 30 s cap once the server is back.
    const subscription = member(platform, database, uniqueName('group'), applied, { retry: { attempts: 2, initialMs: 20, maxMs: 300 } });
    await subscription.start();
    const events = Array.from({ length: 400 }, (_, n) => orderPlaced(`ord-${n % 50}`, n));
    await publisher.publishBatch(events.slice(0, 100));
    await eventually(() => subscription.status().handled > 0, 'applying');

    await server.halt();
    try {
      await publisher.publishBatch(events.slice(100));
      await eventually(() => expect(subscription.status().outageRetries).toBeGreaterThan(3), { timeoutMs: 30_000 });
      expect(subscription.status()).toMatchObject({ state: 'running', deadLettered: 0, parked: 0, retries: 0 });
    } finally {
      await server.restart();
    }

    await eventually(async () => expect(await countOf(database, 'effects')).toBe(400), { timeoutMs: 60_000 });
    await subscription.stop();
    await expectAppliedOnce(database, 400);
    expect(subscription.status()).toMatchObject({ deadLettered: 0, parked: 0, parking: { deadLetters: 0, parked: 0 } });
  });
});
