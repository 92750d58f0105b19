/**
 * The payments database's own tables, next to the outbox and inbox that the runtime creates, and their row
 * types for the query builder (@shoal/store's compiledQuery and queryBuilder). Every start runs
 * `migratePayments`; `IF NOT EXISTS` makes it idempotent, and there is no other migration yet. On
 * PostgreSQL the tables are created under the schema lock (createTables), so instances starting together
 * do not race.
 *
 * - `customers`: a credit line per customer, in one currency; `used_amount` is the sum of its AUTHORIZED
 *   payments (a refund gives it back), never negative.
 * - `payments`: at most one per order (the primary key), whatever its outcome.
 * - `cancelled_orders`: every order payments heard was cancelled. StockReserved and OrderCancelled travel on
 *   different topics, so a cancellation can overtake the reservation it cancels; this table is how the
 *   late StockReserved learns that it must not charge anyone.
 *
 * One definition per dialect, the same columns: SQLite's are STRICT; on PostgreSQL amounts and times are
 * BIGINT (a limit goes up to 2^53 - 1, ms since the epoch do not fit an INTEGER there).
 */
import { createTables, type ServiceDatabase } from '@shoal/store';

export type PaymentStatus = 'AUTHORIZED' | 'DECLINED' | 'REFUNDED';

export interface PaymentsTables {
  customers: { customer_id: string; limit_amount: number; currency: string; used_amount: number; updated_at: number };
  payments: {
    order_id: string;
    payment_id: string;
    customer_id: string;
    amount: number;
    currency: string;
    status: PaymentStatus;
    reason: string | null;
    created_at: number;
    updated_at: number;
  };
  cancelled_orders: { order_id: string; cancelled_at: number };
}

export function migratePayments(database: ServiceDatabase): Promise<void> {
  const integer = { sqlite: 'INTEGER', postgres: 'BIGINT' } as const;
  const statements = (dialect: 'sqlite' | 'postgres') => {
    const int = integer[dialect];
    const strict = dialect === 'sqlite' ? ' STRICT' : '';
    return [
      `CREATE TABLE IF NOT EXISTS customers (
        customer_id   TEXT PRIMARY KEY,
        limit_amount  ${int} NOT NULL CHECK (limit_amount >= 0),
        currency      TEXT NOT NULL,
        used_amount   ${int} NOT NULL CHECK (used_amount >= 0),
        updated_at    ${int} NOT NULL
      )${strict}`,
      `CREATE TABLE IF NOT EXISTS payments (
        order_id     TEXT PRIMARY KEY,
        payment_id   TEXT NOT NULL UNIQUE,
        customer_id  TEXT NOT NULL,
        amount       ${int} NOT NULL CHECK (amount >= 0),
        currency     TEXT NOT NULL,
        status       TEXT NOT NULL CHECK (status IN ('AUTHORIZED', 'DECLINED', 'REFUNDED')),
        reason       TEXT,
        created_at   ${int} NOT NULL,
        updated_at   ${int} NOT NULL
      )${strict}`,
      `CREATE TABLE IF NOT EXISTS cancelled_orders (
        order_id      TEXT PRIMARY KEY,
        cancelled_at  ${int} NOT NULL
      )${strict}`,
    ];
  };
  return createTables(database, { sqlite: statements('sqlite'), postgres: statements('postgres') });
}
