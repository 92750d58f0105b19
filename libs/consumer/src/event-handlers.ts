/**
 * Handlers, keyed by CloudEvent type and typed by the generated schema types: the handler of
 * `'shoal.orders.OrderPlaced'` receives a `ShoalEvent<'shoal.orders.OrderPlaced'>` whose `data` is
 * `OrderPlaced`.
 *
 * A handler runs inside the transaction that also records the event in the inbox, writes through `tx.sql` (or `tx.db`)
 * and emits through `tx.emit`; all of it commits together, none of it when it throws. It may be
 * asynchronous: what it awaits (a statement on a network database, a savepoint with `tx.transact`, an
 * event-store append) runs inside the transaction, which commits only once the handler's promise resolved,
 * and rolls back when it rejects. (When a later record of the same transaction throws, the handler runs
 * again: inbox-handler.ts rolls the run back and applies the records before the failing one again.) A
 * handler that does not await costs no promise. What a handler must not await is the outside world (an HTTP
 * call, a timer): the transaction, and on SQLite every other writer of the service, would wait for it. That
 * belongs in the subscription's `prepare` (EventPreparation), which runs before the transaction.
 */
import type { CloudEvent, ShoalEvent, ShoalEventType } from '@shoal/contract';
import type { MessageContext } from '@shoal/transport';
import type { Transaction } from '@shoal/store';
import type { SqliteDatabase } from '@shoal/store-sqlite';

/**
 * `tx`: the transaction on the subscription's database (`Db` is its connection's type: better-sqlite3's on
 * SQLite, the default; a node-postgres client on PostgreSQL). `tx.sql` runs the same statements on both, and
 * `queryBuilder(tx.sql)` of @shoal/store builds them typed.
 * `context`: where the record came from and how many times it has been tried (every consumer's MessageContext).
 * `prepared`: what the subscription's `prepare` resolved to for this event (undefined without one).
 */
export type EventHandler<T extends ShoalEventType = ShoalEventType, Db = SqliteDatabase> = (event: ShoalEvent<T>, tx: Transaction<Db>, context: MessageContext, prepared?: unknown) => void | Promise<void>;

/** At most one handler per event type. */
export type EventHandlers<Db = SqliteDatabase> = { [T in ShoalEventType]?: EventHandler<T, Db> };

/** A handler as the runtime holds it, whatever its type. */
export type AnyEventHandler = (event: CloudEvent<unknown>, tx: Transaction<unknown>, context: MessageContext, prepared: unknown) => unknown;

/**
 * The outside world an event needs, before its transaction (a sidecar's call to its micrologic): awaited
 * outside any transaction, once per event the inbox has not recorded; what it resolves to is the handler's
 * `prepared`. It fails the way a handler does: its error is classified once (@shoal/transport's
 * record-failure.ts), so an outage is waited out, a retriable error retried, a poison one given up on at once.
 */
export type EventPreparation = (event: CloudEvent<unknown>, context: MessageContext) => Promise<unknown>;
