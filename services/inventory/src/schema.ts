/**
 * The inventory database's own tables, next to the outbox and inbox that the runtime creates. Every start
 * runs this; `IF NOT EXISTS` makes it idempotent, and there is no other migration yet.
 *
 * The CHECK constraints are the last guard against overselling: the reservation handler checks the levels
 * before it moves stock, in the same transaction, and SQLite refuses any write that would still take a level
 * below zero, rolling back the inbox row and the emitted event with it.
 */
import type { SqliteDatabase } from '@shoal/store-sqlite';

export function migrateInventory(db: SqliteDatabase): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS stock (
      sku         TEXT PRIMARY KEY,
      available   INTEGER NOT NULL CHECK (available >= 0),
      reserved    INTEGER NOT NULL CHECK (reserved >= 0),
      updated_at  INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE IF NOT EXISTS reservations (
      order_id     TEXT PRIMARY KEY,
      customer_id  TEXT NOT NULL,
      status       TEXT NOT NULL CHECK (status IN ('RESERVED', 'RELEASED', 'FAILED')),
      lines        TEXT NOT NULL CHECK (json_valid(lines)),
      reason       TEXT,
      created_at   INTEGER NOT NULL,
      released_at  INTEGER
    ) STRICT;
  `);
}
