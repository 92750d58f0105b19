/**
 * @shoal/store's compiledQuery on both adapters from the same test code: a statement built once with the
 * query builder runs with each call's values in the transaction whose executor it is given, answers rows,
 * the first row or the rows it changed, and on SQLite answers at once (no promise), as a tx.sql statement does.
 */
import { describe, expect, it } from 'vitest';
import { loadSchemaCatalog } from '@shoal/contract';
import { compiledQuery, queryBuilder, type Kysely, type Params } from '@shoal/store';
import { storeAdapters } from './testing/index.js';

const catalog = loadSchemaCatalog();

interface Tables {
  stock: { sku: string; available: number; updated_at: number };
}
type Db = Kysely<Tables>;

const upsert = compiledQuery((db: Db, p: Params<{ sku: string; available: number; now: number }>) =>
  db
    .insertInto('stock')
    .values({ sku: p.sku, available: p.available, updated_at: p.now })
    .onConflict((conflict) => conflict.column('sku').doUpdateSet((update) => ({ available: update.ref('excluded.available'), updated_at: update.ref('excluded.updated_at') })))
    .returning(['sku', 'available']),
);
const take = compiledQuery((db: Db, p: Params<{ sku: string; quantity: number }>) =>
  db.updateTable('stock').set((update) => ({ available: update('available', '-', p.quantity) })).where('sku', '=', p.sku).where('available', '>=', p.quantity),
);
const levelOf = compiledQuery((db: Db, p: Params<{ sku: string }>, dialect) =>
  db.selectFrom('stock').select(['sku', 'available']).where('sku', '=', p.sku).$if(dialect === 'postgres', (query) => query.forUpdate()),
);
const above = compiledQuery((db: Db, p: Params<{ least: number }>) => db.selectFrom('stock').select('sku').where('available', '>=', p.least).where('sku', '!=', 'ignored').orderBy('sku'));

describe.each(storeAdapters)('compiledQuery on $name', (adapter) => {
  it.skipIf(adapter.missing !== undefined)('runs one compiled statement with each call\'s values, inside the transaction of the executor given', async () => {
    const database = await adapter.open(catalog);
    await queryBuilder<Tables>(database.sql)
      .schema.createTable('stock')
      .addColumn('sku', 'text', (column) => column.primaryKey())
      .addColumn('available', 'integer', (column) => column.notNull())
      .addColumn('updated_at', 'bigint', (column) => column.notNull())
      .execute();

    const now = 1_767_225_600_000; // above 2^31: a BIGINT on PostgreSQL, and it comes back as a number
    await database.transact(async (tx) => {
      expect(await upsert.get(tx.sql, { sku: 'a', available: 5, now })).toEqual({ sku: 'a', available: 5 });
      expect(await upsert.get(tx.sql, { sku: 'b', available: 1, now })).toEqual({ sku: 'b', available: 1 });
      expect(await upsert.get(tx.sql, { sku: 'a', available: 7, now: now + 1 })).toEqual({ sku: 'a', available: 7 });
      expect(await take.run(tx.sql, { sku: 'a', quantity: 3 })).toBe(1);
      expect(await take.run(tx.sql, { sku: 'b', quantity: 3 })).toBe(0);
      expect(await levelOf.get(tx.sql, { sku: 'a' })).toEqual({ sku: 'a', available: 4 });
    });
    await expect(
      database.transact(async (tx) => {
        await take.run(tx.sql, { sku: 'a', quantity: 4 });
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');

    expect(await levelOf.get(database.sql, { sku: 'a' })).toEqual({ sku: 'a', available: 4 });
    expect(await levelOf.get(database.sql, { sku: 'none' })).toBeUndefined();
    expect(await above.all(database.sql, { least: 1 })).toEqual([{ sku: 'a' }, { sku: 'b' }]);
    expect(await above.all(database.sql, { least: 2 })).toEqual([{ sku: 'a' }]);
    expect(await queryBuilder<Tables>(database.sql).selectFrom('stock').select('updated_at').where('sku', '=', 'a').executeTakeFirst()).toEqual({ updated_at: now + 1 });

    const answer = levelOf.get(database.sql, { sku: 'a' });
    expect(answer instanceof Promise).toBe(adapter.name === 'postgres');
  });
});
