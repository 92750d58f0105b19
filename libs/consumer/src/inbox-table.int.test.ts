import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '@shoal/testing';
import { loadSchemaCatalog } from '@shoal/contract';
import { openDatabase } from './testing/consumer-testbed.js';
import { Inbox, pruneInbox, type InboxEntry } from './inbox-table.js';

const catalog = loadSchemaCatalog();

function entry(eventId: string, offset = 0): InboxEntry {
  return { eventId, type: 'shoal.orders.OrderPlaced', topic: 'orders.order', partition: 1, offset: String(offset) };
}

describe('Inbox', () => {
  it('records an event id once per group and tells a duplicate apart', async () => {
    const database = openDatabase({ catalog }, join(tempDir('inbox'), 'service.db'));
    const inventory = new Inbox(database.db, 'inventory', () => 1000);
    const payments = new Inbox(database.db, 'payments', () => 2000);
    expect(await database.transact(() => inventory.record(entry('evt-1', 41)))).toBe(true);
    expect(await database.transact(() => inventory.record(entry('evt-1', 99)))).toBe(false);
    expect(await database.transact(() => payments.record(entry('evt-1', 41)))).toBe(true);
    expect(database.db.prepare('SELECT * FROM inbox ORDER BY consumer_group').all()).toEqual([
      { consumer_group: 'inventory', event_id: 'evt-1', topic: 'orders.order', partition: 1, offset: 41, type: 'shoal.orders.OrderPlaced', processed_at: 1000 },
      { consumer_group: 'payments', event_id: 'evt-1', topic: 'orders.order', partition: 1, offset: 41, type: 'shoal.orders.OrderPlaced', processed_at: 2000 },
    ]);
  });

  it('forgets nothing of a transaction that rolled back', async () => {
    const database = openDatabase({ catalog }, join(tempDir('inbox'), 'service.db'));
    const inbox = new Inbox(database.db, 'inventory', () => 1000);
    await expect(
      database.transact(() => {
        inbox.record(entry('evt-1'));
        throw new Error('handler failed');
      }),
    ).rejects.toThrow('handler failed');
    expect(await database.transact(() => inbox.record(entry('evt-1')))).toBe(true);
  });

  it('prunes the rows of its own group processed before a time, a chunk per transaction', async () => {
    const database = openDatabase({ catalog }, join(tempDir('inbox'), 'service.db'));
    let clock = 0;
    const inbox = new Inbox(database.db, 'inventory', () => clock);
    const other = new Inbox(database.db, 'payments', () => clock);
    for (let n = 0; n < 7; n++) {
      clock = n * 100;
      await database.transact(() => {
        inbox.record(entry(`evt-${n}`));
        other.record(entry(`evt-${n}`));
      });
    }
    expect(await pruneInbox(database, inbox, 450, 2)).toBe(5);
    const rows = database.db.prepare('SELECT consumer_group, event_id FROM inbox ORDER BY consumer_group, processed_at').all() as Array<{ consumer_group: string; event_id: string }>;
    expect(rows.filter((row) => row.consumer_group === 'inventory').map((row) => row.event_id)).toEqual(['evt-5', 'evt-6']);
    expect(rows.filter((row) => row.consumer_group === 'payments')).toHaveLength(7);
    expect(await pruneInbox(database, inbox, 450, 2)).toBe(0);
  });

  it('prunes from the oldest row on and stops at the first younger one, of any group', async () => {
    const database = openDatabase({ catalog }, join(tempDir('inbox'), 'service.db'));
    let clock = 0;
    const inbox = new Inbox(database.db, 'inventory', () => clock);
    const other = new Inbox(database.db, 'payments', () => clock);
    // Insertion order; the clock steps back after evt-3, and the other group's row in between is young.
    for (const [id, at, group] of [['evt-1', 100, inbox], ['evt-2', 200, inbox], ['pay-1', 900, other], ['evt-3', 300, inbox], ['evt-4', 950, inbox]] as const) {
      clock = at;
      await database.transact(() => group.record(entry(id)));
    }
    const left = () => database.db.prepare('SELECT event_id FROM inbox ORDER BY rowid').pluck().all();
    expect(await pruneInbox(database, inbox, 500, 10)).toBe(2);
    // evt-3 is old, but behind a younger row: the next pruning after that one has aged takes it.
    expect(left()).toEqual(['pay-1', 'evt-3', 'evt-4']);
    expect(await pruneInbox(database, inbox, 920, 10)).toBe(1);
    expect(left()).toEqual(['pay-1', 'evt-4']);
  });
});
