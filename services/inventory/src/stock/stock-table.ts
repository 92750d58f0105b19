/**
 * The `stock` table: per sku, what can still be reserved (`available`) and what reservations hold
 * (`reserved`). Only PUT /stock changes their sum; reservations and releases move units between the two.
 *
 * Every statement is written once with the query builder and compiled once per dialect (compiledQuery of
 * @shoal/store), so it runs unchanged on SQLite and PostgreSQL, and costs a handler no more on SQLite than a
 * prepared statement. It runs on the executor it is given: inside a handler that is `tx.sql`, the
 * transaction the consumer runtime opened, so these writes commit with the inbox row and the emitted events.
 */
import { ShoalError } from '@shoal/core';
import { compiledQuery, type Kysely, type Params, type SqlExecutor } from '@shoal/store';
import type { InventoryTables } from '../schema.js';

export interface StockLevel {
  sku: string;
  available: number;
  reserved: number;
}

type Db = Kysely<InventoryTables>;

/** The parameters of the writes: the sku, the new level or the units moved, the time. */
interface Change {
  sku: string;
  quantity: number;
  now: number;
}

const selectOne = compiledQuery((db: Db, p: Params<{ sku: string }>) => db.selectFrom('stock').select(['sku', 'available', 'reserved']).where('sku', '=', p.sku));

const selectAll = compiledQuery((db: Db) => db.selectFrom('stock').select(['sku', 'available', 'reserved']).orderBy('sku'));

// On PostgreSQL the row stays locked until the transaction ends, so the level decided on is the level the
// move applies to even with another instance deciding on the same sku; SQLite has one writer at a time.
const selectAvailable = compiledQuery((db: Db, p: Params<{ sku: string }>, dialect) =>
  db
    .selectFrom('stock')
    .select('available')
    .where('sku', '=', p.sku)
    .$if(dialect === 'postgres', (query) => query.forUpdate()),
);

const upsertAvailable = compiledQuery((db: Db, p: Params<Change>) =>
  db
    .insertInto('stock')
    .values({ sku: p.sku, available: p.quantity, reserved: 0, updated_at: p.now })
    .onConflict((conflict) => conflict.column('sku').doUpdateSet((update) => ({ available: update.ref('excluded.available'), updated_at: update.ref('excluded.updated_at') })))
    .returning(['sku', 'available', 'reserved']),
);

// `available >= quantity` repeats the decision's check so that a reservation can never be applied on a level it was not decided on.
const moveToReserved = compiledQuery((db: Db, p: Params<Change>) =>
  db
    .updateTable('stock')
    .set((update) => ({ available: update('available', '-', p.quantity), reserved: update('reserved', '+', p.quantity), updated_at: p.now }))
    .where('sku', '=', p.sku)
    .where('available', '>=', p.quantity),
);

const moveToAvailable = compiledQuery((db: Db, p: Params<Change>) =>
  db
    .updateTable('stock')
    .set((update) => ({ available: update('available', '+', p.quantity), reserved: update('reserved', '-', p.quantity), updated_at: p.now }))
    .where('sku', '=', p.sku)
    .where('reserved', '>=', p.quantity),
);

export class StockTable {
  constructor(private readonly sql: SqlExecutor) {}

  async get(sku: string): Promise<StockLevel | undefined> {
    return selectOne.get(this.sql, { sku });
  }

  async list(): Promise<StockLevel[]> {
    return selectAll.all(this.sql, {});
  }

  /** What can be reserved of `sku` (0 for an sku never stocked), to decide on. */
  async availableOf(sku: string): Promise<number> {
    return (await selectAvailable.get(this.sql, { sku }))?.available ?? 0;
  }

  /** Sets the level that can be reserved; what reservations hold is untouched. */
  async setAvailable(sku: string, available: number, now: number): Promise<StockLevel> {
    return (await upsertAvailable.get(this.sql, { sku, quantity: available, now }))!;
  }

  async reserve(sku: string, quantity: number, now: number): Promise<void> {
    if ((await moveToReserved.run(this.sql, { sku, quantity, now })) !== 1) {
      throw new ShoalError('SHOAL_HANDLER_FAILED', `Cannot reserve ${quantity} of ${sku}: not that many available`);
    }
  }

  async release(sku: string, quantity: number, now: number): Promise<void> {
    if ((await moveToAvailable.run(this.sql, { sku, quantity, now })) !== 1) {
      throw new ShoalError('SHOAL_HANDLER_FAILED', `Cannot release ${quantity} of ${sku}: not that many reserved`);
    }
  }
}
