/**
 * What the console has seen of the traffic: every event's CloudEvents attributes and where it sits in Kafka,
 * indexed by id, by correlation id, by order id (the event's subject and its Kafka key) and by causation (the
 * events each event caused). The data stays the record's bytes, decoded only when someone looks at a flow
 * (flow-query.ts): decoding everything would cost CPU for events nobody opens.
 *
 * Memory is bounded: at most `maxEvents` events are kept, the oldest seen evicted first (from every index).
 * An evicted event is simply gone from flows and searches; the counts of the map (reaction-map.ts) are kept
 * apart and outlive it. An event seen twice (Kafka's at-least-once delivery, the reader restarting) is kept
 * once.
 */

/** One event as the console keeps it. */
export interface SeenEvent {
  id: string;
  type: string;
  /** `ce_source`, e.g. `/shoal/orders`. */
  source: string;
  /** The emitting service: the last segment of the source. */
  service: string;
  /** `ce_time`, as sent. */
  time: string | undefined;
  /** When the event happened, ms since the epoch: `ce_time`, else the record's Kafka timestamp. */
  at: number;
  subject: string | undefined;
  key: string | undefined;
  correlationId: string | undefined;
  causationId: string | undefined;
  topic: string;
  partition: number;
  /** Kafka offsets are int64: a string. */
  offset: string;
  contentType: string | undefined;
  /** The record's value (Confluent-framed Avro for Shoal's events), null for none. */
  value: Buffer | null;
}

export interface EventIndexOptions {
  /** Events kept at most; the oldest seen are evicted first. */
  maxEvents: number;
}

export const eventIndexDefaults = { maxEvents: 200_000 } satisfies EventIndexOptions;

/** The service of a CloudEvents source: `/shoal/orders` -> `orders`; another source is itself. */
export function serviceOfSource(source: string): string {
  const slash = source.lastIndexOf('/');
  return slash >= 0 && slash < source.length - 1 ? source.slice(slash + 1) : source;
}

type Listener = (event: SeenEvent) => void;

export class EventIndex {
  readonly maxEvents: number;
  private readonly byId = new Map<string, SeenEvent>();
  private readonly byCorrelation = new Map<string, Set<string>>();
  private readonly byOrder = new Map<string, Set<string>>();
  private readonly byCause = new Map<string, Set<string>>();
  /** Ids in the order they were seen, `head` the oldest still kept: a queue without shifting. */
  private arrivals: string[] = [];
  private head = 0;
  private evictedCount = 0;
  private duplicateCount = 0;
  private readonly listeners = new Set<Listener>();

  constructor(options: Partial<EventIndexOptions> = {}) {
    this.maxEvents = options.maxEvents ?? eventIndexDefaults.maxEvents;
    if (!Number.isInteger(this.maxEvents) || this.maxEvents < 1) throw new RangeError(`maxEvents must be a positive integer, got ${this.maxEvents}`);
  }

  /** Called for every new event, once it is indexed (its cause and children are findable). */
  onEvent(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Adds an event; false when its id was already there. */
  add(event: SeenEvent): boolean {
    if (this.byId.has(event.id)) {
      this.duplicateCount += 1;
      return false;
    }
    this.byId.set(event.id, event);
    this.arrivals.push(event.id);
    if (event.correlationId !== undefined) addTo(this.byCorrelation, event.correlationId, event.id);
    if (event.subject !== undefined) addTo(this.byOrder, event.subject, event.id);
    if (event.key !== undefined && event.key !== event.subject) addTo(this.byOrder, event.key, event.id);
    if (event.causationId !== undefined) addTo(this.byCause, event.causationId, event.id);
    while (this.byId.size > this.maxEvents) this.evictOldest();
    for (const listener of this.listeners) listener(event);
    return true;
  }

  get(id: string): SeenEvent | undefined {
    return this.byId.get(id);
  }

  /** The events `id` caused directly. */
  childrenOf(id: string): SeenEvent[] {
    return this.eventsOf(this.byCause.get(id));
  }

  byCorrelationId(correlationId: string): SeenEvent[] {
    return this.eventsOf(this.byCorrelation.get(correlationId));
  }

  /** Events whose subject or Kafka key is `orderId`. */
  byOrderId(orderId: string): SeenEvent[] {
    return this.eventsOf(this.byOrder.get(orderId));
  }

  get size(): number {
    return this.byId.size;
  }

  stats(): { events: number; maxEvents: number; evicted: number; duplicates: number } {
    return { events: this.byId.size, maxEvents: this.maxEvents, evicted: this.evictedCount, duplicates: this.duplicateCount };
  }

  private eventsOf(ids: Set<string> | undefined): SeenEvent[] {
    if (ids === undefined) return [];
    const events: SeenEvent[] = [];
    for (const id of ids) {
      const event = this.byId.get(id);
      if (event !== undefined) events.push(event);
    }
    return events;
  }

  private evictOldest(): void {
    const id = this.arrivals[this.head];
    this.head += 1;
    // Drop the consumed front now and then, so the queue's array stays about maxEvents long.
    if (this.head > 4096 && this.head * 2 > this.arrivals.length) {
      this.arrivals = this.arrivals.slice(this.head);
      this.head = 0;
    }
    if (id === undefined) return;
    const event = this.byId.get(id);
    if (event === undefined) return;
    this.byId.delete(id);
    this.evictedCount += 1;
    if (event.correlationId !== undefined) removeFrom(this.byCorrelation, event.correlationId, id);
    if (event.subject !== undefined) removeFrom(this.byOrder, event.subject, id);
    if (event.key !== undefined) removeFrom(this.byOrder, event.key, id);
    if (event.causationId !== undefined) removeFrom(this.byCause, event.causationId, id);
  }
}

function addTo(map: Map<string, Set<string>>, key: string, id: string): void {
  let ids = map.get(key);
  if (ids === undefined) map.set(key, (ids = new Set()));
  ids.add(id);
}

function removeFrom(map: Map<string, Set<string>>, key: string, id: string): void {
  const ids = map.get(key);
  if (ids === undefined) return;
  ids.delete(id);
  if (ids.size === 0) map.delete(key);
}
