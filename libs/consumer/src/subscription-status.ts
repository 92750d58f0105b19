/**
 * What a subscription has done and where it stands, as plain numbers: the service host turns them into
 * Prometheus metrics (counters, a gauge of lag per partition, a summary of handler latency) and its health
 * endpoint reads the flags. Counters only grow for the life of the subscription.
 *
 * Lag of a partition = its high watermark when the last batch was fetched minus the next offset to
 * process: records the group has still to go through on that partition, as far as this member knows.
 * Partitions are listed from the moment they are assigned; their offsets and lag are null until their first
 * batch (kafkajs hands no batch over for a partition with nothing to read).
 */
import type { ShoalErrorCode } from '@shoal/core';

export type SubscriptionState = 'new' | 'starting' | 'running' | 'stopping' | 'stopped';

export interface PartitionStatus {
  topic: string;
  partition: number;
  /** The partition's log end offset when the last batch was fetched; null before the first batch. */
  highWatermark: string | null;
  /** The offset of the next record to process (the last processed one + 1); null before the first batch. */
  nextOffset: string | null;
  /** null before the first batch. */
  lag: number | null;
}

/** Handler calls, failed ones included; enough for a Prometheus summary (count, sum) and a maximum. */
export interface LatencySummary {
  count: number;
  sumMs: number;
  maxMs: number;
}

export interface LastFailure {
  code: ShoalErrorCode;
  message: string;
  topic: string;
  partition: number;
  offset: string;
  /** ms since the epoch. */
  at: number;
}

export interface SubscriptionStatus {
  group: string;
  dlqTopic: string;
  state: SubscriptionState;
  /** The consumer is connected to the cluster. */
  connected: boolean;
  /** The member is in the group with an assignment (false while rebalancing). */
  joined: boolean;
  /** Records whose handler committed. */
  handled: number;
  /** Records whose event id the inbox already held: acknowledged without running the handler. */
  duplicates: number;
  /** Records of types without a handler. */
  skipped: number;
  skippedByType: Record<string, number>;
  /** Records published to the dead-letter topic. */
  deadLettered: number;
  /** Retries after retriable failures (each one counts). */
  retries: number;
  /** Retries while the registry or the database was down (each one counts). */
  outageRetries: number;
  /** The partitions assigned to this member. */
  partitions: PartitionStatus[];
  handlerLatency: LatencySummary;
  lastFailure: LastFailure | null;
}

interface Position {
  topic: string;
  partition: number;
  /** Both undefined until the first batch of the partition arrives. */
  highWatermark: bigint | undefined;
  next: bigint | undefined;
}

/** Per-run outcome counts, added to the totals once the run's transaction committed. */
export interface RunTally {
  handled: number;
  duplicates: number;
  skipped: number;
  skippedByType: Map<string, number> | undefined;
}

export function emptyTally(): RunTally {
  return { handled: 0, duplicates: 0, skipped: 0, skippedByType: undefined };
}

export class SubscriptionMetrics {
  connected = false;
  joined = false;
  private handled = 0;
  private duplicates = 0;
  private skipped = 0;
  private readonly skippedByType = new Map<string, number>();
  private deadLettered = 0;
  private retries = 0;
  private outageRetries = 0;
  private latencyCount = 0;
  private latencySum = 0;
  private latencyMax = 0;
  private lastFailure: LastFailure | null = null;
  private positions = new Map<string, Position>();

  /** The member's assignment after a join: positions of partitions it no longer holds are dropped. */
  assigned(assignment: Readonly<Record<string, readonly number[]>>): void {
    const kept = new Map<string, Position>();
    for (const [topic, partitions] of Object.entries(assignment)) {
      for (const partition of partitions) {
        const slot = slotOf(topic, partition);
        kept.set(slot, this.positions.get(slot) ?? { topic, partition, highWatermark: undefined, next: undefined });
      }
    }
    this.positions = kept;
  }

  fetched(topic: string, partition: number, highWatermark: string, firstOffset: string | undefined): void {
    const slot = slotOf(topic, partition);
    const position = this.positions.get(slot);
    const watermark = BigInt(highWatermark);
    const first = firstOffset === undefined ? watermark : BigInt(firstOffset);
    if (position === undefined) this.positions.set(slot, { topic, partition, highWatermark: watermark, next: first });
    else {
      position.highWatermark = watermark;
      // A batch starting further on (after a seek, or records compacted away) moves the position with it.
      if (position.next === undefined || first > position.next) position.next = first;
    }
  }

  advanced(topic: string, partition: number, lastOffset: string): void {
    const position = this.positions.get(slotOf(topic, partition));
    if (position !== undefined) position.next = BigInt(lastOffset) + 1n;
  }

  committed(tally: RunTally): void {
    this.handled += tally.handled;
    this.duplicates += tally.duplicates;
    this.skipped += tally.skipped;
    if (tally.skippedByType !== undefined) {
      for (const [type, count] of tally.skippedByType) this.skippedByType.set(type, (this.skippedByType.get(type) ?? 0) + count);
    }
  }

  handlerCalled(ms: number): void {
    this.latencyCount += 1;
    this.latencySum += ms;
    if (ms > this.latencyMax) this.latencyMax = ms;
  }

  failed(failure: LastFailure): void {
    this.lastFailure = failure;
  }

  retried(outage: boolean): void {
    if (outage) this.outageRetries += 1;
    else this.retries += 1;
  }

  deadLetterPublished(): void {
    this.deadLettered += 1;
  }

  snapshot(identity: { group: string; dlqTopic: string; state: SubscriptionState }): SubscriptionStatus {
    const partitions = [...this.positions.values()]
      .sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1))
      .map((position) => ({
        topic: position.topic,
        partition: position.partition,
        highWatermark: position.highWatermark?.toString() ?? null,
        nextOffset: position.next?.toString() ?? null,
        lag: lagOf(position),
      }));
    return {
      ...identity,
      connected: this.connected,
      joined: this.joined,
      handled: this.handled,
      duplicates: this.duplicates,
      skipped: this.skipped,
      skippedByType: Object.fromEntries(this.skippedByType),
      deadLettered: this.deadLettered,
      retries: this.retries,
      outageRetries: this.outageRetries,
      partitions,
      handlerLatency: { count: this.latencyCount, sumMs: this.latencySum, maxMs: this.latencyMax },
      lastFailure: this.lastFailure === null ? null : { ...this.lastFailure },
    };
  }
}

function lagOf({ highWatermark, next }: Position): number | null {
  if (highWatermark === undefined || next === undefined) return null;
  return highWatermark > next ? Number(highWatermark - next) : 0;
}

function slotOf(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
