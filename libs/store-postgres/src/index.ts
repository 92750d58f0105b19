/**
 * @shoal/store-postgres: @shoal/store's ServiceDatabase on PostgreSQL (node-postgres), the adapter several
 * instances of one service share: a database (and role) per service, the outbox table in it.
 */
export { PostgresServiceDatabase, redactedUrl } from './postgres-service-database.js';
export type { PostgresServiceDatabaseOptions, PostgresTransaction } from './postgres-service-database.js';
export { PostgresExecutor, type Queryable } from './postgres-executor.js';
export { isConnectionFailure } from './database-errors.js';
