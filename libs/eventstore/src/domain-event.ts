/**
 * What a decider works with: the type and data of a Shoal event, without its envelope. `decide` stays pure
 * (no ids, no clock, no knowledge of which event caused the command) and a decider specification compares
 * decisions with plain literals; the command handler puts each decided event in its envelope (id, time,
 * source, subject, correlation and causation) just before appending it.
 *
 * A stored ShoalEvent is also a DomainEvent, so `evolve` folds the stored history and the new decisions alike.
 */
import { createEvent, type CreateEventOptions, type ShoalEvent, type ShoalEventDataMap, type ShoalEventType } from '@shoal/contract';

/** One of the event types T with its data; a union over T that ties each type to its own data. */
export type DomainEvent<T extends ShoalEventType = ShoalEventType> = {
  [K in T]: { readonly type: K; readonly data: ShoalEventDataMap[K] };
}[T];

/** The ShoalEvent of a decided event. */
export function envelope<E extends DomainEvent>(event: E, options: CreateEventOptions): ShoalEvent<E['type']> {
  // TypeScript does not see that E['data'] is the data of E['type'] once E is generic.
  return createEvent<E['type']>(event.type, event.data as ShoalEventDataMap[E['type']], options);
}
