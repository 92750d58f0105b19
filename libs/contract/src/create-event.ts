/**
 * Building a Shoal event: the envelope Shoal's contract asks for (docs/events.md) around typed data.
 *
 *   id             UUIDv7 (time-ordered, so ids sort like the events)
 *   time           now, RFC 3339 in UTC with milliseconds
 *   correlationid  the cause's correlationid (or the cause's id when it has none); the event's own id when it
 *                  has no cause: it starts a business flow
 *   causationid    the cause's id
 *   partitionkey   the aggregate id: `partitionKey`, else `subject`
 */
import { v7 as uuidv7 } from 'uuid';
import { CLOUDEVENTS_SPEC_VERSION, type CloudEventAttributes, type ShoalEvent } from './cloud-event.js';
import type { ShoalEventDataMap, ShoalEventType } from './generated/events.js';

export interface CreateEventOptions {
  /** `/shoal/<service>`. */
  source: string;
  /** The aggregate id. */
  subject: string;
  /** The Kafka key. Default: `subject`. */
  partitionKey?: string;
  /** The event this one reacts to: its correlation id is carried on and it becomes the causation id. */
  causedBy?: Pick<CloudEventAttributes, 'id' | 'correlationid'>;
  traceparent?: string;
  id?: string;
  time?: string | Date;
  /** Clock used when `time` is not given. Default: the system clock. */
  now?: () => Date;
  /** Id generator used when `id` is not given. Default: UUIDv7. */
  newId?: () => string;
}

export function createEvent<T extends ShoalEventType>(type: T, data: ShoalEventDataMap[T], options: CreateEventOptions): ShoalEvent<T> {
  const id = options.id ?? (options.newId ?? uuidv7)();
  const time = options.time ?? (options.now ?? systemNow)();
  const event = {
    specversion: CLOUDEVENTS_SPEC_VERSION,
    id,
    source: options.source,
    type,
    time: typeof time === 'string' ? time : time.toISOString(),
    subject: options.subject,
    partitionkey: options.partitionKey ?? options.subject,
    correlationid: options.causedBy === undefined ? id : (options.causedBy.correlationid ?? options.causedBy.id),
    ...(options.causedBy === undefined ? {} : { causationid: options.causedBy.id }),
    ...(options.traceparent === undefined ? {} : { traceparent: options.traceparent }),
    data,
  };
  // TypeScript cannot see that a generic T picks one member of the ShoalEvent union.
  return event as unknown as ShoalEvent<T>;
}

const systemNow = () => new Date();
