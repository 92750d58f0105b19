/**
 * The outbox table as the relay sees it, in any store. Every adapter keeps the same columns (the ones
 * Debezium's outbox event router reads, plus `sequence`, `topic`, `headers` and `created_at`; the SQLite
 * adapter's sqlite-outbox.ts describes them), and one position: the sequence up to which the broker
 * acknowledged everything, like a consumer's offset rather than a flag per row.
 */
import type { CloudEvent, CloudEventAttributes } from '@shoal/contract';

/** One row as the relay reads it. */
export interface OutboxRow {
  sequence: number;
  id: string;
  aggregatetype: string;
  aggregateid: string;
  type: string;
  payload: string;
  topic: string;
  headers: string;
  created_at: number;
}

/** The columns the relay publishes from. */
export type RelayRow = Pick<OutboxRow, 'sequence' | 'id' | 'aggregateid' | 'topic' | 'headers' | 'payload'>;

/** What waits for the relay. */
export interface OutboxBacklog {
  /** The sequence up to which every row is published (0 before the first acknowledgement). */
  publishedThrough: number;
  /** Rows above it. */
  backlog: number;
  /** `created_at` of the first row above it, undefined when there is none: the relay's lag. */
  oldestUnsentAt: number | undefined;
}

/** Every method is asynchronous: a network database answers with a promise. */
export interface OutboxTable {
  /** Up to `limit` rows above `after`, in sequence order. */
  rowsAfter(after: number, limit: number): Promise<RelayRow[]>;
  publishedThrough(): Promise<number>;
  /**
   * Records that every row up to `sequence` is published; never moves the position backwards. With the
   * `epoch` of a lease, only while that lease still holds: false when it does not (the caller was fenced off).
   */
  advance(sequence: number, now: number, epoch?: number): Promise<boolean>;
  /** The largest sequence in the outbox, 0 when it is empty. */
  lastSequence(): Promise<number>;
  backlog(): Promise<OutboxBacklog>;
  /** Deletes up to `chunk` published rows (at or below the position) written before `writtenBefore`; returns how many. */
  prune(chunk: number, writtenBefore: number): Promise<number>;
  /**
   * Takes or renews the relay's lease for `owner` until `now + ttlMs`, if it is free, expired or already
   * the owner's; the lease's epoch (the fencing token for `advance`) when held, else undefined.
   */
  acquireLease(owner: string, ttlMs: number, now: number): Promise<number | undefined>;
  /** Gives the lease up if `owner` holds it, so another relay takes over at once. */
  releaseLease(owner: string): Promise<void>;
  /** Who holds the lease, undefined when nobody does. */
  lease(): Promise<RelayLease | undefined>;
}

/** The relay's lease as stored. */
export interface RelayLease {
  owner: string;
  /** Incremented whenever the lease changes hands: the token that fences off an earlier holder. */
  epoch: number;
  /** ms since the epoch, when it expires unless renewed. */
  until: number;
}

/** The CloudEvent a row holds, as it was emitted. */
export function eventOfRow(row: Pick<OutboxRow, 'headers' | 'payload'>): CloudEvent<unknown> {
  // The parsed attributes are a fresh object: completing it costs less than copying it (the relay's hot path).
  const event = JSON.parse(row.headers) as CloudEventAttributes & { data: unknown };
  event.data = JSON.parse(row.payload) as unknown;
  return event;
}

/** The aggregate part of a topic, `order` for `orders.order`: Debezium's `aggregatetype`. */
export function aggregateTypeOf(topic: string): string {
  const dot = topic.indexOf('.');
  return dot === -1 ? topic : topic.slice(dot + 1);
}
