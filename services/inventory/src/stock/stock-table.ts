/**
 * The `stock` table: per sku, what can still be reserved (`available`) and what reservations hold
 * (`reserved`). Only PUT /stock changes their sum; reservations and releases move units between the two.
 *
 * Built on the executor it is given: inside a handler that is `tx.sql`, the transaction the consumer runtime
 * opened, so these writes commit with the inbox row and the emitted events. Every query is the query
 * builder's, so it runs unchanged on SQLite and PostgreSQL.
 */
import { ShoalError } from '@shoal/core';
import { queryBuilder, type SqlExecutor } from '@shoal/store';
import type { InventoryTables } from '../schema.js';

export interface StockLevel {
  sku: string;
  available: number;
  reserved: number;
}

export class StockTable {
  private readonly db;
  private readonly locksRows: boolean;

  constructor(sql: SqlExecutor) {
    this.db = queryBuilder<InventoryTables>(sql);
    // SQLite has one writer at a time; on PostgreSQL another instance may be deciding on the same skus.
    this.locksRows = sql.dialect === 'postgres';
  }

  get(sku: string): Promise<StockLevel | undefined> {
    return this.db.selectFrom('stock').select(['sku', 'available', 'reserved']).where('sku', '=', sku).executeTakeFirst();
  }

  list(): Promise<StockLevel[]> {
    return this.db.selectFrom('stock').select(['sku', 'available', 'reserved']).orderBy('sku').execute();
  }

  /**
   * What can be reserved of each of `skus` (0 for an sku never stocked), to decide on. On PostgreSQL the rows
   * stay locked until the transaction ends, so the levels decided on are the levels the moves apply to.
   */
  async availableOf(skus: readonly string[]): Promise<Map<string, number>> {
    if (skus.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('stock')
      .select(['sku', 'available'])
      .where('sku', 'in', skus)
      .orderBy('sku')
      .$if(this.locksRows, (query) => query.forUpdate())
      .execute();
    return new Map(rows.map((row) => [row.sku, row.available]));
  }

  /** Sets the level that can be reserved; what reservations hold is untouched. */
  async setAvailable(sku: string, available: number, now: number): Promise<StockLevel> {
    return this.db
      .insertInto('stock')
      .values({ sku, available, reserved: 0, updated_at: now })
      .onConflict((conflict) => conflict.column('sku').doUpdateSet((update) => ({ available: update.ref('excluded.available'), updated_at: update.ref('excluded.updated_at') })))
      .returning(['sku', 'available', 'reserved'])
      .executeTakeFirstOrThrow();
  }

  async reserve(sku: string, quantity: number, now: number): Promise<void> {
    // `available >= quantity` repeats the decision's check so that a reservation can never be applied on a level it was not decided on.
    const moved = await this.db
      .updateTable('stock')
      .set((update) => ({ available: update('available', '-', quantity), reserved: update('reserved', '+', quantity), updated_at: now }))
      .where('sku', '=', sku)
      .where('available', '>=', quantity)
      .executeTakeFirst();
    if (moved.numUpdatedRows !== 1n) throw new ShoalError('SHOAL_HANDLER_FAILED', `Cannot reserve ${quantity} of ${sku}: not that many available`);
  }

  async release(sku: string, quantity: number, now: number): Promise<void> {
    const moved = await this.db
      .updateTable('stock')
      .set((update) => ({ available: update('available', '+', quantity), reserved: update('reserved', '-', quantity), updated_at: now }))
      .where('sku', '=', sku)
      .where('reserved', '>=', quantity)
      .executeTakeFirst();
    if (moved.numUpdatedRows !== 1n) throw new ShoalError('SHOAL_HANDLER_FAILED', `Cannot release ${quantity} of ${sku}: not that many reserved`);
  }
}
