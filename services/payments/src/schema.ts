/**
 * The payments database's own tables, next to the outbox and inbox that the runtime creates. Every start
 * runs this; `IF NOT EXISTS` makes it idempotent, and there is no other migration yet.
 *
 * - `customers`: a credit line per customer, in one currency; `used_amount` is the sum of its AUTHORIZED
 *   payments (a refund gives it back), never negative.
 * - `payments`: at most one per order (the primary key), whatever its outcome.
 * - `cancelled_orders`: every order payments heard was cancelled. StockReserved and OrderCancelled travel on
 *   different topics, so a cancellation can overtake the reservation it cancels; this table is how the
 *   late StockReserved learns that it must not charge anyone.
 */
import type { SqliteDatabase } from '@shoal/store-sqlite';

export function migratePayments(db: SqliteDatabase): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS customers (
      customer_id   TEXT PRIMARY KEY,
      limit_amount  INTEGER NOT NULL CHECK (limit_amount >= 0),
      currency      TEXT NOT NULL,
      used_amount   INTEGER NOT NULL CHECK (used_amount >= 0),
      updated_at    INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE IF NOT EXISTS payments (
      order_id     TEXT PRIMARY KEY,
      payment_id   TEXT NOT NULL UNIQUE,
      customer_id  TEXT NOT NULL,
      amount       INTEGER NOT NULL CHECK (amount >= 0),
      currency     TEXT NOT NULL,
      status       TEXT NOT NULL CHECK (status IN ('AUTHORIZED', 'DECLINED', 'REFUNDED')),
      reason       TEXT,
      created_at   INTEGER NOT NULL,
      updated_at   INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE IF NOT EXISTS cancelled_orders (
      order_id      TEXT PRIMARY KEY,
      cancelled_at  INTEGER NOT NULL
    ) STRICT;
  `);
}
