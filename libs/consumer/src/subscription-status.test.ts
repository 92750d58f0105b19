import { describe, expect, it } from 'vitest';
import { emptyTally, SubscriptionMetrics } from './subscription-status.js';

const identity = { group: 'inventory', dlqTopic: 'inventory.dlq', state: 'running' as const };

describe('SubscriptionMetrics', () => {
  it('lists assigned partitions, with a lag once a batch was fetched', () => {
    const metrics = new SubscriptionMetrics();
    metrics.assigned({ 'orders.order': [2, 0], 'payments.payment': [1] });
    metrics.fetched('orders.order', 2, '120', '100');
    expect(metrics.snapshot(identity).partitions).toEqual([
      { topic: 'orders.order', partition: 0, highWatermark: null, nextOffset: null, lag: null },
      { topic: 'orders.order', partition: 2, highWatermark: '120', nextOffset: '100', lag: 20 },
      { topic: 'payments.payment', partition: 1, highWatermark: null, nextOffset: null, lag: null },
    ]);
    metrics.advanced('orders.order', 2, '109');
    expect(metrics.snapshot(identity).partitions[1]).toMatchObject({ nextOffset: '110', lag: 10 });
    metrics.fetched('orders.order', 2, '130', '110');
    metrics.advanced('orders.order', 2, '129');
    expect(metrics.snapshot(identity).partitions[1]).toMatchObject({ highWatermark: '130', nextOffset: '130', lag: 0 });
  });

  it('keeps the positions of partitions still assigned after a rebalance and drops the others', () => {
    const metrics = new SubscriptionMetrics();
    metrics.assigned({ 'orders.order': [0, 1] });
    metrics.fetched('orders.order', 0, '10', '4');
    metrics.fetched('orders.order', 1, '10', '4');
    metrics.assigned({ 'orders.order': [1, 2] });
    expect(metrics.snapshot(identity).partitions.map((p) => [p.partition, p.lag])).toEqual([
      [1, 6],
      [2, null],
    ]);
  });

  it('adds committed tallies, retries, dead letters and handler latency', () => {
    const metrics = new SubscriptionMetrics();
    const tally = emptyTally();
    tally.handled = 3;
    tally.duplicates = 1;
    tally.skipped = 2;
    tally.skippedByType = new Map([['shoal.orders.OrderShipped', 2]]);
    metrics.committed(tally);
    metrics.committed({ ...emptyTally(), skipped: 1, skippedByType: new Map([['shoal.orders.OrderShipped', 1]]) });
    metrics.retried(false);
    metrics.retried(true);
    metrics.retried(true);
    metrics.deadLetterPublished();
    metrics.handlerCalled(2);
    metrics.handlerCalled(5);
    expect(metrics.snapshot(identity)).toMatchObject({
      ...identity,
      handled: 3,
      duplicates: 1,
      skipped: 3,
      skippedByType: { 'shoal.orders.OrderShipped': 3 },
      retries: 1,
      outageRetries: 2,
      deadLettered: 1,
      handlerLatency: { count: 2, sumMs: 7, maxMs: 5 },
      lastFailure: null,
    });
  });
});
