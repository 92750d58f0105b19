/**
 * Test support for this package's tests, on either adapter (`storeAdapters` of @shoal/store-postgres/testing):
 * event stores on a new service database (closed when the test finishes), events to append, the outbox as
 * rows, and a database on which another writer's commit lands between a handler's read and its append.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'vitest';
import { tempDir } from '@shoal/testing';
import { createEvent, DEFAULT_SCHEMAS_DIR, loadSchemaCatalog, type SchemaCatalog, type ShoalEvent } from '@shoal/contract';
import type { OutboxRow, ServiceDatabase, Transaction } from '@shoal/store';
import type { StoreAdapter } from '@shoal/store-postgres/testing';
import { EventStore, type EventStoreOptions } from '../event-store.js';
import { testLines } from './deciders.js';

export const catalog = loadSchemaCatalog();

/** `it` for a suite on `adapter`: skipped, with the reason, where the adapter cannot run. */
export function itOn(adapter: StoreAdapter) {
  return it.skipIf(adapter.missing !== undefined);
}

/** An event store on a new service database of `adapter`. */
export async function openTestStore(adapter: StoreAdapter, options: Partial<EventStoreOptions> = {}): Promise<EventStore> {
  return EventStore.open(await adapter.open(catalog), options);
}

/** An event store on another connection (another instance's) to `store`'s database. */
export async function reopenTestStore(adapter: StoreAdapter, store: EventStore, options: Partial<EventStoreOptions> = {}, schemas: SchemaCatalog = catalog): Promise<EventStore> {
  return EventStore.open(await adapter.reopen(store.database, schemas), options);
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

export async function outboxRows(database: ServiceDatabase): Promise<OutboxRow[]> {
  return database.sql.all<OutboxRow>('SELECT * FROM outbox ORDER BY sequence');
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

/**
 * `database`, except that each of its transactions and savepoints first waits for `overtaking()`: another
 * writer's commit, started between a handler's read and its append, is in the database before the append
 * runs. On SQLite that commit is done before `overtaking()` is even asked for (another connection's
 * transaction that does not await commits at once); on PostgreSQL it is a round trip away, and this is what
 * puts it before the append rather than after. Every statement still runs on the real database.
 */
export function overtakenDatabase(database: ServiceDatabase, overtaking: () => Promise<unknown>): ServiceDatabase {
  const wrapped = new WeakMap<object, Transaction<unknown>>();
  const waitingFirst = (tx: Transaction<unknown>): Transaction<unknown> => {
    const view: Transaction<unknown> = {
      db: tx.db,
      sql: tx.sql,
      emit: (event, options) => tx.emit(event, options),
      emitUntyped: (event, options) => tx.emitUntyped(event, options),
      transact: async (work) => {
        await overtaking();
        return tx.transact(() => work(view));
      },
    };
    wrapped.set(view, tx);
    return view;
  };
  return {
    path: database.path,
    catalog: database.catalog,
    db: database.db,
    sql: database.sql,
    outbox: database.outbox,
    transact: async (work) => {
      await overtaking();
      return database.transact((tx) => work(waitingFirst(tx)));
    },
    isOpen: (tx) => database.isOpen(wrapped.get(tx) ?? tx),
    onCommit: (listener) => database.onCommit(listener),
    close: () => database.close(),
  };
}

export { refusal } from '@shoal/contract/testing';
