import { describe, expect, it } from 'vitest';
import { createEvent, type ShoalEvent } from '@shoal/contract';
import { eventOfRow } from '@shoal/store';
import { type SqliteTransaction } from '@shoal/store-sqlite';
import { ConcurrencyError, EventStore, type ExpectedVersion } from './index.js';
import { catalogWithGiftNote, openTestDatabase, orderPlacedEvent, outboxRows, refusal } from './testing/databases.js';

function confirmedEvent(orderId: string): ShoalEvent<'shoal.orders.OrderConfirmed'> {
  return createEvent(
    'shoal.orders.OrderConfirmed',
    { orderId, customerId: 'cus-1', paymentId: 'pay-1', total: { amount: 1500, currency: 'EUR' }, confirmedAt: 1_767_225_700_000 },
    { source: '/shoal/orders', subject: orderId },
  );
}

describe('EventStore', () => {
  it('appends to streams and reads them back by stream version and by global position', async () => {
    const store = new EventStore(openTestDatabase(), { now: () => new Date(1_767_225_800_000) });
    const [a1, a2, b1, a3] = [orderPlacedEvent('ord-a'), confirmedEvent('ord-a'), orderPlacedEvent('ord-b'), confirmedEvent('ord-a')];

    const first = await store.append('ord-a', 'no_stream', [a1, a2]);
    await store.append('ord-b', 'no_stream', [b1]);
    const last = await store.append('ord-a', 2, [a3]);

    expect(first.nextExpectedVersion).toBe(2);
    expect(first.recorded.map((r) => [r.globalPosition, r.streamVersion, r.event.id])).toEqual([
      [1, 1, a1.id],
      [2, 2, a2.id],
    ]);
    expect(last).toMatchObject({ nextExpectedVersion: 3, recorded: [{ globalPosition: 4, streamVersion: 3, recordedAt: 1_767_225_800_000 }] });

    const stream = await store.readStream('ord-a');
    expect(stream.currentVersion).toBe(3);
    expect(stream.events.map((r) => r.streamVersion)).toEqual([1, 2, 3]);
    expect(stream.events.map((r) => r.event)).toEqual([a1, a2, a3]);

    const page = await store.readStream('ord-a', { fromVersion: 2, maxCount: 1 });
    expect(page.events.map((r) => r.event.id)).toEqual([a2.id]);
    expect(page.currentVersion).toBe(3);

    expect(await store.readStream('ord-missing')).toEqual({ events: [], currentVersion: 0 });
    expect(await store.streamVersion('ord-b')).toBe(1);
    expect(await store.streamVersion('ord-missing')).toBe(0);

    expect((await store.readAll()).map((r) => [r.globalPosition, r.streamId, r.streamVersion, r.event.id])).toEqual([
      [1, 'ord-a', 1, a1.id],
      [2, 'ord-a', 2, a2.id],
      [3, 'ord-b', 1, b1.id],
      [4, 'ord-a', 3, a3.id],
    ]);
    expect((await store.readAll({ fromPosition: 3, limit: 1 })).map((r) => r.event.id)).toEqual([b1.id]);
    expect(await store.readAll({ fromPosition: 5 })).toEqual([]);
  });

  it('reads stored events with the catalog\'s current schemas, as a consumer of the whole history would', async () => {
    const database = openTestDatabase();
    const placed = orderPlacedEvent('ord-1');
    await new EventStore(database).append('ord-1', 'no_stream', [placed]);

    const upgraded = new EventStore(openTestDatabase(database.path, catalogWithGiftNote()));

    expect((await upgraded.readStream('ord-1')).events[0]?.event.data).toEqual({ ...placed.data, giftNote: 'none' });
    expect((await upgraded.readAll())[0]?.event.data).toEqual({ ...placed.data, giftNote: 'none' });
  });

  it('writes every appended event to the outbox in the same transaction', async () => {
    const database = openTestDatabase();
    const store = new EventStore(database);
    const events = [orderPlacedEvent('ord-1'), confirmedEvent('ord-1')];

    await store.append('ord-1', 'no_stream', events);

    const rows = outboxRows(database);
    expect(rows.map((row) => [row.id, row.topic, row.aggregateid])).toEqual(events.map((event) => [event.id, 'orders.order', 'ord-1']));
    expect(rows.map((row) => eventOfRow(row))).toEqual(events);
  });

  it('commits with the caller\'s transaction, and a caller that throws rolls back its writes, the events and the outbox rows', async () => {
    const database = openTestDatabase();
    database.db.exec('CREATE TABLE inbox (event_id TEXT PRIMARY KEY)');
    const store = new EventStore(database);
    const inboxCount = () => (database.db.prepare('SELECT count(*) AS n FROM inbox').get() as { n: number }).n;

    await expect(
      database.transact(async (tx) => {
        tx.db.prepare('INSERT INTO inbox (event_id) VALUES (?)').run('pay-evt-1');
        await store.appendIn(tx, 'ord-1', 'no_stream', [orderPlacedEvent('ord-1')]);
        throw new Error('the handler failed after appending');
      }),
    ).rejects.toThrow('the handler failed after appending');
    expect([inboxCount(), await store.streamVersion('ord-1'), (await store.readAll()).length, outboxRows(database).length]).toEqual([0, 0, 0, 0]);

    const placed = orderPlacedEvent('ord-1');
    const result = await database.transact((tx) => {
      tx.db.prepare('INSERT INTO inbox (event_id) VALUES (?)').run('pay-evt-1');
      return store.appendIn(tx, 'ord-1', 'no_stream', [placed]);
    });
    expect(result.nextExpectedVersion).toBe(1);
    expect([inboxCount(), await store.streamVersion('ord-1'), outboxRows(database).map((row) => row.id)]).toEqual([1, 1, [placed.id]]);
  });

  it('rolls back only its own writes when an append inside a caller\'s transaction fails', async () => {
    const database = openTestDatabase();
    const store = new EventStore(database);
    await store.append('ord-1', 'no_stream', [orderPlacedEvent('ord-1')]);

    const outcome = await database.transact(async (tx) => {
      await store.appendIn(tx, 'ord-2', 'no_stream', [orderPlacedEvent('ord-2')]);
      try {
        await store.appendIn(tx, 'ord-1', 'no_stream', [confirmedEvent('ord-1')]);
        return 'appended';
      } catch (error) {
        return error instanceof ConcurrencyError ? 'conflict' : 'other';
      }
    });

    expect(outcome).toBe('conflict');
    expect([await store.streamVersion('ord-1'), await store.streamVersion('ord-2')]).toEqual([1, 1]);
    expect(outboxRows(database).map((row) => row.aggregateid)).toEqual(['ord-1', 'ord-2']);
  });

  it('refuses a transaction of another connection, and one that is over', async () => {
    const database = openTestDatabase();
    const other = openTestDatabase(database.path);
    const store = new EventStore(database);

    const foreign = await refusal(() => other.transact((tx) => store.appendIn(tx, 'ord-1', 'any', [orderPlacedEvent('ord-1')])));
    expect(foreign.code).toBe('SHOAL_HANDLER_INVALID');

    let finished: SqliteTransaction | undefined;
    await database.transact((tx) => {
      finished = tx;
    });
    const over = await refusal(() => store.appendIn(finished!, 'ord-1', 'any', [orderPlacedEvent('ord-1')]));
    expect(over.code).toBe('SHOAL_HANDLER_INVALID');
    expect(await store.streamVersion('ord-1')).toBe(0);
  });

  describe('expected versions', () => {
    const cases: Array<{ expected: ExpectedVersion; existing: number; ok: boolean }> = [
      { expected: 'no_stream', existing: 0, ok: true },
      { expected: 'no_stream', existing: 2, ok: false },
      { expected: 0, existing: 0, ok: true },
      { expected: 0, existing: 2, ok: false },
      { expected: 2, existing: 2, ok: true },
      { expected: 1, existing: 2, ok: false },
      { expected: 3, existing: 2, ok: false },
      { expected: 1, existing: 0, ok: false },
      { expected: 'stream_exists', existing: 2, ok: true },
      { expected: 'stream_exists', existing: 0, ok: false },
      { expected: 'any', existing: 0, ok: true },
      { expected: 'any', existing: 2, ok: true },
    ];

    for (const { expected, existing, ok } of cases) {
      it(`${JSON.stringify(expected)} on a stream of ${existing} event(s) ${ok ? 'appends' : 'conflicts'}`, async () => {
        const database = openTestDatabase();
        const store = new EventStore(database);
        if (existing > 0) await store.append('ord-1', 'no_stream', [orderPlacedEvent('ord-1'), confirmedEvent('ord-1')].slice(0, existing));
        const event = confirmedEvent('ord-1');

        if (ok) {
          expect((await store.append('ord-1', expected, [event])).nextExpectedVersion).toBe(existing + 1);
          expect((await store.readStream('ord-1')).events.at(-1)?.event.id).toBe(event.id);
          return;
        }
        const error = await refusal(() => store.append('ord-1', expected, [event]));
        expect(error).toBeInstanceOf(ConcurrencyError);
        expect([error.code, error.retriable, error.details]).toEqual(['SHOAL_CONCURRENCY_CONFLICT', true, { streamId: 'ord-1', expected, actual: existing }]);
        expect([await store.streamVersion('ord-1'), outboxRows(database).length]).toEqual([existing, existing]);
      });
    }

    it('checks the expected version of an empty append without writing', async () => {
      const store = new EventStore(openTestDatabase());
      expect(await store.append('ord-1', 'no_stream', [])).toEqual({ nextExpectedVersion: 0, recorded: [] });
      expect((await refusal(() => store.append('ord-1', 'stream_exists', []))).code).toBe('SHOAL_CONCURRENCY_CONFLICT');
      expect(await store.streamVersion('ord-1')).toBe(0);
    });

    it('refuses numbers no stream can be at', async () => {
      const store = new EventStore(openTestDatabase());
      for (const expected of [-1, 1.5]) {
        expect((await refusal(() => store.append('ord-1', expected, [orderPlacedEvent('ord-1')]))).code).toBe('SHOAL_HANDLER_INVALID');
      }
      expect(await store.streamVersion('ord-1')).toBe(0);
    });
  });

  it('stores nothing of an append with an event the catalog refuses', async () => {
    const database = openTestDatabase();
    const store = new EventStore(database);
    const valid = orderPlacedEvent('ord-1');
    const invalid = { ...confirmedEvent('ord-1'), data: { ...confirmedEvent('ord-1').data, total: { amount: 'much', currency: 'EUR' } } } as unknown as ShoalEvent;

    const error = await refusal(() => store.append('ord-1', 'no_stream', [valid, invalid]));

    expect(error.code).toBe('SHOAL_EVENT_DATA_INVALID');
    expect([await store.streamVersion('ord-1'), (await store.readAll()).length, outboxRows(database).length]).toEqual([0, 0, 0]);
  });

  it('refuses an event id it already holds, even once the outbox row is pruned', async () => {
    const database = openTestDatabase();
    const store = new EventStore(database);
    const placed = orderPlacedEvent('ord-1');
    await store.append('ord-1', 'no_stream', [placed]);
    database.db.exec('DELETE FROM outbox');

    const error = await refusal(() => store.append('ord-2', 'no_stream', [{ ...placed, subject: 'ord-2', partitionkey: 'ord-2' }]));

    expect(error.code).toBe('SHOAL_EVENT_INVALID');
    expect(error.message).toContain('already in the event store');
    expect([await store.streamVersion('ord-2'), (await store.readAll()).length]).toEqual([0, 1]);
  });

  it('lets exactly one of two connections that read the same version append', async () => {
    const database = openTestDatabase();
    const mine = new EventStore(database);
    const theirs = new EventStore(openTestDatabase(database.path));
    await mine.append('ord-1', 'no_stream', [orderPlacedEvent('ord-1')]);

    const readByMe = (await mine.readStream('ord-1')).currentVersion;
    const readByThem = (await theirs.readStream('ord-1')).currentVersion;
    const theirEvent = confirmedEvent('ord-1');
    await theirs.append('ord-1', readByThem, [theirEvent]);
    const conflict = await refusal(() => mine.append('ord-1', readByMe, [confirmedEvent('ord-1')]));

    expect(conflict).toBeInstanceOf(ConcurrencyError);
    expect(conflict.details).toEqual({ streamId: 'ord-1', expected: 1, actual: 2 });
    expect((await mine.readStream('ord-1')).events.map((r) => r.event.id).at(-1)).toBe(theirEvent.id);
    expect(outboxRows(database)).toHaveLength(2);
  });

  it('fails a caller\'s transaction that read before another connection committed with a retriable database error', async () => {
    const database = openTestDatabase();
    const mine = new EventStore(database);
    const theirs = new EventStore(openTestDatabase(database.path));

    // The caller's transaction reads, then another connection commits, then the caller appends.
    const error = await refusal(() =>
      database.transact(async (tx) => {
        const version = await mine.streamVersion('ord-1');
        await theirs.append('ord-1', 'no_stream', [orderPlacedEvent('ord-1')]);
        return mine.appendIn(tx, 'ord-1', version, [orderPlacedEvent('ord-1')]);
      }),
    );

    expect([error.code, error.retriable]).toEqual(['SHOAL_DATABASE', true]);
    expect(await mine.streamVersion('ord-1')).toBe(1);
  });
});
