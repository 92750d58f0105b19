/**
 * A service's own database on PostgreSQL (@shoal/store's ServiceDatabase), through a node-postgres pool: the
 * adapter several instances of one service share. A transaction takes a connection of the pool for its
 * whole work (BEGIN ... COMMIT on it), so transactions run side by side; the work's statements run on that
 * connection in the order it awaits them.
 *
 * Emitted events are checked at once and written with the commit (outbox-writes.ts): the transaction's last
 * statements take the outbox's commit lock, insert its rows and commit. Holding the lock across the insert
 * and the commit is what hands sequences out in commit order, as SQLite's single writer does: the relay's
 * position (sequence > published_through) can then never pass a row that commits later. The lock is held
 * only for that last stretch, not while the work runs.
 *
 * Tables are created on `open` under a lock, so instances starting together do not race. A database holds
 * one service (`shoal_service`): opening it for another is refused, as a file of another service would be.
 * Connection failures surface as SHOAL_DATABASE, retriable (database-errors.ts).
 */
import pg from 'pg';
import { ShoalError } from '@shoal/core';
import type { SchemaCatalog } from '@shoal/contract';
import { SCHEMA_LOCK_KEY, SqlOutboxTable, type ServiceDatabase, type SqlExecutor, type Transaction, type TransactionWork } from '@shoal/store';
import { databaseError } from './database-errors.js';
import { OutboxWrites } from './outbox-writes.js';
import { PostgresExecutor, type Queryable } from './postgres-executor.js';

export type PostgresTransaction = Transaction<Queryable>;

export interface PostgresServiceDatabaseOptions {
  /** `postgres://user:password@host:port/database`. */
  url: string;
  /** The schema catalog every emitted event is checked against before it is stored. */
  catalog: SchemaCatalog;
  /** The service the database belongs to; another service's database is refused. */
  service: string;
  /** Connections of the pool. Default 10. */
  poolSize?: number;
  /** How long to wait for a connection (the server, or a free one of the pool), ms. Default 5000. */
  connectTimeoutMs?: number;
  /** The clock of the outbox's `created_at`. Default Date.now. */
  now?: () => number;
}


/** BIGINT as a number: every integer the platform stores (sequences, offsets, ms times) is below 2^53. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === 20 ? Number : pg.types.getTypeParser(oid, format))) as typeof pg.types.getTypeParser,
};

/** `url` without its password, for logs and errors. */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<not a URL>';
  }
}

export class PostgresServiceDatabase implements ServiceDatabase<Queryable> {
  readonly path: string;
  readonly catalog: SchemaCatalog;
  /** The pool. Write through `transact`; reads may use it directly. */
  readonly db: pg.Pool;
  readonly sql: PostgresExecutor;
  readonly outbox: SqlOutboxTable;
  readonly service: string;
  private readonly commitListeners = new Set<() => void>();
  /** The transactions open on this database's connections right now. */
  private readonly openTransactions = new WeakSet<PostgresTransaction>();
  private readonly now: () => number;
  private closed = false;

  private constructor(options: PostgresServiceDatabaseOptions) {
    this.path = redactedUrl(options.url);
    this.catalog = options.catalog;
    this.service = options.service;
    this.now = options.now ?? Date.now;
    this.db = new pg.Pool({ connectionString: options.url, max: options.poolSize ?? 10, connectionTimeoutMillis: options.connectTimeoutMs ?? 5000, types });
    // An idle connection the server dropped (a restart) is replaced on the next checkout; without a listener
    // its error would be an uncaught exception.
    this.db.on('error', () => undefined);
    this.sql = new PostgresExecutor(this.db, this.path);
    this.outbox = new SqlOutboxTable(this.sql);
  }

  /** Connects, creates the platform's tables if missing, and checks the database is the service's. */
  static async open(options: PostgresServiceDatabaseOptions): Promise<PostgresServiceDatabase> {
    if (!/^postgres(ql)?:\/\//.test(options.url)) {
      throw new ShoalError('SHOAL_CONFIG_INVALID', `Not a PostgreSQL URL: ${redactedUrl(options.url)} (postgres://user:password@host:port/database)`);
    }
    const database = new PostgresServiceDatabase(options);
    try {
      await database.transact(async (tx) => {
        await tx.sql.run('SELECT pg_advisory_xact_lock(?)', [SCHEMA_LOCK_KEY]);
        await createTables(tx.sql, database.now());
        const owner = await tx.sql.get<{ name: string }>('SELECT name FROM shoal_service WHERE id = 1');
        if (owner === undefined) await tx.sql.run('INSERT INTO shoal_service (id, name) VALUES (1, ?)', [options.service]);
        else if (owner.name !== options.service) {
          throw new ShoalError('SHOAL_CONFIG_INVALID', `The database ${database.path} belongs to service ${owner.name}, not ${options.service}: each service has a database of its own`);
        }
      });
    } catch (error) {
      await database.close();
      throw error;
    }
    return database;
  }

  async transact<T>(work: TransactionWork<Queryable, T>): Promise<T> {
    if (this.closed) throw new ShoalError('SHOAL_DATABASE', `The service database ${this.path} is closed`);
    let client: pg.PoolClient;
    try {
      client = await this.db.connect();
    } catch (error) {
      throw databaseError(error, this.path);
    }
    let broken: Error | undefined;
    // A connection the server drops while the work awaits something else (the server stopped) reports it as
    // an 'error' event of the client, not of a query: without a listener, an uncaught exception. The next
    // statement fails on it and the client is discarded on release.
    const dropped = (error: Error) => {
      broken = error;
    };
    client.on('error', dropped);
    const tx = new PostgresTransactionContext(client, new OutboxWrites(this.catalog, this.now), this.path);
    this.openTransactions.add(tx);
    try {
      await tx.sql.run('BEGIN');
      const result = await work(tx);
      const emitted = await tx.writes.flush(tx.sql);
      await tx.sql.run('COMMIT');
      tx.open = false;
      if (emitted) for (const listener of this.commitListeners) listener();
      return result;
    } catch (error) {
      tx.open = false;
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        broken = rollbackError as Error;
      }
      throw databaseError(error, this.path);
    } finally {
      client.off('error', dropped);
      this.openTransactions.delete(tx);
      client.release(broken);
    }
  }

  isOpen(tx: PostgresTransaction): boolean {
    return this.openTransactions.has(tx);
  }

  onCommit(listener: () => void): () => void {
    this.commitListeners.add(listener);
    return () => this.commitListeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.commitListeners.clear();
    await this.db.end();
  }
}

/** What a work function receives: the transaction's connection, the outbox and savepoints. */
class PostgresTransactionContext implements PostgresTransaction {
  readonly sql: PostgresExecutor;
  open = true;
  private depth = 0;

  constructor(
    readonly db: pg.PoolClient,
    readonly writes: OutboxWrites,
    where: string,
  ) {
    this.sql = new PostgresExecutor(db, where);
  }

  emit(event: Parameters<PostgresTransaction['emit']>[0], options?: Parameters<PostgresTransaction['emit']>[1]): void {
    this.checkOpen();
    this.writes.add(event, options);
  }

  emitUntyped(event: Parameters<PostgresTransaction['emitUntyped']>[0], options?: Parameters<PostgresTransaction['emitUntyped']>[1]): void {
    this.checkOpen();
    this.writes.add(event, options);
  }

  async transact<T>(work: TransactionWork<Queryable, T>): Promise<T> {
    this.checkOpen();
    const name = `shoal_${this.depth}`;
    this.depth += 1;
    const mark = this.writes.mark();
    await this.sql.run(`SAVEPOINT ${name}`);
    try {
      const result = await work(this);
      await this.sql.run(`RELEASE SAVEPOINT ${name}`);
      return result;
    } catch (error) {
      if (this.open) {
        await this.sql.run(`ROLLBACK TO SAVEPOINT ${name}`);
        await this.sql.run(`RELEASE SAVEPOINT ${name}`);
        this.writes.rollBackTo(mark);
      }
      throw error;
    } finally {
      this.depth -= 1;
    }
  }

  private checkOpen(): void {
    if (!this.open) throw new ShoalError('SHOAL_HANDLER_INVALID', 'The transaction is over: emit and transact run inside the transact() call that received the transaction');
  }
}

/** The platform's tables on PostgreSQL: the outbox (as SQLite's, sqlite-outbox.ts of @shoal/store-sqlite) and the owner. */
async function createTables(sql: SqlExecutor, now: number): Promise<void> {
  for (const statement of [
    'CREATE SEQUENCE IF NOT EXISTS outbox_sequence',
    `CREATE TABLE IF NOT EXISTS outbox (
      sequence      BIGINT PRIMARY KEY DEFAULT nextval('outbox_sequence'),
      id            TEXT   NOT NULL UNIQUE,
      aggregatetype TEXT   NOT NULL,
      aggregateid   TEXT   NOT NULL,
      type          TEXT   NOT NULL,
      payload       TEXT   NOT NULL,
      topic         TEXT   NOT NULL,
      headers       TEXT   NOT NULL,
      created_at    BIGINT NOT NULL
    )`,
    `CREATE TABLE IF NOT EXISTS outbox_relay (
      id                INTEGER PRIMARY KEY CHECK (id = 1),
      published_through BIGINT  NOT NULL,
      updated_at        BIGINT  NOT NULL,
      lease_owner       TEXT,
      lease_epoch       BIGINT  NOT NULL DEFAULT 0,
      lease_until       BIGINT  NOT NULL DEFAULT 0
    )`,
    'CREATE TABLE IF NOT EXISTS shoal_service (id INTEGER PRIMARY KEY CHECK (id = 1), name TEXT NOT NULL)',
  ]) {
    await sql.run(statement);
  }
  await sql.run('INSERT INTO outbox_relay (id, published_through, updated_at) VALUES (1, 0, ?) ON CONFLICT (id) DO NOTHING', [now]);
}
