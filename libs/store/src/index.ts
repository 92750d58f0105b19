/**
 * @shoal/store: the service's own database, as an interface (docs/reference/store.md). The outbox relay, the
 * inbox, the event store and the service host use it; @shoal/store-sqlite implements it on SQLite.
 */
export type { ServiceDatabase, Transaction, TransactionWork, EmitOptions } from './service-database.js';
export type { OutboxTable, OutboxRow, RelayRow, OutboxBacklog, RelayLease } from './outbox-table.js';
export type { SqlExecutor, SqlDialect, MaybePromise } from './sql-executor.js';
export { afterValue } from './sql-executor.js';
export { SqlOutboxTable } from './sql-outbox-table.js';
export { createTables, SCHEMA_LOCK_KEY } from './create-tables.js';
export { eventOfRow, aggregateTypeOf } from './outbox-table.js';
export { queryBuilder } from './query-builder.js';
export { compiledQuery } from './compiled-query.js';
export type { CompiledStatement, Params } from './compiled-query.js';
/** The query builder's type, for the table interfaces of code that builds on queryBuilder or compiledQuery. */
export type { Kysely } from 'kysely';
