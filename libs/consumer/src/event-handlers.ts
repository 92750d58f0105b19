/**
 * Handlers, keyed by CloudEvent type and typed by the generated schema types: the handler of
 * `'shoal.orders.OrderPlaced'` receives a `ShoalEvent<'shoal.orders.OrderPlaced'>` whose `data` is
 * `OrderPlaced`.
 *
 * A handler runs inside the transaction that also records the event in the inbox, writes through `tx.db`
 * and emits through `tx.emit`; all of it commits together, none of it when it throws. It may be
 * asynchronous: what it awaits (a statement on a network database, a savepoint with `tx.transact`, an
 * event-store append) runs inside the transaction, which commits only once the handler's promise resolved,
 * and rolls back when it rejects. (When a later record of the same transaction throws, the handler runs
 * again: inbox-handler.ts rolls the run back and applies the records before the failing one again.) A
 * handler that does not await costs no promise. What a handler must not await is the outside world (an HTTP
 * call, a timer): the transaction, and on SQLite every other writer of the service, would wait for it.
 */
import type { CloudEvent, ShoalEvent, ShoalEventType } from '@shoal/contract';
import type { MessageContext } from '@shoal/transport';
import type { SqliteTransaction } from '@shoal/store-sqlite';

/** `context`: where the record came from and how many times it has been tried (every consumer's MessageContext). */
export type EventHandler<T extends ShoalEventType = ShoalEventType> = (event: ShoalEvent<T>, tx: SqliteTransaction, context: MessageContext) => void | Promise<void>;

/** At most one handler per event type. */
export type EventHandlers = { [T in ShoalEventType]?: EventHandler<T> };

/** A handler as the runtime holds it, whatever its type. */
export type AnyEventHandler = (event: CloudEvent<unknown>, tx: SqliteTransaction, context: MessageContext) => unknown;
