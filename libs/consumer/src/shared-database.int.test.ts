/**
 * Several instances of one service: subscriptions in one consumer group on connections of their own to one
 * PostgreSQL database. (Not SQLite: two SQLite connections in one process deadlock as soon as a transaction
 * awaits, since the other's busy wait blocks the thread the first needs to commit; SQLite instances are
 * separate processes, each with its single connection.) Kafka spreads the
 * partitions over the members; one leaves mid-stream (a rebalance hands its partitions, and records it had
 * applied but not committed, to the other); the shared inbox keeps every effect to one application.
 */
import { describe, expect, it } from 'vitest';
import { eventually, uniqueName } from '@shoal/testing';
import { EventCodec } from '@shoal/contract';
import { storeAdapters } from '@shoal/store-postgres/testing';
import { startTestPlatform } from '@shoal/contract/testing';
import { Publisher } from '@shoal/transport';
import { connected } from '@shoal/testing';
import { orderPlaced, stockReserved } from './testing/consumer-testbed.js';
import { subscribe, type Subscription } from './subscription.js';

describe.each(storeAdapters.filter((adapter) => adapter.name === 'postgres'))('Subscriptions of one group on one $name database', (adapter) => {
  it.skipIf(adapter.missing !== undefined)('apply every event once across instances, through a member leaving mid-stream', async () => {
    const platform = await startTestPlatform();
    const first = await adapter.open(platform.catalog);
    const second = await adapter.reopen(first, platform.catalog);
    await first.sql.run('CREATE TABLE effects (event_id TEXT PRIMARY KEY, n INTEGER NOT NULL)');
    const publisher = await connected(new Publisher({ kafka: platform.kafka(), codec: platform.codec }));
    const group = uniqueName('group');
    const applied: Record<string, number> = {};
    const member = (database: typeof first, name: string): Subscription =>
      subscribe({
        database,
        kafka: platform.kafka(),
        codec: new EventCodec({ registry: platform.registry, catalog: platform.catalog }),
        group,
        topics: ['orders.order'],
        fromBeginning: true,
        partitionsInFlight: 3,
        recordsPerTransaction: 20,
        consumer: { maxWaitTimeInMs: 100 },
        // A long commit interval: the member that leaves has applied records whose offsets it never committed.
        commitIntervalMs: 60_000,
        handlers: {
          'shoal.orders.OrderPlaced': async (event, tx) => {
            await tx.sql.run('INSERT INTO effects (event_id, n) VALUES (?, 1) ON CONFLICT (event_id) DO UPDATE SET n = effects.n + 1', [event.id]);
            tx.emit(stockReserved(event));
            applied[name] = (applied[name] ?? 0) + 1;
          },
        },
      });
    const a = member(first, 'a');
    const b = member(second, 'b');
    await Promise.all([a.start(), b.start()]);
    const events = Array.from({ length: 300 }, (_, n) => orderPlaced(`ord-${n % 40}`, n));
    await publisher.publishBatch(events.slice(0, 150));
    await eventually(() => a.status().handled > 0 && b.status().handled > 0, 'both members applying');
    await a.stop();
    await publisher.publishBatch(events.slice(150));

    await eventually(async () => expect((await first.sql.get<{ count: number }>('SELECT COUNT(*) AS count FROM effects'))?.count).toBe(300), { timeoutMs: 30_000 });
    await b.stop();
    expect(await first.sql.all('SELECT event_id FROM effects WHERE n <> 1')).toEqual([]);
    expect(Number((await first.sql.get<{ count: number }>('SELECT COUNT(*) AS count FROM inbox'))?.count)).toBe(300);
    expect(Number((await first.sql.get<{ count: number }>('SELECT COUNT(*) AS count FROM outbox'))?.count)).toBe(300);
    expect(applied['a']! + applied['b']!).toBeGreaterThanOrEqual(300);
  });
});
