/**
 * When the command handler stores a snapshot of an aggregate's state, and which snapshots it trusts.
 *
 * A snapshot is written in the transaction of the append that crosses a multiple of `everyNEvents` (so it
 * can never describe events that were rolled back), and replaces the stream's previous one. Reading starts
 * from it and folds only the events after it. `version` is the schema of the state: a snapshot taken with
 * another version is ignored (the stream is folded from its first event) and replaced at the next threshold,
 * so changing the state's shape or `evolve` needs nothing but a new version number.
 *
 * States are stored as JSON: they must be plain data (objects, arrays, strings, numbers, booleans, null),
 * which is also what keeps them comparable in decider specifications.
 */
import { ShoalError } from '@shoal/core';

export interface SnapshotPolicy {
  /** Snapshot each time a stream's version crosses a multiple of this many events. At least 1. */
  everyNEvents: number;
  /** The schema of the state. Snapshots taken with another version are ignored. */
  version: number;
}

export function checkSnapshotPolicy(policy: SnapshotPolicy): void {
  if (!Number.isSafeInteger(policy.everyNEvents) || policy.everyNEvents < 1 || !Number.isSafeInteger(policy.version)) {
    throw new ShoalError('SHOAL_CONFIG_INVALID', `Snapshot policy ${JSON.stringify(policy)}: everyNEvents must be an integer >= 1 and version an integer`, {
      details: { ...policy },
    });
  }
}

/** Whether appending took a stream from `fromVersion` to `toVersion` across a snapshot threshold. */
export function crossesSnapshotThreshold(policy: SnapshotPolicy, fromVersion: number, toVersion: number): boolean {
  return Math.floor(toVersion / policy.everyNEvents) > Math.floor(fromVersion / policy.everyNEvents);
}
