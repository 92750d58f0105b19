/**
 * @shoal/store's query builder on both adapters from the same test code: a table made with Kysely's schema
 * builder, typed inserts, updates with RETURNING, selects, and every query inside the Shoal transaction it
 * is bound to (rolled back with it, committed with the events it emits). Kysely's own transactions are refused.
 */
import { describe, expect, it } from 'vitest';
import { loadSchemaCatalog } from '@shoal/contract';
import { sampleEvent } from '@shoal/contract/testing';
import { isShoalError } from '@shoal/core';
import { queryBuilder } from '@shoal/store';
import { storeAdapters } from './testing/index.js';

const catalog = loadSchemaCatalog();

interface Tables {
  stock: { sku: string; available: number; reserved: number };
}

describe.each(storeAdapters)('queryBuilder on $name', (adapter) => {
  const setUp = async () => {
    const database = await adapter.open(catalog);
    await queryBuilder<Tables>(database.sql)
      .schema.createTable('stock')
      .addColumn('sku', 'text', (column) => column.primaryKey())
      .addColumn('available', 'integer', (column) => column.notNull())
      .addColumn('reserved', 'integer', (column) => column.notNull().defaultTo(0))
      .execute();
    return database;
  };

  it.skipIf(adapter.missing !== undefined)('runs typed inserts, updates with RETURNING and selects in the transaction it is bound to', async () => {
    const database = await setUp();
    const left = await database.transact(async (tx) => {
      const db = queryBuilder<Tables>(tx.sql);
      await db.insertInto('stock').values([{ sku: 'sku-1', available: 5, reserved: 0 }, { sku: 'sku-2', available: 1, reserved: 0 }]).execute();
      const updated = await db
        .updateTable('stock')
        .set((eb) => ({ available: eb('available', '-', 2), reserved: eb('reserved', '+', 2) }))
        .where('sku', '=', 'sku-1')
        .returning(['available', 'reserved'])
        .executeTakeFirstOrThrow();
      tx.emit(sampleEvent('shoal.inventory.StockReserved', 'ord-1'));
      return updated;
    });
    expect(left).toEqual({ available: 3, reserved: 2 });
    const rows = await queryBuilder<Tables>(database.sql).selectFrom('stock').selectAll().orderBy('sku').execute();
    expect(rows).toEqual([
      { sku: 'sku-1', available: 3, reserved: 2 },
      { sku: 'sku-2', available: 1, reserved: 0 },
    ]);
    const deleted = await queryBuilder<Tables>(database.sql).deleteFrom('stock').where('available', '<', 2).executeTakeFirst();
    expect(deleted.numDeletedRows).toBe(1n);
    const counted = await queryBuilder<Tables>(database.sql)
      .selectFrom('stock')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(counted.n)).toBe(1);
    expect((await database.sql.all<{ type: string }>('SELECT type FROM outbox')).map((row) => row.type)).toEqual(['shoal.inventory.StockReserved']);
  });

  it.skipIf(adapter.missing !== undefined)("rolls its writes back with the Shoal transaction's, and refuses a transaction of its own", async () => {
    const database = await setUp();
    await expect(
      database.transact(async (tx) => {
        await queryBuilder<Tables>(tx.sql).insertInto('stock').values({ sku: 'sku-9', available: 9, reserved: 0 }).execute();
        tx.emit(sampleEvent('shoal.inventory.StockReserved', 'ord-9'));
        throw new Error('handler failed');
      }),
    ).rejects.toThrow('handler failed');
    expect(await queryBuilder<Tables>(database.sql).selectFrom('stock').selectAll().execute()).toEqual([]);
    expect(await database.sql.all('SELECT id FROM outbox')).toEqual([]);

    const refused = await queryBuilder<Tables>(database.sql)
      .transaction()
      .execute(async () => 'never')
      .catch((error: unknown) => error);
    expect(isShoalError(refused) && refused.message).toMatch(/use tx\.transact for a savepoint/);
  });
});
