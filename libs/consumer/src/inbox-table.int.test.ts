import { describe, expect, it } from 'vitest';
import { loadSchemaCatalog } from '@shoal/contract';
import type { ServiceDatabase } from '@shoal/store';
import { storeAdapters } from '@shoal/store-postgres/testing';
import { eventually } from '@shoal/testing';
import { createConsumerTables } from './consumer-tables.js';
import { Inbox, pruneInbox, type InboxEntry } from './inbox-table.js';

const catalog = loadSchemaCatalog();

function entry(eventId: string, offset = 0): InboxEntry {
  return { eventId, type: 'shoal.orders.OrderPlaced', topic: 'orders.order', partition: 1, offset: String(offset) };
}

describe.each(storeAdapters)('Inbox on $name', (adapter) => {
  const open = async () => {
    const database = await adapter.open(catalog);
    await createConsumerTables(database);
    const inboxOf = (group: string, now: () => number) => new Inbox(group, now, database.sql.dialect);
    const record = (inbox: Inbox, what: InboxEntry) => database.transact((tx) => inbox.record(tx.sql, what));
    return { database, inboxOf, record };
  };
  const insertionOrder = (database: ServiceDatabase) => (database.sql.dialect === 'sqlite' ? 'rowid' : 'id');

  it.skipIf(adapter.missing !== undefined)('records an event id once per group and tells a duplicate apart', async () => {
    const { database, inboxOf, record } = await open();
    const inventory = inboxOf('inventory', () => 1000);
    const payments = inboxOf('payments', () => 2000);
    expect(await record(inventory, entry('evt-1', 41))).toBe(true);
    expect(await record(inventory, entry('evt-1', 99))).toBe(false);
    expect(await record(payments, entry('evt-1', 41))).toBe(true);
    expect(await inventory.has(database.sql, 'evt-1')).toBe(true);
    expect(await inventory.has(database.sql, 'evt-2')).toBe(false);
    expect(await database.sql.all('SELECT consumer_group, event_id, topic, "partition", "offset", type, processed_at FROM inbox ORDER BY consumer_group')).toEqual([
      { consumer_group: 'inventory', event_id: 'evt-1', topic: 'orders.order', partition: 1, offset: 41, type: 'shoal.orders.OrderPlaced', processed_at: 1000 },
      { consumer_group: 'payments', event_id: 'evt-1', topic: 'orders.order', partition: 1, offset: 41, type: 'shoal.orders.OrderPlaced', processed_at: 2000 },
    ]);
  });

  it.skipIf(adapter.missing !== undefined)('records a run of entries at once: the ids it recorded, not those it had, an id twice once', async () => {
    const { database, inboxOf, record } = await open();
    const inbox = inboxOf('inventory', () => 1000);
    expect(await record(inbox, entry('evt-2', 2))).toBe(true);
    const recorded = await database.transact((tx) => inbox.recordAll(tx.sql, [entry('evt-1', 1), entry('evt-2', 2), entry('evt-3', 3), entry('evt-1', 4)]));
    expect([...recorded].sort()).toEqual(['evt-1', 'evt-3']);
    expect(await database.sql.all(`SELECT event_id, "offset" FROM inbox ORDER BY ${insertionOrder(database)}`)).toEqual([
      { event_id: 'evt-2', offset: 2 },
      { event_id: 'evt-1', offset: 1 },
      { event_id: 'evt-3', offset: 3 },
    ]);
    await expect(
      database.transact(async (tx) => {
        await inbox.recordAll(tx.sql, [entry('evt-4'), entry('evt-5')]);
        throw new Error('a handler of the run failed');
      }),
    ).rejects.toThrow('a handler of the run failed');
    expect(await inbox.has(database.sql, 'evt-4')).toBe(false);
  });

  it.skipIf(adapter.missing !== undefined)('answers at once on SQLite (no promise per record), with promises on PostgreSQL', async () => {
    const { database, inboxOf } = await open();
    const inbox = inboxOf('inventory', () => 1000);
    await database.transact((tx) => {
      const recorded = inbox.record(tx.sql, entry('evt-1'));
      expect(recorded instanceof Promise).toBe(adapter.name === 'postgres');
      return recorded;
    });
    expect(inbox.has(database.sql, 'evt-1') instanceof Promise).toBe(adapter.name === 'postgres');
  });

  it.skipIf(adapter.missing !== undefined)('forgets nothing of a transaction that rolled back, and dedupes across connections (instances)', async () => {
    const { database, inboxOf, record } = await open();
    const inbox = inboxOf('inventory', () => 1000);
    await expect(
      database.transact(async (tx) => {
        await inbox.record(tx.sql, entry('evt-1'));
        throw new Error('handler failed');
      }),
    ).rejects.toThrow('handler failed');
    expect(await record(inbox, entry('evt-1'))).toBe(true);
    const other = await adapter.reopen(database, catalog);
    expect(await other.transact((tx) => inboxOf('inventory', () => 1000).record(tx.sql, entry('evt-1')))).toBe(false);
  });

  it.skipIf(adapter.name !== 'postgres' || adapter.missing !== undefined)('lets one of two instances recording an event at the same time have it: the other waits, then finds it', async () => {
    const { database, inboxOf } = await open();
    const other = await adapter.reopen(database, catalog);
    const inbox = inboxOf('inventory', () => 1000);
    let releaseFirst!: () => void;
    const firstHolds = new Promise<void>((resolve) => (releaseFirst = resolve));
    let firstRecorded!: () => void;
    const recordedByFirst = new Promise<void>((resolve) => (firstRecorded = resolve));
    const first = database.transact(async (tx) => {
      const recorded = await inbox.record(tx.sql, entry('evt-1'));
      firstRecorded();
      await firstHolds;
      return recorded;
    });
    await recordedByFirst;
    const second = other.transact((tx) => inbox.record(tx.sql, entry('evt-1')));
    let secondSettled = false;
    void second.finally(() => (secondSettled = true));
    // The second insert waits on the first's uncommitted row (a lock wait the server shows), and has not settled.
    await eventually(async () => {
      const waiting = await other.sql.get<{ n: number }>("SELECT COUNT(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'");
      expect(waiting?.n).toBe(1);
    });
    expect(secondSettled).toBe(false);
    releaseFirst();
    expect(await first).toBe(true);
    expect(await second).toBe(false);
  });

  it.skipIf(adapter.missing !== undefined)('prunes the rows of its own group processed before a time, a chunk per transaction', async () => {
    const { database, inboxOf } = await open();
    let clock = 0;
    const inbox = inboxOf('inventory', () => clock);
    const other = inboxOf('payments', () => clock);
    for (let n = 0; n < 7; n++) {
      clock = n * 100;
      await database.transact(async (tx) => {
        await inbox.record(tx.sql, entry(`evt-${n}`));
        await other.record(tx.sql, entry(`evt-${n}`));
      });
    }
    expect(await pruneInbox(database, inbox, 450, 2)).toBe(5);
    const rows = await database.sql.all<{ consumer_group: string; event_id: string }>('SELECT consumer_group, event_id FROM inbox ORDER BY consumer_group, processed_at');
    expect(rows.filter((row) => row.consumer_group === 'inventory').map((row) => row.event_id)).toEqual(['evt-5', 'evt-6']);
    expect(rows.filter((row) => row.consumer_group === 'payments')).toHaveLength(7);
    expect(await pruneInbox(database, inbox, 450, 2)).toBe(0);
  });

  it.skipIf(adapter.missing !== undefined)('prunes from the oldest row on and stops at the first younger one, of any group', async () => {
    const { database, inboxOf, record } = await open();
    let clock = 0;
    const inbox = inboxOf('inventory', () => clock);
    const other = inboxOf('payments', () => clock);
    // Insertion order; the clock steps back after evt-3, and the other group's row in between is young.
    for (const [id, at, group] of [['evt-1', 100, inbox], ['evt-2', 200, inbox], ['pay-1', 900, other], ['evt-3', 300, inbox], ['evt-4', 950, inbox]] as const) {
      clock = at;
      await record(group, entry(id));
    }
    const left = async () => (await database.sql.all<{ event_id: string }>(`SELECT event_id FROM inbox ORDER BY ${insertionOrder(database)}`)).map((row) => row.event_id);
    expect(await pruneInbox(database, inbox, 500, 10)).toBe(2);
    // evt-3 is old, but behind a younger row: the next pruning after that one has aged takes it.
    expect(await left()).toEqual(['pay-1', 'evt-3', 'evt-4']);
    expect(await pruneInbox(database, inbox, 920, 10)).toBe(1);
    expect(await left()).toEqual(['pay-1', 'evt-4']);
  });
});
