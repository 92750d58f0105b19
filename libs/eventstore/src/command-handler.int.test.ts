import { describe, expect } from 'vitest';
import type { Decider } from '@shoal/core';
import { storeAdapters, type StoreAdapter } from '@shoal/store-postgres/testing';
import { envelope } from './domain-event.js';
import { ConcurrencyError, EventStore, handleCommand, handleCommandIn, type EventStoreOptions } from './index.js';
import {
  notificationDecider,
  notificationMessage,
  orderDecider,
  OrderRuleViolation,
  testLines,
  type NotificationCount,
  type NotificationEvent,
  type NotifyCommand,
  type OrderCommand,
} from './testing/deciders.js';
import { openTestStore, outboxRows, overtakenDatabase, itOn, refusal, reopenTestStore } from './testing/databases.js';

const NOW = 1_767_225_600_000;
const place: OrderCommand = { type: 'PlaceOrder', orderId: 'ord-1', customerId: 'cus-1', lines: testLines(), now: NOW };
const confirm: OrderCommand = { type: 'ConfirmOrder', paymentId: 'pay-1', now: NOW + 1 };

function storeOptions(options: Partial<EventStoreOptions> = {}): Partial<EventStoreOptions> {
  let ids = 0;
  return { source: '/shoal/orders', now: () => new Date(NOW), newId: () => `evt-${(ids += 1)}`, ...options };
}

async function testStore(adapter: StoreAdapter, options: Partial<EventStoreOptions> = {}) {
  const store = await openTestStore(adapter, storeOptions(options));
  return { database: store.database, store };
}

function notify(n: number): NotifyCommand {
  return { type: 'Notify', notificationId: `ntf-${n}`, customerId: 'cus-1', now: NOW + n };
}

/**
 * A store whose handler is overtaken before each of its first `times` decisions: another connection (another
 * instance's) to the same database runs a Notify on the stream between the handler's read and its append.
 * `database` is the store's database as the test reads it; `store` writes through overtakenDatabase.
 */
async function overtakenStore(adapter: StoreAdapter, streamId: string, times: number) {
  const { database, store: plain } = await testStore(adapter);
  const other = await reopenTestStore(adapter, plain, { source: '/shoal/notifications' });
  let overtaking: Promise<unknown> = Promise.resolve();
  const store = await EventStore.open(
    overtakenDatabase(database, () => overtaking),
    storeOptions(),
  );
  const calls = { decisions: 0 };
  const decider: Decider<NotificationCount, NotifyCommand, NotificationEvent> = {
    ...notificationDecider,
    decide(command, state) {
      calls.decisions += 1;
      if (calls.decisions <= times) {
        const events = notificationDecider.decide(notify(1000 + calls.decisions), state).map((event) => envelope(event, { source: '/shoal/notifications', subject: streamId }));
        overtaking = other.append(streamId, 'any', events);
      }
      return notificationDecider.decide(command, state);
    },
  };
  return { database, store, decider, calls };
}

describe.each(storeAdapters)('handleCommand on $name', (adapter) => {
  const it = itOn(adapter);

  it('reads, decides and appends events in their envelopes, with their outbox rows', async () => {
    const { database, store } = await testStore(adapter);

    const result = await handleCommand(store, orderDecider, 'ord-1', place);

    expect(result.nextExpectedVersion).toBe(1);
    expect(result.newState).toMatchObject({ status: 'PLACED', orderId: 'ord-1', total: { amount: 1500, currency: 'EUR' } });
    expect(result.newEvents).toEqual([
      {
        specversion: '1.0',
        id: 'evt-1',
        source: '/shoal/orders',
        type: 'shoal.orders.OrderPlaced',
        time: new Date(NOW).toISOString(),
        subject: 'ord-1',
        partitionkey: 'ord-1',
        correlationid: 'evt-1',
        data: orderDecider.decide(place, orderDecider.initialState())[0]?.data,
      },
    ]);
    expect((await store.readStream('ord-1')).events.map((r) => r.event)).toEqual(result.newEvents);
    expect((await outboxRows(database)).map((row) => row.id)).toEqual(['evt-1']);
  });

  it('carries the cause\'s correlation, the subject and the source a command gives', async () => {
    const { store } = await testStore(adapter);
    await handleCommand(store, orderDecider, 'order-ord-1', place, { subject: 'ord-1' });

    const { newEvents } = await handleCommand(store, orderDecider, 'order-ord-1', confirm, {
      subject: 'ord-1',
      source: '/shoal/orders-v2',
      causedBy: { id: 'pay-evt-1', correlationid: 'flow-1' },
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    });

    expect(newEvents[0]).toMatchObject({
      source: '/shoal/orders-v2',
      subject: 'ord-1',
      partitionkey: 'ord-1',
      correlationid: 'flow-1',
      causationid: 'pay-evt-1',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    });
    expect(await store.streamVersion('order-ord-1')).toBe(2);
  });

  it('lets a domain error through and appends nothing', async () => {
    const { database, store } = await testStore(adapter);

    await expect(handleCommand(store, orderDecider, 'ord-1', confirm)).rejects.toThrow(OrderRuleViolation);

    expect([await store.streamVersion('ord-1'), (await outboxRows(database)).length]).toEqual([0, 0]);
  });

  it('writes nothing when the decider decides nothing', async () => {
    const { database, store } = await testStore(adapter);
    await handleCommand(store, orderDecider, 'ord-1', place);
    await handleCommand(store, orderDecider, 'ord-1', confirm);

    const again = await handleCommand(store, orderDecider, 'ord-1', confirm);

    expect(again).toMatchObject({ newEvents: [], nextExpectedVersion: 2, newState: { status: 'CONFIRMED' } });
    expect(await outboxRows(database)).toHaveLength(2);
  });

  it('needs a source, from the store or the command', async () => {
    const { store } = await testStore(adapter, { source: undefined });
    expect((await refusal(() => handleCommand(store, orderDecider, 'ord-1', place))).code).toBe('SHOAL_CONFIG_INVALID');
    expect((await handleCommand(store, orderDecider, 'ord-1', place, { source: '/shoal/orders' })).newEvents[0]?.source).toBe('/shoal/orders');
  });

  it('retries a command another writer got ahead of, deciding again on the new state', async () => {
    const overtaken = await overtakenStore(adapter, 'cus-1', 1);
    const { database, store } = overtaken;

    const result = await handleCommand(store, overtaken.decider, 'cus-1', notify(2));

    expect(overtaken.calls.decisions).toBe(2);
    expect(result.nextExpectedVersion).toBe(2);
    const stream = (await store.readStream('cus-1')).events.map((r) => r.event);
    expect(stream.map((event) => [event.source, (event.data as { message: string }).message])).toEqual([
      ['/shoal/notifications', notificationMessage(1)],
      ['/shoal/orders', notificationMessage(2)],
    ]);
    expect(await outboxRows(database)).toHaveLength(2);
  });

  it('gives up with the conflict after its last attempt', async () => {
    const overtaken = await overtakenStore(adapter, 'cus-1', Number.POSITIVE_INFINITY);
    const { store } = overtaken;

    const error = await refusal(() => handleCommand(store, overtaken.decider, 'cus-1', notify(1), { retry: { maxAttempts: 3, initialMs: 1, maxMs: 2 } }));

    expect(error).toBeInstanceOf(ConcurrencyError);
    expect(overtaken.calls.decisions).toBe(3);
    expect((await store.readStream('cus-1')).events.every((r) => r.event.source === '/shoal/notifications')).toBe(true);
  });

  it('stops retrying once its signal aborts', async () => {
    const overtaken = await overtakenStore(adapter, 'cus-1', Number.POSITIVE_INFINITY);
    const { store } = overtaken;
    const shutdown = new AbortController();
    const abortingOnFirstDecision: typeof overtaken.decider = {
      ...overtaken.decider,
      decide(command, state) {
        shutdown.abort();
        return overtaken.decider.decide(command, state);
      },
    };

    const error = await refusal(() => handleCommand(store, abortingOnFirstDecision, 'cus-1', notify(1), { signal: shutdown.signal }));

    expect(error).toBeInstanceOf(ConcurrencyError);
    expect(overtaken.calls.decisions).toBe(1);
  });

  it('fails at once, before deciding, when the stream is not at the version the caller expects', async () => {
    const { store } = await testStore(adapter);
    await handleCommand(store, orderDecider, 'ord-1', place);
    let decisions = 0;
    const counting: typeof orderDecider = {
      ...orderDecider,
      decide(command, state) {
        decisions += 1;
        return orderDecider.decide(command, state);
      },
    };

    const error = await refusal(() => handleCommand(store, counting, 'ord-1', confirm, { expectedVersion: 0 }));

    expect(error.details).toEqual({ streamId: 'ord-1', expected: 0, actual: 1 });
    expect(decisions).toBe(0);
    expect((await handleCommand(store, counting, 'ord-1', confirm, { expectedVersion: 1 })).nextExpectedVersion).toBe(2);
  });
});

describe.each(storeAdapters)('handleCommandIn on $name', (adapter) => {
  const it = itOn(adapter);

  it('runs inside the caller\'s transaction: committed with it, rolled back with it', async () => {
    const { database, store } = await testStore(adapter);
    await database.sql.run('CREATE TABLE inbox (event_id TEXT PRIMARY KEY)');
    const inboxCount = async () => Number((await database.sql.get<{ n: number }>('SELECT count(*) AS n FROM inbox'))?.n);
    const react = (fail: boolean) =>
      database.transact(async (tx) => {
        await tx.sql.run('INSERT INTO inbox (event_id) VALUES (?)', ['stock-evt-1']);
        const result = await handleCommandIn(tx, store, orderDecider, 'ord-1', place, { causedBy: { id: 'stock-evt-1' } });
        if (fail) throw new Error('the reaction failed after the command');
        return result;
      });

    await expect(react(true)).rejects.toThrow('the reaction failed after the command');
    expect([await inboxCount(), await store.streamVersion('ord-1'), (await outboxRows(database)).length]).toEqual([0, 0, 0]);

    const result = await react(false);
    expect(result.newEvents[0]).toMatchObject({ causationid: 'stock-evt-1', correlationid: 'stock-evt-1' });
    expect([await inboxCount(), await store.streamVersion('ord-1'), (await outboxRows(database)).length]).toEqual([1, 1, 1]);
  });

  // The caller's transaction read before the other connection committed. SQLite refuses its write
  // (BUSY_SNAPSHOT), which the store reports as a retriable database error; on PostgreSQL the append's
  // compare-and-set matches no row, a conflict, retriable too.
  it('throws a retriable error without retrying when another writer got ahead, for the transaction\'s owner to run again', async () => {
    const overtaken = await overtakenStore(adapter, 'cus-1', 1);
    const { store } = overtaken;

    const error = await refusal(() => store.database.transact((tx) => handleCommandIn(tx, store, overtaken.decider, 'cus-1', notify(1))));

    expect([error.code, error.retriable, overtaken.calls.decisions]).toEqual([adapter.name === 'sqlite' ? 'SHOAL_DATABASE' : 'SHOAL_CONCURRENCY_CONFLICT', true, 1]);
    expect((await store.readStream('cus-1')).events.map((r) => r.event.source)).toEqual(['/shoal/notifications']);
  });

  it('refuses a transaction of another connection', async () => {
    const { store } = await testStore(adapter);
    const other = (await reopenTestStore(adapter, store)).database;
    const error = await refusal(() => other.transact((tx) => handleCommandIn(tx, store, orderDecider, 'ord-1', place)));
    expect(error.code).toBe('SHOAL_HANDLER_INVALID');
    expect(await store.streamVersion('ord-1')).toBe(0);
  });
});
