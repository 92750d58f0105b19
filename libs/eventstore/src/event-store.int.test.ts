import { describe, expect } from 'vitest';
import { createEvent, type ShoalEvent } from '@shoal/contract';
import { eventOfRow, type Transaction } from '@shoal/store';
import { storeAdapters } from '@shoal/store-postgres/testing';
import { ConcurrencyError, type ExpectedVersion } from './index.js';
import { catalogWithGiftNote, openTestStore, orderPlacedEvent, outboxRows, itOn, refusal, reopenTestStore } from './testing/databases.js';

function confirmedEvent(orderId: string): ShoalEvent<'shoal.orders.OrderConfirmed'> {
  return createEvent(
    'shoal.orders.OrderConfirmed',
    { orderId, customerId: 'cus-1', paymentId: 'pay-1', total: { amount: 1500, currency: 'EUR' }, confirmedAt: 1_767_225_700_000 },
    { source: '/shoal/orders', subject: orderId },
  );
}

describe.each(storeAdapters)('EventStore on $name', (adapter) => {
  const it = itOn(adapter);

  it('appends to streams and reads them back by stream version and by global position', async () => {
    const store = await openTestStore(adapter, { now: () => new Date(1_767_225_800_000) });
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
    const store = await openTestStore(adapter);
    const placed = orderPlacedEvent('ord-1');
    await store.append('ord-1', 'no_stream', [placed]);

    const upgraded = await reopenTestStore(adapter, store, {}, catalogWithGiftNote());

    expect((await upgraded.readStream('ord-1')).events[0]?.event.data).toEqual({ ...placed.data, giftNote: 'none' });
    expect((await upgraded.readAll())[0]?.event.data).toEqual({ ...placed.data, giftNote: 'none' });
  });

  it('writes every appended event to the outbox in the same transaction', async () => {
    const store = await openTestStore(adapter);
    const events = [orderPlacedEvent('ord-1'), confirmedEvent('ord-1')];

    await store.append('ord-1', 'no_stream', events);

    const rows = await outboxRows(store.database);
    expect(rows.map((row) => [row.id, row.topic, row.aggregateid])).toEqual(events.map((event) => [event.id, 'orders.order', 'ord-1']));
    expect(rows.map((row) => eventOfRow(row))).toEqual(events);
  });

  it('commits with the caller\'s transaction, and a caller that throws rolls back its writes, the events and the outbox rows', async () => {
    const store = await openTestStore(adapter);
    const { database } = store;
    await database.sql.run('CREATE TABLE inbox (event_id TEXT PRIMARY KEY)');
    const inboxCount = async () => Number((await database.sql.get<{ n: number }>('SELECT count(*) AS n FROM inbox'))?.n);

    await expect(
      database.transact(async (tx) => {
        await tx.sql.run('INSERT INTO inbox (event_id) VALUES (?)', ['pay-evt-1']);
        await store.appendIn(tx, 'ord-1', 'no_stream', [orderPlacedEvent('ord-1')]);
        throw new Error('the handler failed after appending');
      }),
    ).rejects.toThrow('the handler failed after appending');
    expect([await inboxCount(), await store.streamVersion('ord-1'), (await store.readAll()).length, (await outboxRows(database)).length]).toEqual([0, 0, 0, 0]);

    const placed = orderPlacedEvent('ord-1');
    const result = await database.transact(async (tx) => {
      await tx.sql.run('INSERT INTO inbox (event_id) VALUES (?)', ['pay-evt-1']);
      return store.appendIn(tx, 'ord-1', 'no_stream', [placed]);
    });
    expect(result.nextExpectedVersion).toBe(1);
    expect([await inboxCount(), await store.streamVersion('ord-1'), (await outboxRows(database)).map((row) => row.id)]).toEqual([1, 1, [placed.id]]);
  });

  it('rolls back only its own writes when an append inside a caller\'s transaction fails', async () => {
    const store = await openTestStore(adapter);
    const { database } = store;
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
    expect((await outboxRows(database)).map((row) => row.aggregateid)).toEqual(['ord-1', 'ord-2']);
  });

  it('refuses a transaction of another connection, and one that is over', async () => {
    const store = await openTestStore(adapter);
    const { database } = store;
    const other = (await reopenTestStore(adapter, store)).database;

    const foreign = await refusal(() => other.transact((tx) => store.appendIn(tx, 'ord-1', 'any', [orderPlacedEvent('ord-1')])));
    expect(foreign.code).toBe('SHOAL_HANDLER_INVALID');

    let finished: Transaction<unknown> | undefined;
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
        const store = await openTestStore(adapter);
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
        expect([await store.streamVersion('ord-1'), (await outboxRows(store.database)).length]).toEqual([existing, existing]);
      });
    }

    it('checks the expected version of an empty append without writing', async () => {
      const store = await openTestStore(adapter);
      expect(await store.append('ord-1', 'no_stream', [])).toEqual({ nextExpectedVersion: 0, recorded: [] });
      expect((await refusal(() => store.append('ord-1', 'stream_exists', []))).code).toBe('SHOAL_CONCURRENCY_CONFLICT');
      expect(await store.streamVersion('ord-1')).toBe(0);
    });

    it('refuses numbers no stream can be at', async () => {
      const store = await openTestStore(adapter);
      for (const expected of [-1, 1.5]) {
        expect((await refusal(() => store.append('ord-1', expected, [orderPlacedEvent('ord-1')]))).code).toBe('SHOAL_HANDLER_INVALID');
      }
      expect(await store.streamVersion('ord-1')).toBe(0);
    });
  });

  it('stores nothing of an append with an event the catalog refuses', async () => {
    const store = await openTestStore(adapter);
    const valid = orderPlacedEvent('ord-1');
    const invalid = { ...confirmedEvent('ord-1'), data: { ...confirmedEvent('ord-1').data, total: { amount: 'much', currency: 'EUR' } } } as unknown as ShoalEvent;

    const error = await refusal(() => store.append('ord-1', 'no_stream', [valid, invalid]));

    expect(error.code).toBe('SHOAL_EVENT_DATA_INVALID');
    expect([await store.streamVersion('ord-1'), (await store.readAll()).length, (await outboxRows(store.database)).length]).toEqual([0, 0, 0]);
  });

  it('refuses an event id it already holds, even once the outbox row is pruned', async () => {
    const store = await openTestStore(adapter);
    const placed = orderPlacedEvent('ord-1');
    await store.append('ord-1', 'no_stream', [placed]);
    await store.database.sql.run('DELETE FROM outbox');

    const error = await refusal(() => store.append('ord-2', 'no_stream', [{ ...placed, subject: 'ord-2', partitionkey: 'ord-2' }]));

    expect(error.code).toBe('SHOAL_EVENT_INVALID');
    expect(error.message).toContain('already in the event store');
    expect([await store.streamVersion('ord-2'), (await store.readAll()).length]).toEqual([0, 1]);
  });

  it('lets exactly one of two connections that read the same version append', async () => {
    const mine = await openTestStore(adapter);
    const theirs = await reopenTestStore(adapter, mine);
    await mine.append('ord-1', 'no_stream', [orderPlacedEvent('ord-1')]);

    const readByMe = (await mine.readStream('ord-1')).currentVersion;
    const readByThem = (await theirs.readStream('ord-1')).currentVersion;
    const theirEvent = confirmedEvent('ord-1');
    await theirs.append('ord-1', readByThem, [theirEvent]);
    const conflict = await refusal(() => mine.append('ord-1', readByMe, [confirmedEvent('ord-1')]));

    expect(conflict).toBeInstanceOf(ConcurrencyError);
    expect(conflict.details).toEqual({ streamId: 'ord-1', expected: 1, actual: 2 });
    expect((await mine.readStream('ord-1')).events.map((r) => r.event.id).at(-1)).toBe(theirEvent.id);
    expect(await outboxRows(mine.database)).toHaveLength(2);
  });

  // SQLite: the caller's transaction read before the other connection committed, so SQLite refuses its
  // write (BUSY_SNAPSHOT), which the store reports as a retriable database error. PostgreSQL: the read saw
  // the version before the other commit, so the compare-and-set matches no row, a conflict.
  it('fails a caller\'s transaction that read before another connection committed with a retriable error', async () => {
    const mine = await openTestStore(adapter);
    const theirs = await reopenTestStore(adapter, mine);

    const error = await refusal(() =>
      mine.database.transact(async (tx) => {
        const { version } = await mine.aggregateStream('ord-1', { initialState: () => null, evolve: (state) => state }, { tx });
        await theirs.append('ord-1', 'no_stream', [orderPlacedEvent('ord-1')]);
        return mine.appendIn(tx, 'ord-1', version, [orderPlacedEvent('ord-1')]);
      }),
    );

    expect([error.code, error.retriable]).toEqual([adapter.name === 'sqlite' ? 'SHOAL_DATABASE' : 'SHOAL_CONCURRENCY_CONFLICT', true]);
    expect(await mine.streamVersion('ord-1')).toBe(1);
  });

  if (adapter.name === 'postgres') {
    it('hands global positions out in commit order across instances, so a reader paging by position never passes a later commit', async () => {
      const instances = [await openTestStore(adapter)];
      for (let i = 1; i < 3; i += 1) instances.push(await reopenTestStore(adapter, instances[0]!));
      const reader = instances[0]!;
      // Appends that begin in one order and commit in another: each waits a while after appending.
      let writing = true;
      const pages: number[][] = [];
      const reading = (async () => {
        while (writing) pages.push((await reader.readAll({ limit: 10_000 })).map((recorded) => recorded.globalPosition));
      })();
      await Promise.all(
        Array.from({ length: 45 }, (_, n) =>
          instances[n % 3]!.database.transact(async (tx) => {
            await instances[n % 3]!.appendIn(tx, `ord-${n}`, 'no_stream', [orderPlacedEvent(`ord-${n}`)]);
            await new Promise((resolve) => setTimeout(resolve, (n * 7) % 11));
          }),
        ),
      );
      writing = false;
      await reading;
      pages.push((await reader.readAll({ limit: 10_000 })).map((recorded) => recorded.globalPosition));

      const gapped = pages.filter((positions) => positions.some((position, i) => i > 0 && position !== positions[i - 1]! + 1));
      expect(gapped).toEqual([]);
      expect(pages.at(-1)).toEqual(Array.from({ length: 45 }, (_, i) => i + 1));
      expect(pages.length).toBeGreaterThan(1);
    });
  }
});
