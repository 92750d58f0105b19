import { describe, expect, it } from 'vitest';
import { isShoalError, type ShoalError } from '@shoal/core';
import { loadSchemaCatalog, type CloudEvent } from '@shoal/contract';
import { eventOfRow, type OutboxRow } from '@shoal/store';
import { outboxBacklog } from '@shoal/store-sqlite';
import { sampleEvent } from '@shoal/contract/testing';
import { openTestDatabase } from './testing/index.js';
import { SqliteServiceDatabase } from '@shoal/store-sqlite';

const catalog = loadSchemaCatalog();

function setUp() {
  const database = openTestDatabase(catalog);
  database.db.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)');
  const commits: number[] = [];
  database.onCommit(() => commits.push(commits.length + 1));
  const outbox = () => database.db.prepare('SELECT * FROM outbox ORDER BY sequence').all() as OutboxRow[];
  const notes = () => (database.db.prepare('SELECT text FROM notes ORDER BY id').all() as Array<{ text: string }>).map((row) => row.text);
  return { database, commits, outbox, notes };
}

function refusal(call: () => unknown): ShoalError {
  try {
    call();
  } catch (error) {
    if (isShoalError(error)) return error;
    throw error;
  }
  throw new Error('expected a ShoalError, the call succeeded');
}

describe('ServiceDatabase.transact', () => {
  it('commits the writes and the outbox rows together and wakes commit listeners once', () => {
    const { database, commits, outbox, notes } = setUp();
    const event = sampleEvent('shoal.orders.OrderPlaced', 'ord-1');
    database.transact((tx) => {
      tx.db.prepare('INSERT INTO notes (text) VALUES (?)').run('placed');
      tx.emit(event);
    });
    expect(notes()).toEqual(['placed']);
    const [row] = outbox();
    expect(row).toMatchObject({ id: event.id, aggregatetype: 'order', aggregateid: 'ord-1', type: 'shoal.orders.OrderPlaced', topic: 'orders.order' });
    expect(eventOfRow(row!)).toEqual(event);
    expect(commits).toEqual([1]);
    // A transaction that emits nothing does not wake the relay.
    database.transact((tx) => tx.db.prepare('INSERT INTO notes (text) VALUES (?)').run('quiet'));
    expect(commits).toEqual([1]);
  });

  it('rolls back the whole transaction when an emitted event fails the catalog check', () => {
    const { database, commits, outbox, notes } = setUp();
    const valid = sampleEvent('shoal.orders.OrderPlaced', 'ord-1');
    const invalid = { ...sampleEvent('shoal.orders.OrderConfirmed', 'ord-1'), data: { orderId: 'ord-1' } } as unknown as CloudEvent<unknown>;
    const error = refusal(() =>
      database.transact((tx) => {
        tx.db.prepare('INSERT INTO notes (text) VALUES (?)').run('lost');
        tx.emit(valid);
        tx.emitUntyped(invalid);
      }),
    );
    expect(error.code).toBe('SHOAL_EVENT_DATA_INVALID');
    expect(notes()).toEqual([]);
    expect(outbox()).toEqual([]);
    expect(commits).toEqual([]);
  });

  it('refuses events without an aggregate id and ids already in the outbox', () => {
    const { database, outbox } = setUp();
    const { subject: _subject, partitionkey: _key, ...keyless } = sampleEvent('shoal.orders.OrderPlaced', 'ord-1');
    expect(refusal(() => database.transact((tx) => tx.emitUntyped(keyless))).code).toBe('SHOAL_EVENT_INVALID');
    const event = sampleEvent('shoal.orders.OrderPlaced', 'ord-2');
    database.transact((tx) => tx.emit(event));
    expect(refusal(() => database.transact((tx) => tx.emit(event))).message).toContain(event.id);
    expect(outbox().map((row) => row.id)).toEqual([event.id]);
  });

  it('refuses a transaction function that returns a promise and rolls back what it wrote', async () => {
    const { database, commits, outbox, notes } = setUp();
    const error = refusal(() =>
      database.transact(async (tx) => {
        tx.db.prepare('INSERT INTO notes (text) VALUES (?)').run('async');
        tx.emit(sampleEvent('shoal.orders.OrderPlaced', 'ord-1'));
        await Promise.resolve();
      }),
    );
    expect(error.code).toBe('SHOAL_HANDLER_INVALID');
    expect(notes()).toEqual([]);
    expect(outbox()).toEqual([]);
    expect(commits).toEqual([]);
  });

  it('rolls back a nested transaction alone and notifies once, after the outermost commit', () => {
    const { database, commits, outbox, notes } = setUp();
    const kept = sampleEvent('shoal.orders.OrderPlaced', 'ord-1');
    const discarded = sampleEvent('shoal.orders.OrderCancelled', 'ord-1');
    const after = sampleEvent('shoal.orders.OrderConfirmed', 'ord-1');
    database.transact((tx) => {
      tx.emit(kept);
      tx.db.prepare('INSERT INTO notes (text) VALUES (?)').run('outer');
      expect(() =>
        database.transact((inner) => {
          inner.emit(discarded);
          inner.db.prepare('INSERT INTO notes (text) VALUES (?)').run('inner');
          throw new Error('inner failure');
        }),
      ).toThrow('inner failure');
      database.transact((inner) => inner.emit(after));
      expect(commits).toEqual([]);
    });
    expect(notes()).toEqual(['outer']);
    expect(outbox().map((row) => row.id)).toEqual([kept.id, after.id]);
    expect(commits).toEqual([1]);
  });

  it('stamps rows with its clock, starts the relay position before the first row and hands sequences out without gaps or reuse', () => {
    const database = openTestDatabase(catalog, { now: () => 1_234 });
    const first = sampleEvent('shoal.orders.OrderPlaced', 'ord-1');
    database.transact((tx) => tx.emit(first));
    expect(outboxBacklog(database.db)).toEqual({ publishedThrough: 0, backlog: 1, oldestUnsentAt: 1_234 });
    // Rolled back work (a transaction, a savepoint, a refused insert) leaves no gap: the backlog, a distance, stays a count.
    expect(() =>
      database.transact((tx) => {
        tx.emit(sampleEvent('shoal.orders.OrderPlaced', 'ord-2'));
        throw new Error('rolled back');
      }),
    ).toThrow('rolled back');
    database.transact((tx) => {
      expect(() =>
        database.transact((inner) => {
          inner.emit(sampleEvent('shoal.orders.OrderPlaced', 'ord-3'));
          throw new Error('savepoint rolled back');
        }),
      ).toThrow('savepoint rolled back');
      expect(() => tx.emit(first)).toThrow(first.id);
      tx.emit(sampleEvent('shoal.orders.OrderPlaced', 'ord-4'));
    });
    const sequences = database.db.prepare('SELECT sequence FROM outbox ORDER BY sequence').pluck().all() as number[];
    expect(sequences).toEqual([sequences[0], sequences[0]! + 1]);
    expect(outboxBacklog(database.db).backlog).toBe(2);
    const sequenceOf = (id: string) => database.db.prepare('SELECT sequence FROM outbox WHERE id = ?').pluck().get(id) as number;
    const firstSequence = sequenceOf(first.id);
    // Pruned down to nothing, the outbox still counts on: a row can never land below the relay's position.
    database.db.exec('DELETE FROM outbox');
    const second = sampleEvent('shoal.orders.OrderPlaced', 'ord-2');
    database.transact((tx) => tx.emit(second));
    expect(sequenceOf(second.id)).toBeGreaterThan(firstSequence);
  });

  it('needs a file: an in-memory database cannot be shared with a relay', () => {
    expect(refusal(() => new SqliteServiceDatabase({ path: ':memory:', catalog })).code).toBe('SHOAL_CONFIG_INVALID');
  });
});
