/**
 * @shoal/store-sqlite: @shoal/store's ServiceDatabase on SQLite (better-sqlite3, WAL), the embedded default:
 * one file per service, the outbox table in it.
 */
export { SqliteServiceDatabase, sqliteOnly } from './sqlite-service-database.js';
export type { SqliteServiceDatabaseOptions, SqliteTransaction, SqliteDatabase } from './sqlite-service-database.js';
export { outboxBacklog } from './sqlite-outbox.js';
export { SqliteExecutor } from './sqlite-executor.js';
export { SerialTransactions, isPromiseLike } from './serial-transactions.js';
export type { SerialTransactionHooks } from './serial-transactions.js';
