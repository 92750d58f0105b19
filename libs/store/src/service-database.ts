/**
 * A service's own database, whatever stores it: the contract that the outbox relay, the inbox, the event
 * store and the service host program against, and that each adapter (@shoal/store-sqlite) implements.
 *
 * A state change and the events it emits commit in one transaction: `emit` writes the event into the
 * database's outbox table inside the transaction, and the relay publishes it only once it is committed.
 * `Db` is the adapter's connection, the one every statement of a transaction runs on.
 */
import type { CloudEvent, SchemaCatalog, ShoalEvent } from '@shoal/contract';
import type { OutboxTable } from './outbox-table.js';

export interface EmitOptions {
  /** Publish to this topic instead of the catalog topic of the event type. */
  topic?: string;
}

/** What a transaction function receives. */
export interface Transaction<Db> {
  /** The connection, inside the open transaction: every statement run on it is part of it. */
  readonly db: Db;
  /** Stores `event` in the outbox, to be published once (and only if) the transaction commits. */
  emit<E extends ShoalEvent>(event: E, options?: EmitOptions): void;
  /** Like `emit`, for an event whose type is only known at run time (it is still checked against the catalog). */
  emitUntyped(event: CloudEvent<unknown>, options?: EmitOptions): void;
}

export interface ServiceDatabase<Db = unknown> {
  /** Where it is, for logs and errors (a file path, a URL without its password). */
  readonly path: string;
  /** The schema catalog every emitted event is checked against before it is stored. */
  readonly catalog: SchemaCatalog;
  /** The connection. Write through `transact`; reads may use it directly. */
  readonly db: Db;
  /** The outbox table and the relay's position in it. */
  readonly outbox: OutboxTable;
  /**
   * Runs `work` in one transaction and returns its result. Throwing rolls back everything it wrote and
   * emitted. Inside another `transact` it is a savepoint: rolled back alone if it throws.
   */
  transact<T>(work: (tx: Transaction<Db>) => T): T;
  /** `listener` runs after every outermost commit that emitted events; returns its removal. */
  onCommit(listener: () => void): () => void;
  close(): void;
}
