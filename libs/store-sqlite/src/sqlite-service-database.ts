/**
 * A service's own database on SQLite (@shoal/store's ServiceDatabase): one file, WAL, one writer connection per process. Every
 * state change goes through `transact`, whose transaction also holds the events the change emits (the
 * outbox, outbox-table.ts): either both are committed or neither is, so nothing is published for a change
 * that did not happen and no change is left unpublished.
 *
 * better-sqlite3 is synchronous and the file has one connection per process, so transactions run one at a
 * time (serial-transactions.ts): a work function that never awaits is begun, run and committed in one
 * synchronous stretch, and one that awaits holds the connection until it settles while the others queue.
 * Reads outside `transact` on `db` see the connection as it is, so while an awaiting transaction is open they
 * see its uncommitted writes; a work function that does not await leaves no such window.
 *
 * Nested transactions are savepoints of the outer one (`tx.transact`); commit listeners run once, after the
 * outermost commit, which is when the outbox relay is woken up.
 */
import Database from 'better-sqlite3';
import { ShoalError } from '@shoal/core';
import type { SchemaCatalog } from '@shoal/contract';
import { SqlOutboxTable, type ServiceDatabase, type Transaction, type TransactionWork } from '@shoal/store';
import type { OutboxCommit, Tracing } from '@shoal/telemetry';
import { SerialTransactions } from './serial-transactions.js';
import { createOutboxTable, OutboxWriter } from './sqlite-outbox.js';
import { SqliteExecutor } from './sqlite-executor.js';

export type SqliteDatabase = Database.Database;

export interface SqliteServiceDatabaseOptions {
  /** The database file; created with its folder's parent expected to exist. `:memory:` is refused (the relay needs a file to share). */
  path: string;
  /** The schema catalog every emitted event is checked against before it is stored. */
  catalog: SchemaCatalog;
  /** SQLite `synchronous`: NORMAL (default) survives a process crash, FULL also a power loss. */
  synchronous?: 'NORMAL' | 'FULL';
  /** How long a write waits for another process's write lock, in ms. Default 5000. */
  busyTimeoutMs?: number;
  /** The clock of the outbox's `created_at`, which retention counts from. Default Date.now. */
  now?: () => number;
  /** Gives every emitted event an outbox commit span and its trace context (docs/tracing.md). */
  tracing?: Tracing;
}

export type SqliteTransaction = Transaction<SqliteDatabase>;

export class SqliteServiceDatabase implements ServiceDatabase<SqliteDatabase> {
  readonly path: string;
  readonly catalog: SchemaCatalog;
  /** The connection. Write through `transact`; reads may use it directly. */
  readonly db: SqliteDatabase;
  readonly outbox: SqlOutboxTable;
  /** Statements in the SQL both adapters speak, on this connection (synchronous). */
  readonly sql: SqliteExecutor;
  private readonly writer: OutboxWriter;
  private readonly commitListeners = new Set<() => void>();
  private readonly transactions: SerialTransactions;
  /** What the open transaction's work receives; a new one per transaction, so a kept one is known to be over. */
  private current: SqliteTransactionContext | undefined;
  private readonly tracing: Tracing | undefined;
  private emittedInTransaction = false;
  private closed = false;

  constructor(options: SqliteServiceDatabaseOptions) {
    if (options.path === ':memory:' || options.path === '') {
      throw new ShoalError('SHOAL_CONFIG_INVALID', 'A service database needs a file path: the outbox relay and other processes read the same file');
    }
    this.path = options.path;
    this.catalog = options.catalog;
    this.tracing = options.tracing;
    try {
      this.db = new Database(options.path);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma(`synchronous = ${options.synchronous ?? 'NORMAL'}`);
      this.db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
      this.db.pragma('foreign_keys = ON');
    } catch (cause) {
      throw new ShoalError('SHOAL_DATABASE', `Cannot open the service database ${options.path}: ${(cause as Error).message}`, { cause });
    }
    const now = options.now ?? Date.now;
    createOutboxTable(this.db, now());
    this.sql = new SqliteExecutor(this.db);
    this.outbox = new SqlOutboxTable(this.sql);
    this.writer = new OutboxWriter(
      this.db,
      this.catalog,
      () => {
        this.emittedInTransaction = true;
      },
      now,
    );
    this.transactions = new SerialTransactions(this.db, {
      committed: () => {
        this.current = undefined;
        const notify = this.emittedInTransaction;
        this.emittedInTransaction = false;
        if (notify) for (const listener of this.commitListeners) listener();
      },
      rolledBack: () => {
        this.current = undefined;
        this.emittedInTransaction = false;
      },
    });
  }

  /**
   * Runs `work` in one transaction and returns its result. Throwing rolls back everything it wrote and
   * emitted. Inside another `transact` it is a savepoint: rolled back alone if it throws.
   */
  transact<T>(work: TransactionWork<SqliteDatabase, T>): Promise<T> {
    if (this.closed) return Promise.reject(new ShoalError('SHOAL_DATABASE', `The service database ${this.path} is closed`));
    if (this.tracing === undefined) {
      return this.transactions.run(() => {
        const tx = new SqliteTransactionContext(this, this.writer, this.transactions, undefined);
        this.current = tx;
        return work(tx);
      });
    }
    // Created here, in the caller's context: a queued transaction's work starts from another one's commit.
    const commit = this.tracing.outboxCommit();
    return this.transactions
      .run(() => {
        const tx = new SqliteTransactionContext(this, this.writer, this.transactions, commit);
        this.current = tx;
        return commit.run(() => work(tx));
      })
      .then(
        (result) => {
          commit.end();
          return result;
        },
        (error: unknown) => {
          commit.end(error);
          throw error;
        },
      );
  }

  /** Whether `tx` is the transaction open on this database right now. */
  isOpen(tx: Transaction<SqliteDatabase>): boolean {
    return tx === this.current;
  }

  /** `listener` runs after every outermost commit that emitted events; returns its removal. */
  onCommit(listener: () => void): () => void {
    this.commitListeners.add(listener);
    return () => this.commitListeners.delete(listener);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.commitListeners.clear();
    this.db.close();
  }
}

/** The transaction a work function receives: the connection, the outbox and savepoints. */
class SqliteTransactionContext implements SqliteTransaction {
  readonly db: SqliteDatabase;
  readonly sql: SqliteExecutor;

  constructor(
    private readonly owner: SqliteServiceDatabase,
    private readonly writer: OutboxWriter,
    private readonly transactions: SerialTransactions,
    /** The transaction's commit spans, when tracing: each event gets one, and its context. */
    private readonly commit: OutboxCommit | undefined,
  ) {
    this.db = owner.db;
    this.sql = owner.sql;
  }

  emit(event: Parameters<SqliteTransaction['emit']>[0], options?: Parameters<SqliteTransaction['emit']>[1]): void {
    this.emitUntyped(event, options);
  }

  emitUntyped(event: Parameters<SqliteTransaction['emitUntyped']>[0], options?: Parameters<SqliteTransaction['emitUntyped']>[1]): void {
    this.checkOpen();
    this.writer.insert(this.commit === undefined ? event : this.commit.stamp(event, options?.topic ?? this.owner.catalog.events.get(event.type)?.topic), options);
  }

  transact<T>(work: TransactionWork<SqliteDatabase, T>): Promise<T> {
    if (!this.owner.isOpen(this)) return Promise.reject(transactionOver());
    return this.transactions.savepoint(() => work(this));
  }

  private checkOpen(): void {
    if (!this.owner.isOpen(this)) throw transactionOver();
  }
}

function transactionOver(): ShoalError {
  return new ShoalError('SHOAL_HANDLER_INVALID', 'The transaction is over: emit and transact run inside the transact() call that received the transaction');
}

/**
 * `database` as the SQLite adapter, for code that still speaks better-sqlite3 directly (`database.db`);
 * a PostgreSQL database is refused with a configuration error naming `what` and DATABASE_URL.
 */
export function sqliteOnly(database: ServiceDatabase, what: string): SqliteServiceDatabase {
  if (database instanceof SqliteServiceDatabase) return database;
  throw new ShoalError('SHOAL_CONFIG_INVALID', `${what} runs on SQLite only so far: unset DATABASE_URL (it names ${database.path})`);
}
