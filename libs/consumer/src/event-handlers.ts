/**
 * Handlers, keyed by CloudEvent type and typed by the generated schema types: the handler of
 * `'shoal.orders.OrderPlaced'` receives a `ShoalEvent<'shoal.orders.OrderPlaced'>` whose `data` is
 * `OrderPlaced`.
 *
 * A handler is synchronous. It runs inside the transaction that also records the event in the inbox, writes
 * through `tx.db` and emits through `tx.emit`; all of it commits together, none of it when it throws. (When a
 * later record of the same transaction throws, the handler runs again: inbox-handler.ts rolls the run back
 * and applies the records before the failing one again.) Anything it awaited would run after the commit,
 * outside the transaction, so a handler that returns a promise does not compile (`SynchronousHandlers`), and
 * at run time it is refused (SHOAL_HANDLER_INVALID) with its writes rolled back. Asynchronous work belongs
 * before the event (in whoever emitted it) or after it (an event emitted here, handled elsewhere).
 */
import type { CloudEvent, ShoalEvent, ShoalEventType } from '@shoal/contract';
import type { MessageContext } from '@shoal/transport';
import type { SqliteTransaction } from '@shoal/store-sqlite';

/**
 * `context`: where the record came from and how many times it has been tried (every consumer's MessageContext).
 * `prepared`: what the subscription's `prepare` resolved to for this event (undefined without one).
 */
export type EventHandler<T extends ShoalEventType = ShoalEventType> = (event: ShoalEvent<T>, tx: SqliteTransaction, context: MessageContext, prepared: unknown) => void;

/** At most one handler per event type. */
export type EventHandlers = { [T in ShoalEventType]?: EventHandler<T> };

/**
 * Turns the type of a handler that returns a promise into a message the compiler shows. A handler whose body
 * only throws is inferred to return `never`, which matches too: annotate it `(event): void => { throw … }`.
 * (Telling `never` apart here would need a conditional the compiler cannot see through while it infers the
 * handlers' parameter types from their keys.)
 */
export type SynchronousHandlers<H> = {
  [K in keyof H]: H[K] extends (...args: never[]) => PromiseLike<unknown> ? 'handlers must be synchronous: what they await would run after the transaction commits' : H[K];
};

/** A handler as the runtime holds it, whatever its type. */
export type AnyEventHandler = (event: CloudEvent<unknown>, tx: SqliteTransaction, context: MessageContext, prepared: unknown) => unknown;

/**
 * Asynchronous work an event needs before its transaction (a call to another process), awaited outside any
 * transaction, once per event the inbox has not recorded; what it resolves to is the handler's `prepared`.
 * It fails the way a handler does: its error is classified once (@shoal/transport's record-failure.ts), so
 * an outage is waited out, a retriable error retried, a poison one given up on at once.
 */
export type EventPreparation = (event: CloudEvent<unknown>, context: MessageContext) => Promise<unknown>;
