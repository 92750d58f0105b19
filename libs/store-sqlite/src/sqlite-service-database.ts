/**
 * A service's own database on SQLite (@shoal/store's ServiceDatabase): one file, WAL, one writer connection per process. Every
 * state change goes through `transact`, whose transaction also holds the events the change emits (the
 * outbox, outbox-table.ts): either both are committed or neither is, so nothing is published for a change
 * that did not happen and no change is left unpublished.
 *
 * better-sqlite3 is synchronous, so a transaction is a synchronous function: nothing else in the process can
 * write between its statements, and it can never be left open across an `await`. A function that returns a
 * promise is refused (SHOAL_HANDLER_INVALID) and its writes rolled back: whatever it awaited would run after
 * the commit, outside the transaction.
 *
 * Nested `transact` calls are savepoints of the outer transaction (better-sqlite3's nesting); commit listeners
 * run once, after the outermost commit, which is when the outbox relay is woken up.
 */
import Database from 'better-sqlite3';
import { ShoalError } from '@shoal/core';
import type { CloudEvent, SchemaCatalog } from '@shoal/contract';
import type { EmitOptions, ServiceDatabase, Transaction } from '@shoal/store';
import type { OutboxCommit, Tracing } from '@shoal/telemetry';
import { createOutboxTable, OutboxWriter, SqliteOutboxTable } from './sqlite-outbox.js';

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
  readonly outbox: SqliteOutboxTable;
  private readonly writer: OutboxWriter;
  private readonly commitListeners = new Set<() => void>();
  /** What every transaction function receives: the connection and the outbox, the same object each time. */
  private readonly tx: SqliteTransaction;
  /** better-sqlite3's BEGIN / COMMIT / ROLLBACK (SAVEPOINT when nested) around a work function, built once. */
  private readonly runInTransaction: <T>(work: (tx: SqliteTransaction) => T) => T;
  private readonly tracing: Tracing | undefined;
  /** The commit spans of the outermost transaction in progress, when tracing. */
  private commit: OutboxCommit | undefined;
  private depth = 0;
  private emittedInTransaction = false;
  private closed = false;

  constructor(options: SqliteServiceDatabaseOptions) {
    if (options.path === ':memory:' || options.path === '') {
      throw new ShoalError('SHOAL_CONFIG_INVALID', 'A service database needs a file path: the outbox relay and other processes read the same file');
    }
    this.path = options.path;
    this.catalog = options.catalog;
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
    this.outbox = new SqliteOutboxTable(this.db);
    this.writer = new OutboxWriter(
      this.db,
      this.catalog,
      () => {
        this.emittedInTransaction = true;
      },
      now,
    );
    this.tracing = options.tracing;
    const insert = (event: CloudEvent<unknown>, options: EmitOptions | undefined) =>
      this.writer.insert(this.commit === undefined ? event : this.commit.stamp(event, options?.topic ?? this.catalog.events.get(event.type)?.topic), options);
    this.tx = { db: this.db, emit: insert, emitUntyped: insert };
    this.runInTransaction = this.db.transaction((work: (tx: SqliteTransaction) => unknown) => {
      const result = work(this.tx);
      if (isPromiseLike(result)) {
        // Swallow the abandoned promise's outcome: the refusal below is the error the caller sees.
        void Promise.resolve(result).catch(() => undefined);
        throw new ShoalError(
          'SHOAL_HANDLER_INVALID',
          'A transaction function returned a promise: it must be synchronous, since anything it awaits would run after the commit; do async work before transact()',
        );
      }
      return result;
    }) as <T>(work: (tx: SqliteTransaction) => T) => T;
  }

  /**
   * Runs `work` in one transaction and returns its result. Throwing rolls back everything it wrote and
   * emitted. Inside another `transact` it is a savepoint: rolled back alone if it throws.
   */
  transact<T>(work: (tx: SqliteTransaction) => T): T {
    if (this.closed) throw new ShoalError('SHOAL_DATABASE', `The service database ${this.path} is closed`);
    this.depth += 1;
    if (this.depth === 1 && this.tracing !== undefined) this.commit = this.tracing.outboxCommit();
    let committed = false;
    let failure: unknown;
    try {
      const result = this.runInTransaction(work);
      committed = true;
      return result;
    } catch (error) {
      failure = error;
      throw error;
    } finally {
      this.depth -= 1;
      if (this.depth === 0) {
        this.commit?.end(committed ? undefined : failure);
        this.commit = undefined;
        const notify = committed && this.emittedInTransaction;
        this.emittedInTransaction = false;
        if (notify) for (const listener of this.commitListeners) listener();
      }
    }
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

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}
