/**
 * The contract of @shoal/store's ServiceDatabase, the same test code on both adapters: writes and outbox rows
 * commit together, awaited work is inside the transaction, savepoints roll back alone, concurrent
 * transactions never mix, the outbox's position and lease. The PostgreSQL-only parts follow: the commit
 * order of sequences across connections, a database of another service, a bad URL.
 */
import { describe, expect, it } from 'vitest';
import { loadSchemaCatalog } from '@shoal/contract';
import { sampleEvent } from '@shoal/contract/testing';
import { isShoalError, ShoalError } from '@shoal/core';
import { eventOfRow, type ServiceDatabase } from '@shoal/store';
import { PostgresServiceDatabase } from './index.js';
import { openTestPostgresDatabase, storeAdapters, testPostgresDatabaseUrl, testPostgresServer } from './testing/index.js';

const catalog = loadSchemaCatalog();

async function rejection(promise: Promise<unknown>): Promise<ShoalError> {
  try {
    await promise;
  } catch (error) {
    if (isShoalError(error)) return error;
    throw error;
  }
  throw new Error('expected a ShoalError, it succeeded');
}

async function notesOf(database: ServiceDatabase): Promise<string[]> {
  return (await database.sql.all<{ text: string }>('SELECT text FROM notes ORDER BY id')).map((row) => row.text);
}

async function outboxIds(database: ServiceDatabase): Promise<string[]> {
  return (await database.sql.all<{ id: string }>('SELECT id FROM outbox ORDER BY sequence')).map((row) => row.id);
}

const NOTES = {
  sqlite: 'CREATE TABLE notes (id INTEGER PRIMARY KEY AUTOINCREMENT, text TEXT NOT NULL)',
  postgres: 'CREATE TABLE notes (id BIGSERIAL PRIMARY KEY, text TEXT NOT NULL)',
};

describe.each(storeAdapters)('ServiceDatabase on $name', (adapter) => {
  const setUp = async () => {
    const database = await adapter.open(catalog);
    await database.sql.run(NOTES[adapter.name]);
    const commits: number[] = [];
    database.onCommit(() => commits.push(commits.length + 1));
    return { database, commits };
  };

  it.skipIf(adapter.missing !== undefined)('commits writes, awaited work and outbox rows together, and rolls all of it back on a throw', async () => {
    const { database, commits } = await setUp();
    const event = sampleEvent('shoal.orders.OrderPlaced', 'ord-1');
    expect(
      await database.transact(async (tx) => {
        await tx.sql.run('INSERT INTO notes (text) VALUES (?)', ['placed']);
        await new Promise((resolve) => setImmediate(resolve));
        await tx.sql.run('INSERT INTO notes (text) VALUES (?)', ['after a turn']);
        tx.emit(event);
        return 'done';
      }),
    ).toBe('done');
    expect(await notesOf(database)).toEqual(['placed', 'after a turn']);
    const [row] = await database.sql.all<{ id: string; headers: string; payload: string; aggregateid: string; topic: string }>('SELECT * FROM outbox');
    expect(row).toMatchObject({ id: event.id, aggregateid: 'ord-1', topic: 'orders.order' });
    expect(eventOfRow(row!)).toEqual(event);
    expect(commits).toEqual([1]);

    const failure = await rejection(
      database.transact(async (tx) => {
        await tx.sql.run('INSERT INTO notes (text) VALUES (?)', ['lost']);
        tx.emit(sampleEvent('shoal.orders.OrderPlaced', 'ord-2'));
        throw new ShoalError('SHOAL_HANDLER_FAILED', 'failed after writing');
      }),
    );
    expect(failure.message).toBe('failed after writing');
    expect(await notesOf(database)).toEqual(['placed', 'after a turn']);
    expect(await outboxIds(database)).toEqual([event.id]);
    expect(commits).toEqual([1]);
  });

  it.skipIf(adapter.missing !== undefined)('rolls a savepoint back alone, its emitted events with it, and refuses events the catalog refuses', async () => {
    const { database } = await setUp();
    const kept = sampleEvent('shoal.orders.OrderPlaced', 'ord-1');
    const discarded = sampleEvent('shoal.orders.OrderCancelled', 'ord-1');
    await database.transact(async (tx) => {
      tx.emit(kept);
      await expect(
        tx.transact(async (inner) => {
          inner.emit(discarded);
          await inner.sql.run('INSERT INTO notes (text) VALUES (?)', ['inner']);
          throw new Error('inner failure');
        }),
      ).rejects.toThrow('inner failure');
      await tx.sql.run('INSERT INTO notes (text) VALUES (?)', ['outer']);
    });
    expect(await notesOf(database)).toEqual(['outer']);
    expect(await outboxIds(database)).toEqual([kept.id]);
    const invalid = { ...sampleEvent('shoal.orders.OrderConfirmed', 'ord-1'), data: { orderId: 'ord-1' } };
    expect((await rejection(database.transact((tx) => tx.emitUntyped(invalid)))).code).toBe('SHOAL_EVENT_DATA_INVALID');
    expect((await rejection(database.transact((tx) => tx.emit(kept)))).code).toBe('SHOAL_EVENT_INVALID');
    expect(await outboxIds(database)).toEqual([kept.id]);
  });

  it.skipIf(adapter.missing !== undefined)('keeps concurrent transactions apart: one rolling back takes none of the others\' writes', async () => {
    const { database } = await setUp();
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, n) =>
        database.transact(async (tx) => {
          await tx.sql.run('INSERT INTO notes (text) VALUES (?)', [`${n}-a`]);
          await new Promise((resolve) => setImmediate(resolve));
          await tx.sql.run('INSERT INTO notes (text) VALUES (?)', [`${n}-b`]);
          tx.emit(sampleEvent('shoal.orders.OrderPlaced', `ord-${n}`));
          if (n % 3 === 0) throw new Error(`transaction ${n} fails`);
        }),
      ),
    );
    expect(results.filter((result) => result.status === 'rejected')).toHaveLength(4);
    const expected = Array.from({ length: 12 }, (_, n) => n).filter((n) => n % 3 !== 0);
    expect((await notesOf(database)).sort()).toEqual(expected.flatMap((n) => [`${n}-a`, `${n}-b`]).sort());
    expect(await outboxIds(database)).toHaveLength(expected.length);
  });

  it.skipIf(adapter.missing !== undefined)('holds the relay lease for one owner at a time and fences a former holder off the position', async () => {
    const { database } = await setUp();
    const other = await adapter.reopen(database, catalog);
    await database.transact((tx) => tx.emit(sampleEvent('shoal.orders.OrderPlaced', 'ord-1')));
    const first = await database.outbox.acquireLease('relay-a', 1000, 10_000);
    expect(first).toBeDefined();
    expect(await other.outbox.acquireLease('relay-b', 1000, 10_500)).toBeUndefined();
    // Renewing keeps the epoch; the lease runs out 1000 ms after the last renewal.
    expect(await database.outbox.acquireLease('relay-a', 1000, 10_800)).toBe(first);
    expect(await other.outbox.acquireLease('relay-b', 1000, 11_500)).toBeUndefined();
    const second = await other.outbox.acquireLease('relay-b', 1000, 11_900);
    expect(second).toBe(first! + 1);
    expect(await other.outbox.lease()).toEqual({ owner: 'relay-b', epoch: second, until: 12_900 });
    // relay-a's acknowledgement arrives late: it cannot move the position any more.
    expect(await database.outbox.advance(1, 12_000, first)).toBe(false);
    expect(await database.outbox.publishedThrough()).toBe(0);
    expect(await other.outbox.advance(1, 12_000, second)).toBe(true);
    expect(await database.outbox.publishedThrough()).toBe(1);
    await other.outbox.releaseLease('relay-b');
    expect(await database.outbox.acquireLease('relay-a', 1000, 12_100)).toBe(second! + 1);
  });
});

describe.skipIf(storeAdapters[1]!.missing !== undefined)('PostgresServiceDatabase', () => {
  it('hands outbox sequences out in commit order across connections: a reader never sees a row before an earlier sequence', async () => {
    const url = await testPostgresDatabaseUrl();
    const databases = await Promise.all([1, 2, 3].map(() => openTestPostgresDatabase(catalog, { url })));
    const reader = await openTestPostgresDatabase(catalog, { url });
    // What the relay relies on: whenever it reads, the visible sequences run on without a gap (none of these
    // transactions rolls back), so its position can never pass a row that becomes visible later.
    let writing = true;
    const snapshots: number[][] = [];
    const reading = (async () => {
      while (writing) snapshots.push((await reader.sql.all<{ sequence: number }>('SELECT sequence FROM outbox ORDER BY sequence')).map((row) => row.sequence));
    })();
    // Transactions that begin in one order and commit in another, on three pools.
    await Promise.all(
      Array.from({ length: 60 }, (_, n) =>
        databases[n % 3]!.transact(async (tx) => {
          tx.emit(sampleEvent('shoal.orders.OrderPlaced', `ord-${n}`));
          await new Promise((resolve) => setTimeout(resolve, (n * 7) % 11));
        }),
      ),
    );
    writing = false;
    await reading;
    snapshots.push((await reader.sql.all<{ sequence: number }>('SELECT sequence FROM outbox ORDER BY sequence')).map((row) => row.sequence));
    const gapped = snapshots.filter((sequences) => sequences.some((sequence, i) => i > 0 && sequence !== sequences[i - 1]! + 1));
    expect(gapped).toEqual([]);
    expect(snapshots.at(-1)).toHaveLength(60);
    expect(snapshots.length).toBeGreaterThan(1);
  });

  it('refuses the database of another service, a URL that is not PostgreSQL\'s and reports an unreachable server as SHOAL_DATABASE', async () => {
    const url = await testPostgresDatabaseUrl();
    await openTestPostgresDatabase(catalog, { url, service: 'orders' });
    const foreign = await rejection(PostgresServiceDatabase.open({ url, catalog, service: 'payments' }));
    expect(foreign.code).toBe('SHOAL_CONFIG_INVALID');
    expect(foreign.message).toMatch(/belongs to service orders, not payments/);
    expect((await rejection(PostgresServiceDatabase.open({ url: 'mysql://x@y/z', catalog, service: 'orders' }))).code).toBe('SHOAL_CONFIG_INVALID');
    const server = await testPostgresServer();
    const unreachable = await rejection(PostgresServiceDatabase.open({ url: `postgres://postgres:secret@127.0.0.1:1/${'x'}`, catalog, service: 'orders', connectTimeoutMs: 1000 }));
    expect([unreachable.code, unreachable.retriable]).toEqual(['SHOAL_DATABASE', true]);
    expect(unreachable.message).not.toContain('secret');
    expect(server.port).toBeGreaterThan(0);
  });
});
