/**
 * What a subscription has done and where it stands, as plain numbers: the service host turns them into
 * Prometheus metrics (counters, a gauge of lag per partition, a summary of handler latency) and its health
 * endpoint reads the flags. Where the member is in each partition, skips, retries and the last failure are
 * its consumer loop's (@shoal/transport's ConsumerStatus); handled, duplicates, dead letters, parked records
 * and handler latency are the runtime's own. Counters only grow for the life of the subscription; `parking`
 * is what the database holds back now.
 */
import type { ConsumerState, LastFailure, PartitionStatus } from '@shoal/transport';
import type { ParkedCounts } from './parked-records.js';

/** Handler calls, failed ones included; enough for a Prometheus summary (count, sum) and a maximum. */
export interface LatencySummary {
  count: number;
  sumMs: number;
  maxMs: number;
}

export interface SubscriptionStatus {
  group: string;
  dlqTopic: string;
  state: ConsumerState;
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
  /** Records parked behind a dead letter of their key since the subscription started. */
  parked: number;
  /** What the group holds back now, in the database: keys with a dead letter, and the records parked behind them. */
  parking: ParkedCounts;
  /** Retries after retriable failures (each one counts). */
  retries: number;
  /** Retries while the registry or the database was down (each one counts). */
  outageRetries: number;
  /** The partitions assigned to this member. */
  partitions: PartitionStatus[];
  handlerLatency: LatencySummary;
  lastFailure: LastFailure | null;
}

/** The runtime's own counters. */
export class RuntimeCounters {
  handled = 0;
  duplicates = 0;
  deadLettered = 0;
  parked = 0;
  parking: ParkedCounts = { deadLetters: 0, parked: 0 };
  private latencyCount = 0;
  private latencySum = 0;
  private latencyMax = 0;

  /** Once a run's transaction committed. */
  committed(handled: number, duplicates: number): void {
    this.handled += handled;
    this.duplicates += duplicates;
  }

  handlerCalled(ms: number): void {
    this.latencyCount += 1;
    this.latencySum += ms;
    if (ms > this.latencyMax) this.latencyMax = ms;
  }

  latency(): LatencySummary {
    return { count: this.latencyCount, sumMs: this.latencySum, maxMs: this.latencyMax };
  }
}
