/**
 * Committing a group's offsets once per interval instead of after every batch.
 *
 * kafkajs with autoCommit commits the resolved offsets after every batch, whatever autoCommitInterval says:
 * under a choreography's traffic (a few records per batch, several consumers per event) that was a third of
 * all broker requests, each an OffsetCommit round trip in the consumer and a write transaction in the broker.
 * Redelivery is safe without them: a subscription's inbox turns a redelivered event into a no-op, and a
 * projector keeps its positions in its read model and commits nothing. So the loop runs kafkajs with
 * autoCommit off, resolves offsets as records are done (kafkajs fetches on from them), and commits:
 *
 *   - `intervalMs` after the first offset that moved since the last commit (one commit for everything the
 *     member processed in between, every partition at once; nothing at all while the member is idle);
 *   - when the group starts to rebalance, before the member rejoins (commits are accepted until the group
 *     completes its rebalance, and the partitions' next owner starts from them);
 *   - when the loop stops, after the batches in flight ended and before the member leaves the group.
 *
 * What a crash redelivers is therefore what the member processed since its last commit: at most about
 * `intervalMs` of records per partition.
 */
import type { Consumer } from 'kafkajs';
import type { ShoalLogger } from '@shoal/core';
import type { PartitionState, PartitionStates } from './consumer-status.js';

export class OffsetCommitter {
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly consumer: Consumer,
    private readonly states: PartitionStates,
    private readonly intervalMs: number,
    private readonly logger: ShoalLogger,
    /** Whether the member is in the group now: kafkajs drops a commit silently while its runner is not running. */
    private readonly inGroup: () => boolean,
  ) {}

  /** A partition's next offset moved: commit it within the interval. */
  moved(): void {
    if (this.timer !== undefined || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.commit();
    }, this.intervalMs);
    this.timer.unref();
  }

  /** Commits every offset that moved since the last commit, after the commit in flight; never rejects. */
  async commit(): Promise<void> {
    while (this.inFlight !== undefined) await this.inFlight;
    if (!this.inGroup()) return;
    const pending: Array<{ state: PartitionState; next: number }> = [];
    for (const state of this.states.list()) {
      // Never backwards: after a rebalance the group may hand over records this member had already passed.
      if (state.next !== undefined && state.next > (state.committed ?? -1)) pending.push({ state, next: state.next });
    }
    if (pending.length === 0) return;
    this.inFlight = this.consumer
      .commitOffsets(pending.map(({ state, next }) => ({ topic: state.topic, partition: state.partition, offset: String(next) })))
      .then(
        () => {
          for (const { state, next } of pending) state.committed = next;
        },
        (error: unknown) => {
          // A rebalance in between is the usual cause; the next commit (or the next owner's) covers it.
          this.logger.warn({ err: error, partitions: pending.length }, `offsets not committed, retried later: ${(error as Error).message}`);
          if (!this.stopped) this.moved();
        },
      )
      .finally(() => {
        this.inFlight = undefined;
      });
    await this.inFlight;
  }

  /** The last commit (of a stopping loop): no timer from here on. */
  async close(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.commit();
  }
}
