/**
 * What a sidecar writes for its micrologic, always inside one transaction of its database: the events it asks
 * for (into the outbox, which @shoal/outbox's relay publishes) and the state it changes. A delivery's answer
 * is applied in the transaction that also records the delivered event in the inbox, so the three commit
 * together or not at all; `POST /v1/events` applies its batch in a transaction of its own.
 *
 * The envelope is the sidecar's: `source` is `/shoal/<service>`, `time` now, `id` a UUIDv7 unless the
 * micrologic chose one, the Kafka key the `subject`; an event emitted in answer to a delivered one carries its
 * correlation id and has it as its cause (createEvent of @shoal/contract).
 */
import { createEvent, type CloudEvent, type ShoalEventType } from '@shoal/contract';
import { afterValue, type MaybePromise, type Transaction } from '@shoal/store';
import type { DeliveryAnswer } from './answer.js';
import type { EventRequest } from './event-request.js';
import { inOrder } from './in-order.js';
import type { StateTable } from './state-table.js';

export interface EffectsContext {
  source: string;
  state: StateTable;
  now: () => Date;
}

/** The event `request` asks for, caused by `cause` when it answers a delivered event. */
export function eventOf(request: EventRequest, context: EffectsContext, cause?: Pick<CloudEvent<unknown>, 'id' | 'correlationid'>): CloudEvent<unknown> {
  const causedBy = cause ?? (request.causationid === undefined ? undefined : { id: request.causationid, correlationid: request.correlationid ?? request.causationid });
  const event = createEvent(request.type as ShoalEventType, request.data as never, {
    source: context.source,
    subject: request.subject,
    now: context.now,
    ...(request.id === undefined ? {} : { id: request.id }),
    ...(causedBy === undefined ? {} : { causedBy }),
    ...(request.traceparent === undefined ? {} : { traceparent: request.traceparent }),
  }) as CloudEvent<unknown>;
  // A flow's first event without a cause but with a correlation id the micrologic carries on.
  return causedBy === undefined && request.correlationid !== undefined ? { ...event, correlationid: request.correlationid } : event;
}

/**
 * Writes `answer` in `tx`: its state changes, then its events. Throws (rolling the transaction back) on an
 * ETag conflict. Synchronous on SQLite; a promise on PostgreSQL.
 */
export function applyAnswer(tx: Transaction<unknown>, answer: DeliveryAnswer, context: EffectsContext, cause?: CloudEvent<unknown>): MaybePromise<void> {
  const changed = inOrder(answer.state, (change) =>
    change.value === undefined ? context.state.delete(tx.sql, change.key, change.expected) : context.state.put(tx.sql, change.key, change.value, change.expected),
  );
  return afterValue(changed, () => {
    for (const request of answer.events) tx.emitUntyped(eventOf(request, context, cause));
  });
}
