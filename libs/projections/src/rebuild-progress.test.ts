import { describe, expect, it } from 'vitest';
import { ShoalError } from '@shoal/core';
import { PartitionMap } from './partition-map.js';
import { RebuildTracker } from './rebuild-progress.js';

const start = PartitionMap.of([
  { topic: 'orders.order', partition: 0, value: 100 },
  { topic: 'orders.order', partition: 1, value: 0 },
  { topic: 'payments.payment', partition: 0, value: 5 },
]);
const end = PartitionMap.of([
  { topic: 'orders.order', partition: 0, value: 1100 },
  { topic: 'orders.order', partition: 1, value: 500 },
  { topic: 'payments.payment', partition: 0, value: 5 },
]);

function tracker() {
  return new RebuildTracker({ projection: 'order-view', version: 2, generation: 4, reason: 'requested', from: 'beginning', start, end, startedAt: 1_000_000 });
}

describe('RebuildTracker', () => {
  it('measures each partition against the offsets captured at the start', () => {
    const positions = PartitionMap.of([
      { topic: 'orders.order', partition: 0, value: 600 },
      { topic: 'orders.order', partition: 1, value: 700 },
    ]);
    const progress = tracker().progress((topic, partition) => positions.get(topic, partition), 1_002_000);
    expect(progress.partitions).toEqual([
      { topic: 'orders.order', partition: 0, start: 100, end: 1100, position: 600, done: 500, total: 1000, eventsPerSecond: 250, etaSeconds: 2, caughtUp: false },
      // Past its end: newer events applied, but the finish line stays where it was.
      { topic: 'orders.order', partition: 1, start: 0, end: 500, position: 700, done: 500, total: 500, eventsPerSecond: 250, etaSeconds: 0, caughtUp: true },
      // Nothing to replay: caught up before it starts.
      { topic: 'payments.payment', partition: 0, start: 5, end: 5, position: 5, done: 0, total: 0, eventsPerSecond: 0, etaSeconds: 0, caughtUp: true },
    ]);
    expect(progress).toMatchObject({ state: 'building', done: 1000, total: 1500, eventsPerSecond: 500, etaSeconds: 1, elapsedMs: 2000, finishedAt: null, error: null });
    expect(progress.startedAt).toBe(new Date(1_000_000).toISOString());
  });

  it('has no ETA before anything is read, and is caught up only when every partition is', () => {
    const rebuild = tracker();
    const nothing = rebuild.progress(() => undefined, 1_000_000);
    expect(nothing.etaSeconds).toBeNull();
    expect(nothing.partitions[0]!.etaSeconds).toBeNull();
    expect(rebuild.caughtUp(() => undefined)).toBe(false);
    expect(rebuild.caughtUp((topic, partition) => end.get(topic, partition))).toBe(true);
    expect(rebuild.caughtUp((topic, partition) => (topic === 'orders.order' && partition === 1 ? 499 : end.get(topic, partition)))).toBe(false);
  });

  it('freezes the progress when it finishes', () => {
    const rebuild = tracker();
    const failed = rebuild.finish('failed', () => 300, 1_001_000, new ShoalError('SHOAL_HANDLER_FAILED', 'boom'));
    expect(failed).toMatchObject({ state: 'failed', error: { code: 'SHOAL_HANDLER_FAILED', message: 'boom' }, finishedAt: new Date(1_001_000).toISOString() });
    expect(rebuild.finished).toBe(true);
    expect(rebuild.progress(() => 1100, 1_009_000)).toBe(failed);
    expect(rebuild.finish('swapped', () => 1100, 1_009_000)).toBe(failed);
  });
});
