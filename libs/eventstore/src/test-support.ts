/**
 * Test support for this package's tests (not exported): service databases on real SQLite files in temp
 * dirs (closed when the test finishes), events to append, and the outbox as rows.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@shoal/testing';
import { createEvent, DEFAULT_SCHEMAS_DIR, loadSchemaCatalog, type SchemaCatalog, type ShoalEvent } from '@shoal/contract';
import { type OutboxRow } from '@shoal/store';
import { SqliteServiceDatabase } from '@shoal/store-sqlite';
import { onTestFinished } from 'vitest';
import { testLines } from './test-deciders.js';

const catalog = loadSchemaCatalog();

/** A service database on a new file (or another connection to `path`), closed when the test finishes. */
export function openTestDatabase(path: string = join(tempDir('eventstore'), 'service.db'), schemas: SchemaCatalog = catalog): SqliteServiceDatabase {
  const database = new SqliteServiceDatabase({ path, catalog: schemas });
  onTestFinished(() => database.close());
  return database;
}

/**
 * The repository's catalog after a later, compatible change: OrderPlaced gained `giftNote`, a string
 * defaulting to "none".
 */
export function catalogWithGiftNote(): SchemaCatalog {
  const dir = tempDir('schemas');
  cpSync(DEFAULT_SCHEMAS_DIR, dir, { recursive: true });
  const file = join(dir, 'orders', 'OrderPlaced.avsc');
  const schema = JSON.parse(readFileSync(file, 'utf8')) as { fields: unknown[] };
  schema.fields.push({ name: 'giftNote', type: 'string', default: 'none' });
  writeFileSync(file, JSON.stringify(schema));
  return loadSchemaCatalog(dir);
}

export function outboxRows(database: SqliteServiceDatabase): OutboxRow[] {
  return database.db.prepare('SELECT * FROM outbox ORDER BY sequence').all() as OutboxRow[];
}

/** An OrderPlaced event of order `orderId`, ready to append. */
export function orderPlacedEvent(orderId: string): ShoalEvent<'shoal.orders.OrderPlaced'> {
  const lines = testLines();
  return createEvent(
    'shoal.orders.OrderPlaced',
    {
      orderId,
      customerId: 'cus-1',
      lines,
      total: { amount: lines.reduce((sum, line) => sum + line.quantity * line.unitPrice.amount, 0), currency: 'EUR' },
      shippingAddress: null,
      placedAt: 1_767_225_600_000,
    },
    { source: '/shoal/orders', subject: orderId },
  );
}

export { refusal } from '@shoal/contract/testing';
