import { describe, expect, it } from 'vitest';
import { isShoalError, ShoalError } from '@shoal/core';
import { eventually } from '@shoal/testing';
import { loadSchemaCatalog, type CloudEvent } from '@shoal/contract';
import { eventOfRow, type OutboxRow } from '@shoal/store';
import { outboxBacklog } from '@shoal/store-sqlite';
import { sampleEvent } from '@shoal/contract/testing';
import { openTestDatabase } from './testing/index.js';
import { SqliteServiceDatabase, type SqliteTransaction } from '@shoal/store-sqlite';

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

async function rejection(promise: Promise<unknown>): Promise<ShoalError> {
  try {
    await promise;
  } catch (error) {
    if (isShoalError(error)) return error;
    throw error;
  }
  throw new Error('expected a ShoalError, the transaction committed');
}

/** A promise and its resolver: a step the test releases when it wants. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

describe('ServiceDatabase.transact', () => {
  it('commits the writes and the outbox rows together and wakes commit listeners once', async () => {
    const { database, commits, outbox, notes } = setUp();
    const event = sampleEvent('shoal.orders.OrderPlaced', 'ord-1');
    await database.transact((tx) => {
      tx.db.prepare('INSERT INTO notes (text) VALUES (?)').run('placed');
      tx.emit(event);
    });
    expect(notes()).toEqual(['placed']);
    const [row] = outbox();
    expect(row).toMatchObject({ id: event.id, aggregatetype: 'order', aggregateid: 'ord-1', type: 'shoal.orders.OrderPlaced', topic: 'orders.order' });
    expect(eventOfRow(row!)).toEqual(event);
    expect(commits).toEqual([1]);
    // A transaction that emits nothing does not wake the relay.
    await database.transact((tx) => tx.db.prepare('INSERT INTO notes (text) VALUES (?)').run('quiet'));
    expect(commits).toEqual([1]);
  });

  it('rolls back the whole transaction when an emitted event fails the catalog check', async () => {
    const { database, commits, outbox, notes } = setUp();
    const valid = sampleEvent('shoal.orders.OrderPlaced', 'ord-1');
    const invalid = { ...sampleEvent('shoal.orders.OrderConfirmed', 'ord-1'), data: { orderId: 'ord-1' } } as unknown as CloudEvent<unknown>;
    const error = await rejection(
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

  it('refuses events without an aggregate id and ids already in the outbox', async () => {
    const { database, outbox } = setUp();
    const { subject: _subject, partitionkey: _key, ...keyless } = sampleEvent('shoal.orders.OrderPlaced', 'ord-1');
    expect((await rejection(database.transact((tx) => tx.emitUntyped(keyless)))).code).toBe('SHOAL_EVENT_INVALID');
    const event = sampleEvent('shoal.orders.OrderPlaced', 'ord-2');
    await database.transact((tx) => tx.emit(event));
    expect((await rejection(database.transact((tx) => tx.emit(event)))).message).toContain(event.id);
    expect(outbox().map((row) => row.id)).toEqual([event.id]);
  });

  it('awaits an asynchronous work function inside the transaction: its writes commit after it resolves, and roll back when it rejects', async () => {
    const { database, commits, outbox, notes } = setUp();
    const step = gate();
    const committed = database.transact(async (tx) => {
      tx.db.prepare('INSERT INTO notes (text) VALUES (?)').run('before the await');
      await step.opened;
      tx.db.prepare('INSERT INTO notes (text) VALUES (?)').run('after the await');
      tx.emit(sampleEvent('shoal.orders.OrderPlaced', 'ord-1'));
      return 'done';
    });
    await eventually(() => database.db.inTransaction, 'the transaction open and waiting');
    expect(commits).toEqual([]);
    step.open();
    expect(await committed).toBe('done');
    expect(notes()).toEqual(['before the await', 'after the await']);
    expect(commits).toEqual([1]);

    const failed = await rejection(
      database.transact(async (tx) => {
        tx.db.prepare('INSERT INTO notes (text) VALUES (?)').run('lost');
        tx.emit(sampleEvent('shoal.orders.OrderPlaced', 'ord-2'));
        await Promise.resolve();
        throw new ShoalError('SHOAL_HANDLER_FAILED', 'failed after an await');
      }),
    );
    expect(failed.message).toBe('failed after an await');
    expect(notes()).toEqual(['before the await', 'after the await']);
    expect(outbox()).toHaveLength(1);
    expect(commits).toEqual([1]);
    expect(database.db.inTransaction).toBe(false);
  });

  it('runs concurrent transactions one after the other: an awaiting one is never interleaved with another, and they start in call order', async () => {
    const { database, notes } = setUp();
    const first = gate();
    const seen: string[][] = [];
    const a = database.transact(async (tx) => {
      tx.db.prepare('INSERT INTO notes (text) VALUES (?)').run('a1');
      await first.opened;
      tx.db.prepare('INSERT INTO notes (text) VALUES (?)').run('a2');
      throw new Error('a rolls back');
    });
    const b = database.transact((tx) => {
      seen.push(notes());
      tx.db.prepare('INSERT INTO notes (text) VALUES (?)').run('b');
    });
    const c = database.transact(async (tx) => {
      seen.push(notes());
      await Promise.resolve();
      tx.db.prepare('INSERT INTO notes (text) VALUES (?)').run('c');
    });
    // b and c wait for a: nothing of theirs ran while a holds the connection.
    await eventually(() => database.db.inTransaction, 'a open');
    expect(seen).toEqual([]);
    first.open();
    await expect(a).rejects.toThrow('a rolls back');
    await Promise.all([b, c]);
    // b started after a rolled back (none of a's rows), c after b committed.
    expect(seen).toEqual([[], ['b']]);
    expect(notes()).toEqual(['b', 'c']);
  });

  it('queues many transactions without nesting them on the stack', async () => {
    const { database, notes } = setUp();
    const step = gate();
    const holding = database.transact(() => step.opened);
    const insert = database.db.prepare('INSERT INTO notes (text) VALUES (?)');
    const queued = Array.from({ length: 20_000 }, (_, i) => database.transact(() => insert.run(String(i))));
    step.open();
    await holding;
    await Promise.all(queued);
    expect(notes()).toHaveLength(20_000);
  });

  it('refuses a transaction started synchronously inside another, and a kept transaction once it is over', async () => {
    const { database, notes } = setUp();
    let kept: SqliteTransaction | undefined;
    const inner = await database.transact(async (tx) => {
      kept = tx;
      tx.db.prepare('INSERT INTO notes (text) VALUES (?)').run('outer');
      return rejection(database.transact(() => undefined));
    });
    expect(inner.code).toBe('SHOAL_HANDLER_INVALID');
    expect(notes()).toEqual(['outer']);
    expect(refusal(() => kept!.emit(sampleEvent('shoal.orders.OrderPlaced', 'ord-1'))).code).toBe('SHOAL_HANDLER_INVALID');
    expect((await rejection(kept!.transact(() => undefined))).code).toBe('SHOAL_HANDLER_INVALID');
  });

  it('rolls back a savepoint alone and notifies once, after the outermost commit', async () => {
    const { database, commits, outbox, notes } = setUp();
    const kept = sampleEvent('shoal.orders.OrderPlaced', 'ord-1');
    const discarded = sampleEvent('shoal.orders.OrderCancelled', 'ord-1');
    const after = sampleEvent('shoal.orders.OrderConfirmed', 'ord-1');
    await database.transact(async (tx) => {
      tx.emit(kept);
      tx.db.prepare('INSERT INTO notes (text) VALUES (?)').run('outer');
      await expect(
        tx.transact(async (inner) => {
          inner.emit(discarded);
          inner.db.prepare('INSERT INTO notes (text) VALUES (?)').run('inner');
          await Promise.resolve();
          throw new Error('inner failure');
        }),
      ).rejects.toThrow('inner failure');
      await tx.transact((inner) => inner.emit(after));
      expect(commits).toEqual([]);
    });
    expect(notes()).toEqual(['outer']);
    expect(outbox().map((row) => row.id)).toEqual([kept.id, after.id]);
    expect(commits).toEqual([1]);
  });

  it('stamps rows with its clock, starts the relay position before the first row and hands sequences out without gaps or reuse', async () => {
    const database = openTestDatabase(catalog, { now: () => 1_234 });
    const first = sampleEvent('shoal.orders.OrderPlaced', 'ord-1');
    await database.transact((tx) => tx.emit(first));
    expect(outboxBacklog(database.db)).toEqual({ publishedThrough: 0, backlog: 1, oldestUnsentAt: 1_234 });
    expect(await database.outbox.backlog()).toEqual({ publishedThrough: 0, backlog: 1, oldestUnsentAt: 1_234 });
    // Rolled back work (a transaction, a savepoint, a refused insert) leaves no gap: the backlog, a distance, stays a count.
    await expect(
      database.transact((tx) => {
        tx.emit(sampleEvent('shoal.orders.OrderPlaced', 'ord-2'));
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    await database.transact(async (tx) => {
      await expect(
        tx.transact((inner) => {
          inner.emit(sampleEvent('shoal.orders.OrderPlaced', 'ord-3'));
          throw new Error('savepoint rolled back');
        }),
      ).rejects.toThrow('savepoint rolled back');
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
    await database.transact((tx) => tx.emit(second));
    expect(sequenceOf(second.id)).toBeGreaterThan(firstSequence);
  });

  it('needs a file: an in-memory database cannot be shared with a relay', () => {
    expect(refusal(() => new SqliteServiceDatabase({ path: ':memory:', catalog })).code).toBe('SHOAL_CONFIG_INVALID');
  });
});
