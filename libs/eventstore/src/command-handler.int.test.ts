import { describe, expect, it } from 'vitest';
import type { Decider } from '@shoal/core';
import type { SqliteServiceDatabase } from '@shoal/store-sqlite';
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
import { openTestDatabase, outboxRows, refusal } from './testing/databases.js';

const NOW = 1_767_225_600_000;
const place: OrderCommand = { type: 'PlaceOrder', orderId: 'ord-1', customerId: 'cus-1', lines: testLines(), now: NOW };
const confirm: OrderCommand = { type: 'ConfirmOrder', paymentId: 'pay-1', now: NOW + 1 };

function testStore(options: Partial<EventStoreOptions> = {}) {
  const database = openTestDatabase();
  let ids = 0;
  const store = new EventStore(database, {
    source: '/shoal/orders',
    now: () => new Date(NOW),
    newId: () => `evt-${(ids += 1)}`,
    ...options,
  });
  return { database, store };
}

function notify(n: number): NotifyCommand {
  return { type: 'Notify', notificationId: `ntf-${n}`, customerId: 'cus-1', now: NOW + n };
}

/**
 * The notification decider, overtaken before each of its first `times` decisions: another connection to the
 * same file runs a Notify on the stream between the handler's read and its append.
 */
function overtakenDecider(database: SqliteServiceDatabase, streamId: string, times: number) {
  const other = new EventStore(openTestDatabase(database.path), { source: '/shoal/notifications' });
  const calls = { decisions: 0 };
  const decider: Decider<NotificationCount, NotifyCommand, NotificationEvent> = {
    ...notificationDecider,
    decide(command, state) {
      calls.decisions += 1;
      if (calls.decisions <= times) {
        const overtaking = notificationDecider.decide(notify(1000 + calls.decisions), state).map((event) => envelope(event, { source: '/shoal/notifications', subject: streamId }));
        // A transaction whose work does not await commits before transact returns (SQLite's single connection):
        // the overtaking events are in the file before this decision is appended.
        void other.append(streamId, 'any', overtaking);
      }
      return notificationDecider.decide(command, state);
    },
  };
  return { decider, calls };
}

describe('handleCommand', () => {
  it('reads, decides and appends events in their envelopes, with their outbox rows', async () => {
    const { database, store } = testStore();

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
    expect(outboxRows(database).map((row) => row.id)).toEqual(['evt-1']);
  });

  it('carries the cause\'s correlation, the subject and the source a command gives', async () => {
    const { store } = testStore();
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
    const { database, store } = testStore();

    await expect(handleCommand(store, orderDecider, 'ord-1', confirm)).rejects.toThrow(OrderRuleViolation);

    expect([await store.streamVersion('ord-1'), outboxRows(database).length]).toEqual([0, 0]);
  });

  it('writes nothing when the decider decides nothing', async () => {
    const { database, store } = testStore();
    await handleCommand(store, orderDecider, 'ord-1', place);
    await handleCommand(store, orderDecider, 'ord-1', confirm);

    const again = await handleCommand(store, orderDecider, 'ord-1', confirm);

    expect(again).toMatchObject({ newEvents: [], nextExpectedVersion: 2, newState: { status: 'CONFIRMED' } });
    expect(outboxRows(database)).toHaveLength(2);
  });

  it('needs a source, from the store or the command', async () => {
    const { store } = testStore({ source: undefined });
    expect((await refusal(() => handleCommand(store, orderDecider, 'ord-1', place))).code).toBe('SHOAL_CONFIG_INVALID');
    expect((await handleCommand(store, orderDecider, 'ord-1', place, { source: '/shoal/orders' })).newEvents[0]?.source).toBe('/shoal/orders');
  });

  it('retries a command another writer got ahead of, deciding again on the new state', async () => {
    const { database, store } = testStore();
    const overtaken = overtakenDecider(database, 'cus-1', 1);

    const result = await handleCommand(store, overtaken.decider, 'cus-1', notify(2));

    expect(overtaken.calls.decisions).toBe(2);
    expect(result.nextExpectedVersion).toBe(2);
    const stream = (await store.readStream('cus-1')).events.map((r) => r.event);
    expect(stream.map((event) => [event.source, (event.data as { message: string }).message])).toEqual([
      ['/shoal/notifications', notificationMessage(1)],
      ['/shoal/orders', notificationMessage(2)],
    ]);
    expect(outboxRows(database)).toHaveLength(2);
  });

  it('gives up with the conflict after its last attempt', async () => {
    const { database, store } = testStore();
    const overtaken = overtakenDecider(database, 'cus-1', Number.POSITIVE_INFINITY);

    const error = await refusal(() => handleCommand(store, overtaken.decider, 'cus-1', notify(1), { retry: { maxAttempts: 3, initialMs: 1, maxMs: 2 } }));

    expect(error).toBeInstanceOf(ConcurrencyError);
    expect(overtaken.calls.decisions).toBe(3);
    expect((await store.readStream('cus-1')).events.every((r) => r.event.source === '/shoal/notifications')).toBe(true);
  });

  it('stops retrying once its signal aborts', async () => {
    const { database, store } = testStore();
    const overtaken = overtakenDecider(database, 'cus-1', Number.POSITIVE_INFINITY);
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
    const { store } = testStore();
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

describe('handleCommandIn', () => {
  it('runs inside the caller\'s transaction: committed with it, rolled back with it', async () => {
    const { database, store } = testStore();
    database.db.exec('CREATE TABLE inbox (event_id TEXT PRIMARY KEY)');
    const inboxCount = () => (database.db.prepare('SELECT count(*) AS n FROM inbox').get() as { n: number }).n;
    const react = (fail: boolean) =>
      database.transact(async (tx) => {
        tx.db.prepare('INSERT INTO inbox (event_id) VALUES (?)').run('stock-evt-1');
        const result = await handleCommandIn(tx, store, orderDecider, 'ord-1', place, { causedBy: { id: 'stock-evt-1' } });
        if (fail) throw new Error('the reaction failed after the command');
        return result;
      });

    await expect(react(true)).rejects.toThrow('the reaction failed after the command');
    expect([inboxCount(), await store.streamVersion('ord-1'), outboxRows(database).length]).toEqual([0, 0, 0]);

    const result = await react(false);
    expect(result.newEvents[0]).toMatchObject({ causationid: 'stock-evt-1', correlationid: 'stock-evt-1' });
    expect([inboxCount(), await store.streamVersion('ord-1'), outboxRows(database).length]).toEqual([1, 1, 1]);
  });

  // The caller's transaction read before the other connection committed: SQLite refuses its write
  // (BUSY_SNAPSHOT), which the store reports as a retriable database error.
  it('throws a retriable error without retrying when another writer got ahead, for the transaction\'s owner to run again', async () => {
    const { database, store } = testStore();
    const overtaken = overtakenDecider(database, 'cus-1', 1);

    const error = await refusal(() => database.transact((tx) => handleCommandIn(tx, store, overtaken.decider, 'cus-1', notify(1))));

    expect([error.code, error.retriable, overtaken.calls.decisions]).toEqual(['SHOAL_DATABASE', true, 1]);
    expect((await store.readStream('cus-1')).events.map((r) => r.event.source)).toEqual(['/shoal/notifications']);
  });

  it('refuses a transaction of another connection', async () => {
    const { database, store } = testStore();
    const other = openTestDatabase(database.path);
    const error = await refusal(() => other.transact((tx) => handleCommandIn(tx, store, orderDecider, 'ord-1', place)));
    expect(error.code).toBe('SHOAL_HANDLER_INVALID');
    expect(await store.streamVersion('ord-1')).toBe(0);
  });
});
