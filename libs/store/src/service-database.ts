/**
 * A service's own database, whatever stores it: the contract that the outbox relay, the inbox, the event
 * store and the service host program against, and that each adapter (@shoal/store-sqlite) implements.
 *
 * A state change and the events it emits commit in one transaction: `emit` writes the event into the
 * database's outbox table inside the transaction, and the relay publishes it only once it is committed.
 * `Db` is the adapter's connection, the one every statement of a transaction runs on.
 *
 * Transactions are asynchronous: `transact` returns a promise, and its work function may await (a network
 * database answers every statement with a promise). Whatever the work awaits runs inside the transaction, so
 * the writes of an awaited step commit with the rest or not at all. An adapter with a single connection
 * (SQLite) runs one transaction at a time and queues the others; one with a pool runs them side by side. A
 * work function that never awaits costs no more than it did when transactions were synchronous.
 */
import type { CloudEvent, SchemaCatalog, ShoalEvent } from '@shoal/contract';
import type { OutboxTable } from './outbox-table.js';
import type { SqlExecutor } from './sql-executor.js';

export interface EmitOptions {
  /** Publish to this topic instead of the catalog topic of the event type. */
  topic?: string;
}

/** A transaction's work: its result, or a promise of it (awaited before the commit). */
export type TransactionWork<Db, T> = (tx: Transaction<Db>) => T | PromiseLike<T>;

/** What a transaction function receives. */
export interface Transaction<Db> {
  /** The connection, inside the open transaction: every statement run on it is part of it. */
  readonly db: Db;
  /** Statements in the SQL both adapters speak, run inside this transaction (sql-executor.ts). */
  readonly sql: SqlExecutor;
  /**
   * Stores `event` in the outbox, to be published once (and only if) the transaction commits. Synchronous:
   * the event is checked against the catalog at once; an adapter may write the row at once or with the commit.
   */
  emit<E extends ShoalEvent>(event: E, options?: EmitOptions): void;
  /** Like `emit`, for an event whose type is only known at run time (it is still checked against the catalog). */
  emitUntyped(event: CloudEvent<unknown>, options?: EmitOptions): void;
  /**
   * Runs `work` in a savepoint of this transaction: if it throws, only its writes and emits are rolled back,
   * and the error is the caller's. Await it before the outer work goes on.
   */
  transact<T>(work: TransactionWork<Db, T>): Promise<T>;
}

export interface ServiceDatabase<Db = unknown> {
  /** Where it is, for logs and errors (a file path, a URL without its password). */
  readonly path: string;
  /** The schema catalog every emitted event is checked against before it is stored. */
  readonly catalog: SchemaCatalog;
  /** The connection. Write through `transact`; reads may use it directly. */
  readonly db: Db;
  /** Statements in the SQL both adapters speak, each in a transaction of its own (for reads). */
  readonly sql: SqlExecutor;
  /** The outbox table and the relay's position in it. */
  readonly outbox: OutboxTable;
  /**
   * Runs `work` in one transaction and resolves to its result once committed. Throwing (or rejecting) rolls
   * back everything it wrote and emitted. A transaction inside a transaction is `tx.transact` (a savepoint);
   * calling this method from inside a work function would wait for itself on a single-connection adapter.
   */
  transact<T>(work: TransactionWork<Db, T>): Promise<T>;
  /**
   * Whether `tx` is a transaction of this database (on this connection or pool) that is still open: what a
   * library handed a caller's transaction checks before writing in it.
   */
  isOpen(tx: Transaction<Db>): boolean;
  /** `listener` runs after every outermost commit that emitted events; returns its removal. */
  onCommit(listener: () => void): () => void;
  close(): void | Promise<void>;
}
