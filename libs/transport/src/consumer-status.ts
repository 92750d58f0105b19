/**
 * Where a consumer loop stands, as plain values: the consumer runtime and the projector report it in their
 * own status (the service host turns it into Prometheus metrics and readiness), `shoal subscribe` in its
 * stats. Counters only grow for the life of the loop.
 *
 * Lag of a partition = its high watermark when the last batch was fetched minus the next offset to process:
 * records the group has still to go through on that partition, as far as this member knows. Partitions are
 * listed from the moment they are assigned; their offsets and lag are null until their first batch (kafkajs
 * hands no batch over for a partition with nothing to read) unless the loop's positions are kept elsewhere
 * (a read model), which know the next offset from the start.
 */
import type { ShoalErrorCode } from '@shoal/core';
import type { FailedRecord } from './record-failure.js';

export type ConsumerState = 'new' | 'starting' | 'running' | 'stopping' | 'stopped';

/** Where a consumer is in one partition. Offsets are numbers: exact up to 2^53, far past any partition's. */
export interface PartitionStatus {
  topic: string;
  partition: number;
  /** The offset of the next record to process (the last processed one + 1); null while unknown. */
  nextOffset: number | null;
  /** The partition's log end offset when the last batch was fetched; null before the first batch. */
  highWatermark: number | null;
  /** highWatermark - nextOffset, never below 0; null while either is unknown. */
  lag: number | null;
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

export interface ConsumerStatus {
  groupId: string;
  state: ConsumerState;
  /** The consumer is connected to the cluster. */
  connected: boolean;
  /** The member is in the group with an assignment (false while rebalancing). */
  joined: boolean;
  /** The partitions assigned to this member, by topic then partition. */
  partitions: PartitionStatus[];
  /** Records of types the handler does not take (only their ce_type header was read). */
  skipped: number;
  skippedByType: Record<string, number>;
  /** Retries after retriable failures (each one counts). */
  retries: number;
  /** Retries while the registry or the database was down (each one counts). */
  outageRetries: number;
  lastFailure: LastFailure | null;
}

/** A record that waits for another try: its offset, how many tries failed in a way that counts, and how long the outage lasts. */
export interface Tries {
  attempt: number;
  outages: number;
}

export const FIRST_TRY: Tries = Object.freeze({ attempt: 1, outages: 0 });

/** One assigned partition as the loop tracks it. */
export interface PartitionState {
  readonly topic: string;
  readonly partition: number;
  highWatermark: number | undefined;
  /** The next offset to process; undefined until known. */
  next: number | undefined;
  /** The next offset as last committed to the group by this member; undefined when nothing was. */
  committed: number | undefined;
  /** The record the partition waits to try again while it is paused. */
  waiting: Waiting | undefined;
}

/** A paused partition's record to try again: with its tries, or (`giveUp`) to give up on again. */
export interface Waiting {
  offset: number;
  tries: Tries;
  giveUp: PendingGiveUp | undefined;
  timer: NodeJS.Timeout;
  resume: () => void;
}

/** Giving up on a record that the handler could not deal with yet, and which try of it comes next. */
export interface PendingGiveUp {
  record: FailedRecord;
  attempt: number;
}

/** The assigned partitions and the loop's counters. */
export class PartitionStates {
  private states = new Map<string, PartitionState>();
  skipped = 0;
  readonly skippedByType = new Map<string, number>();
  retries = 0;
  outageRetries = 0;
  lastFailure: LastFailure | null = null;

  get(topic: string, partition: number): PartitionState {
    const slot = slotOf(topic, partition);
    let state = this.states.get(slot);
    if (state === undefined) {
      state = { topic, partition, highWatermark: undefined, next: undefined, committed: undefined, waiting: undefined };
      this.states.set(slot, state);
    }
    return state;
  }

  /**
   * The member's assignment after a join: partitions it no longer holds are dropped (their waits ended), so no
   * stale position of theirs is ever committed or seeked to. Returns the states kept or created, in order.
   */
  assigned(assignment: Readonly<Record<string, readonly number[]>>): PartitionState[] {
    const kept = new Map<string, PartitionState>();
    for (const [topic, partitions] of Object.entries(assignment)) {
      for (const partition of partitions) {
        const slot = slotOf(topic, partition);
        kept.set(slot, this.states.get(slot) ?? { topic, partition, highWatermark: undefined, next: undefined, committed: undefined, waiting: undefined });
      }
    }
    for (const [slot, state] of this.states) if (!kept.has(slot)) endWait(state);
    this.states = kept;
    return this.list();
  }

  list(): PartitionState[] {
    return [...this.states.values()].sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
  }

  /** Ends every wait (stop): the timers go, the partitions stay paused for a consumer that is going away. */
  endWaits(): void {
    for (const state of this.states.values()) {
      if (state.waiting !== undefined) clearTimeout(state.waiting.timer);
      state.waiting = undefined;
    }
  }

  skip(counts: ReadonlyMap<string, number>): void {
    for (const [type, count] of counts) {
      this.skipped += count;
      this.skippedByType.set(type, (this.skippedByType.get(type) ?? 0) + count);
    }
  }

  status(identity: Pick<ConsumerStatus, 'groupId' | 'state' | 'connected' | 'joined'>, nextOf?: (state: PartitionState) => number | undefined): ConsumerStatus {
    return {
      ...identity,
      partitions: this.list().map((state) => partitionStatus(state.topic, state.partition, nextOf?.(state) ?? state.next, state.highWatermark)),
      skipped: this.skipped,
      skippedByType: Object.fromEntries(this.skippedByType),
      retries: this.retries,
      outageRetries: this.outageRetries,
      lastFailure: this.lastFailure === null ? null : { ...this.lastFailure },
    };
  }
}

/** A PartitionStatus from what is known of a partition. */
export function partitionStatus(topic: string, partition: number, next: number | undefined, highWatermark: number | undefined): PartitionStatus {
  const known = next !== undefined && highWatermark !== undefined;
  return { topic, partition, nextOffset: next ?? null, highWatermark: highWatermark ?? null, lag: known ? Math.max(0, highWatermark - next) : null };
}

function endWait(state: PartitionState): void {
  if (state.waiting === undefined) return;
  clearTimeout(state.waiting.timer);
  // Whoever holds the partition now fetches it; a pause left behind would keep it from this member if it returned.
  state.waiting.resume();
  state.waiting = undefined;
}

function slotOf(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
