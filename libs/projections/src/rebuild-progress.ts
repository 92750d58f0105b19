/**
 * Progress of one rebuild, as the admin route and `shoal replay` show it. A rebuild is done when every
 * partition's position in the shadow has reached the end offset captured when it started; events that
 * arrive later are applied too (the shadow keeps consuming), but they do not move the finish line, or a busy
 * topic would never let a rebuild end.
 *
 * Counts are events (records, i.e. offsets) between the start and end offsets, whether they were applied,
 * skipped (no handler) or poison: that is what a partition has left to read. Rates are averages since the
 * rebuild started; an ETA is the remaining events at that rate (null until a rate is known).
 */
import type { PartitionMap } from './partition-map.js';
import type { BuildFrom } from './read-model.js';

export type RebuildState = 'building' | 'swapped' | 'failed' | 'cancelled';

/** Why a rebuild runs: asked for (admin route, `shoal replay`), or the projection's version changed. */
export type RebuildReason = 'requested' | 'version-change';

export interface RebuildPartitionProgress {
  topic: string;
  partition: number;
  /** First offset the rebuild applies. */
  start: number;
  /** High watermark when the rebuild started: the rebuild is done with the partition once it reaches it. */
  end: number;
  /** The shadow's position (the next offset it applies); past `end` once newer events are applied. */
  position: number;
  /** Events (records) read of the `total` between start and end. */
  done: number;
  total: number;
  eventsPerSecond: number;
  /** Seconds left at the current rate; 0 once done, null while no rate is known. */
  etaSeconds: number | null;
  caughtUp: boolean;
}

export interface RebuildProgress {
  projection: string;
  /** The version being built. */
  version: number;
  /** The generation of the shadow file; identifies the rebuild. */
  generation: number;
  reason: RebuildReason;
  /** 'beginning', or the time (ms since the epoch) whose first offsets it starts at. */
  from: 'beginning' | { timestamp: number };
  state: RebuildState;
  startedAt: string;
  finishedAt: string | null;
  elapsedMs: number;
  done: number;
  total: number;
  eventsPerSecond: number;
  etaSeconds: number | null;
  partitions: RebuildPartitionProgress[];
  /** Why it failed. */
  error: { code: string; message: string } | null;
}

export interface RebuildPlan {
  projection: string;
  version: number;
  generation: number;
  reason: RebuildReason;
  from: BuildFrom;
  start: PartitionMap<number>;
  end: PartitionMap<number>;
  startedAt: number;
}

export class RebuildTracker {
  readonly plan: RebuildPlan;
  private final: RebuildProgress | undefined;

  constructor(plan: RebuildPlan) {
    this.plan = plan;
  }

  get finished(): boolean {
    return this.final !== undefined;
  }

  /** Whether every partition has reached its end offset, given the shadow's positions. */
  caughtUp(positionOf: (topic: string, partition: number) => number | undefined): boolean {
    return this.plan.end.list().every(({ topic, partition, value }) => (positionOf(topic, partition) ?? this.startOf(topic, partition)) >= value);
  }

  /** The progress now (or, once finished, as it finished). */
  progress(positionOf: (topic: string, partition: number) => number | undefined, now: number): RebuildProgress {
    return this.final ?? this.measure(positionOf, now, 'building', null);
  }

  /** Freezes the progress in its final state. */
  finish(state: Exclude<RebuildState, 'building'>, positionOf: (topic: string, partition: number) => number | undefined, now: number, error?: unknown): RebuildProgress {
    this.final ??= this.measure(positionOf, now, state, error === undefined ? null : errorSummary(error));
    return this.final;
  }

  private startOf(topic: string, partition: number): number {
    return this.plan.start.get(topic, partition) ?? 0;
  }

  private measure(positionOf: (topic: string, partition: number) => number | undefined, now: number, state: RebuildState, error: RebuildProgress['error']): RebuildProgress {
    const elapsedMs = Math.max(0, now - this.plan.startedAt);
    const seconds = elapsedMs / 1000;
    const partitions = this.plan.end.list().map(({ topic, partition, value: end }): RebuildPartitionProgress => {
      const start = Math.min(this.startOf(topic, partition), end);
      const position = positionOf(topic, partition) ?? start;
      const total = end - start;
      const done = Math.max(0, Math.min(position, end) - start);
      const eventsPerSecond = seconds > 0 ? done / seconds : 0;
      const caughtUp = position >= end;
      return { topic, partition, start, end, position, done, total, eventsPerSecond: round(eventsPerSecond), etaSeconds: eta(total - done, eventsPerSecond, caughtUp), caughtUp };
    });
    const done = partitions.reduce((sum, p) => sum + p.done, 0);
    const total = partitions.reduce((sum, p) => sum + p.total, 0);
    const eventsPerSecond = seconds > 0 ? done / seconds : 0;
    return {
      projection: this.plan.projection,
      version: this.plan.version,
      generation: this.plan.generation,
      reason: this.plan.reason,
      from: this.plan.from,
      state,
      startedAt: new Date(this.plan.startedAt).toISOString(),
      finishedAt: state === 'building' ? null : new Date(now).toISOString(),
      elapsedMs,
      done,
      total,
      eventsPerSecond: round(eventsPerSecond),
      etaSeconds: eta(total - done, eventsPerSecond, partitions.every((p) => p.caughtUp)),
      partitions,
      error,
    };
  }
}

function eta(remaining: number, rate: number, caughtUp: boolean): number | null {
  if (caughtUp || remaining <= 0) return 0;
  return rate > 0 ? Math.ceil(remaining / rate) : null;
}

function round(rate: number): number {
  return Math.round(rate * 10) / 10;
}

function errorSummary(error: unknown): { code: string; message: string } {
  const code = (error as { code?: unknown } | null)?.code;
  return { code: typeof code === 'string' ? code : 'SHOAL_HANDLER_FAILED', message: error instanceof Error ? error.message : String(error) };
}
