/** Seen events for the console's tests: a flow of events built by cause, with times a given number of ms apart. */
import type { SeenEvent } from '../event-index.js';

let offset = 0;

/** A seen event of `service` with the attributes given; ids, offsets and times default to unique values. */
export function seenEvent(service: string, type: string, fields: Partial<SeenEvent> = {}): SeenEvent {
  offset += 1;
  return {
    id: `event-${offset}`,
    type,
    source: `/shoal/${service}`,
    service,
    time: undefined,
    at: Date.UTC(2026, 0, 1) + offset,
    subject: undefined,
    key: undefined,
    correlationId: undefined,
    causationId: undefined,
    topic: `${service}.topic`,
    partition: 0,
    offset: String(offset),
    contentType: 'application/avro',
    value: null,
    ...fields,
  };
}

/** `event` as the reaction of `service` to `cause`: same correlation and order, caused by it, `afterMs` later. */
export function reactionTo(cause: SeenEvent, service: string, type: string, afterMs: number, fields: Partial<SeenEvent> = {}): SeenEvent {
  return seenEvent(service, type, {
    correlationId: cause.correlationId ?? cause.id,
    causationId: cause.id,
    subject: cause.subject,
    key: cause.key,
    at: cause.at + afterMs,
    ...fields,
  });
}
