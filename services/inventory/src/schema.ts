/**
 * The inventory database's own tables, next to the outbox and inbox that the runtime creates, and their
 * row types for the query builder (`queryBuilder<InventoryTables>(tx.sql)` of @shoal/store). Every start
 * runs `migrateInventory`; `IF NOT EXISTS` makes it idempotent, and there is no other migration yet. On
 * PostgreSQL the tables are created under the schema lock (createTables), so instances starting together
 * do not race.
 *
 * One definition per dialect, the same columns: SQLite's are STRICT; PostgreSQL's times are BIGINT (ms since
 * the epoch do not fit an INTEGER there) and its skus sort by code point (COLLATE "C"), as SQLite sorts them.
 * The CHECK constraints are the last guard against overselling: the reservation handler checks the levels
 * before it moves stock, in the same transaction, and the database refuses any write that would still take
 * a level below zero, rolling back the inbox row and the emitted event with it.
 */
import { createTables, type ServiceDatabase } from '@shoal/store';

export type ReservationStatus = 'RESERVED' | 'RELEASED' | 'FAILED';

export interface StockRow {
  sku: string;
  available: number;
  reserved: number;
  updated_at: number;
}

export interface ReservationRow {
  order_id: string;
  customer_id: string;
  status: ReservationStatus;
  /** The quantities per sku, as JSON. */
  lines: string;
  reason: string | null;
  created_at: number;
  released_at: number | null;
}

export interface InventoryTables {
  stock: StockRow;
  reservations: ReservationRow;
}

export function migrateInventory(database: ServiceDatabase): Promise<void> {
  return createTables(database, {
    sqlite: [
      `CREATE TABLE IF NOT EXISTS stock (
        sku         TEXT PRIMARY KEY,
        available   INTEGER NOT NULL CHECK (available >= 0),
        reserved    INTEGER NOT NULL CHECK (reserved >= 0),
        updated_at  INTEGER NOT NULL
      ) STRICT`,
      `CREATE TABLE IF NOT EXISTS reservations (
        order_id     TEXT PRIMARY KEY,
        customer_id  TEXT NOT NULL,
        status       TEXT NOT NULL CHECK (status IN ('RESERVED', 'RELEASED', 'FAILED')),
        lines        TEXT NOT NULL CHECK (json_valid(lines)),
        reason       TEXT,
        created_at   INTEGER NOT NULL,
        released_at  INTEGER
      ) STRICT`,
    ],
    postgres: [
      `CREATE TABLE IF NOT EXISTS stock (
        sku         TEXT COLLATE "C" PRIMARY KEY,
        available   BIGINT NOT NULL CHECK (available >= 0),
        reserved    BIGINT NOT NULL CHECK (reserved >= 0),
        updated_at  BIGINT NOT NULL
      )`,
      `CREATE TABLE IF NOT EXISTS reservations (
        order_id     TEXT PRIMARY KEY,
        customer_id  TEXT NOT NULL,
        status       TEXT NOT NULL CHECK (status IN ('RESERVED', 'RELEASED', 'FAILED')),
        lines        TEXT NOT NULL CHECK (lines::jsonb IS NOT NULL),
        reason       TEXT,
        created_at   BIGINT NOT NULL,
        released_at  BIGINT
      )`,
    ],
  });
}
