/**
 * The `stock` table: per sku, what can still be reserved (`available`) and what reservations hold
 * (`reserved`). Only PUT /stock changes their sum; reservations and releases move units between the two.
 *
 * Statements are prepared once on the service's one connection. Inside a handler that connection is
 * `tx.db`, in the transaction the consumer runtime opened, so these writes commit with the inbox row and the
 * emitted events.
 */
import { ShoalError } from '@shoal/core';
import type { SqliteDatabase } from '@shoal/store-sqlite';

export interface StockLevel {
  sku: string;
  available: number;
  reserved: number;
}

/** The named parameters of the writes: `@sku`, `@quantity` (the new level or the units moved), `@now`. */
interface Change {
  sku: string;
  quantity: number;
  now: number;
}

export class StockTable {
  private readonly selectOne;
  private readonly selectAll;
  private readonly upsertAvailable;
  private readonly moveToReserved;
  private readonly moveToAvailable;

  constructor(db: SqliteDatabase) {
    this.selectOne = db.prepare<[string], StockLevel>('SELECT sku, available, reserved FROM stock WHERE sku = ?');
    this.selectAll = db.prepare<[], StockLevel>('SELECT sku, available, reserved FROM stock ORDER BY sku');
    this.upsertAvailable = db.prepare<[Change], StockLevel>(
      `INSERT INTO stock (sku, available, reserved, updated_at) VALUES (@sku, @quantity, 0, @now)
       ON CONFLICT (sku) DO UPDATE SET available = excluded.available, updated_at = excluded.updated_at
       RETURNING sku, available, reserved`,
    );
    // `available >= @quantity` repeats the decision's check so that a reservation can never be applied on a level it was not decided on.
    this.moveToReserved = db.prepare<[Change]>(
      'UPDATE stock SET available = available - @quantity, reserved = reserved + @quantity, updated_at = @now WHERE sku = @sku AND available >= @quantity',
    );
    this.moveToAvailable = db.prepare<[Change]>(
      'UPDATE stock SET available = available + @quantity, reserved = reserved - @quantity, updated_at = @now WHERE sku = @sku AND reserved >= @quantity',
    );
  }

  get(sku: string): StockLevel | undefined {
    return this.selectOne.get(sku);
  }

  list(): StockLevel[] {
    return this.selectAll.all();
  }

  availableOf(sku: string): number {
    return this.get(sku)?.available ?? 0;
  }

  /** Sets the level that can be reserved; what reservations hold is untouched. */
  setAvailable(sku: string, available: number, now: number): StockLevel {
    return this.upsertAvailable.get({ sku, quantity: available, now })!;
  }

  reserve(sku: string, quantity: number, now: number): void {
    if (this.moveToReserved.run({ sku, quantity, now }).changes !== 1) {
      throw new ShoalError('SHOAL_HANDLER_FAILED', `Cannot reserve ${quantity} of ${sku}: not that many available`);
    }
  }

  release(sku: string, quantity: number, now: number): void {
    if (this.moveToAvailable.run({ sku, quantity, now }).changes !== 1) {
      throw new ShoalError('SHOAL_HANDLER_FAILED', `Cannot release ${quantity} of ${sku}: not that many reserved`);
    }
  }
}
