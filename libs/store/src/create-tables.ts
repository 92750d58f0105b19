/**
 * Creating the platform's tables in a service database, in the dialect's own statements, in one
 * transaction. On PostgreSQL instances of a service start together and `CREATE TABLE IF NOT EXISTS` is not
 * safe against a concurrent one (both may create the table's type), so the transaction first takes an
 * advisory lock every instance takes for it.
 */
import type { ServiceDatabase } from './service-database.js';
import type { SqlDialect } from './sql-executor.js';

/** The advisory lock key under which tables are created on PostgreSQL (a number no service uses for its own). */
export const SCHEMA_LOCK_KEY = 0x5_1a_0001;

export async function createTables(database: ServiceDatabase, statements: Record<SqlDialect, readonly string[]>): Promise<void> {
  await database.transact(async (tx) => {
    if (tx.sql.dialect === 'postgres') await tx.sql.run('SELECT pg_advisory_xact_lock(?)', [SCHEMA_LOCK_KEY]);
    for (const statement of statements[tx.sql.dialect]) await tx.sql.run(statement);
  });
}
