/**
 * A typed query builder for a service's own tables that writes the SQL of either adapter: Kysely, bound to
 * a SqlExecutor (sql-executor.ts). `queryBuilder<Tables>(tx.sql)` inside a transaction builds queries that
 * run in that transaction; `queryBuilder<Tables>(database.sql)` outside one runs each query on its own.
 * Kysely compiles each query for the executor's dialect (SQLite's or PostgreSQL's placeholders, quoting and
 * clauses), so one definition of a query runs unchanged on both adapters.
 *
 * The builder never opens, commits or rolls back a transaction itself: the transaction belongs to
 * `ServiceDatabase.transact` (a savepoint is `tx.transact`), so the handler's writes, its inbox row and the
 * events it emits still commit together. Kysely's own `transaction()` is refused with an error saying so.
 * Queries always answer with a promise, even on SQLite where the executor answers at once.
 */
import {
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type QueryResult,
  type RootOperationNode,
} from 'kysely';
import { ShoalError } from '@shoal/core';
import type { SqlExecutor } from './sql-executor.js';

const builders = new WeakMap<SqlExecutor, Kysely<unknown>>();

/** The query builder of `sql` (one per executor, made on first use): typed by the caller's table interface. */
export function queryBuilder<Tables>(sql: SqlExecutor): Kysely<Tables> {
  let builder = builders.get(sql);
  if (builder === undefined) {
    builder = new Kysely<unknown>({ dialect: new ExecutorDialect(sql) });
    builders.set(sql, builder);
  }
  return builder as Kysely<Tables>;
}

class ExecutorDialect implements Dialect {
  constructor(private readonly sql: SqlExecutor) {}

  createAdapter() {
    return this.sql.dialect === 'postgres' ? new PostgresAdapter() : new SqliteAdapter();
  }

  createDriver(): Driver {
    return new ExecutorDriver(new ExecutorConnection(this.sql));
  }

  createQueryCompiler() {
    return this.sql.dialect === 'postgres' ? new PostgresQueryCompiler() : new SqliteQueryCompiler();
  }

  createIntrospector(db: Kysely<unknown>) {
    return this.sql.dialect === 'postgres' ? new PostgresIntrospector(db) : new SqliteIntrospector(db);
  }
}

/** Statements whose answer is rows: a query, or a write with RETURNING. */
const READS = new Set<RootOperationNode['kind']>(['SelectQueryNode']);
const RAW_READ = /^\s*(select|with|values|pragma|explain|show)\b|\breturning\b/i;

function answersRows(compiled: CompiledQuery): boolean {
  const node = compiled.query;
  if (READS.has(node.kind)) return true;
  if ('returning' in node && node.returning !== undefined) return true;
  return node.kind === 'RawNode' && RAW_READ.test(compiled.sql);
}

class ExecutorConnection implements DatabaseConnection {
  constructor(private readonly sql: SqlExecutor) {}

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    if (answersRows(compiled)) return { rows: await this.sql.all<R>(compiled.sql, compiled.parameters) };
    const changed = await this.sql.run(compiled.sql, compiled.parameters);
    return { rows: [], numAffectedRows: BigInt(changed) };
  }

  // eslint-disable-next-line require-yield
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new ShoalError('SHOAL_CONFIG_INVALID', 'A query builder bound to a Shoal database does not stream: select in pages instead');
  }
}

function ownTransactionRefused(): never {
  throw new ShoalError(
    'SHOAL_CONFIG_INVALID',
    'A query builder bound to a Shoal database runs inside the transaction of ServiceDatabase.transact; use tx.transact for a savepoint, not the builder\'s transaction()',
  );
}

class ExecutorDriver implements Driver {
  constructor(private readonly connection: ExecutorConnection) {}

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    return this.connection;
  }

  async beginTransaction(): Promise<void> {
    ownTransactionRefused();
  }

  async commitTransaction(): Promise<void> {
    ownTransactionRefused();
  }

  async rollbackTransaction(): Promise<void> {
    ownTransactionRefused();
  }

  async releaseConnection(): Promise<void> {}

  async destroy(): Promise<void> {}
}
