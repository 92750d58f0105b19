import { describe, expect, it } from 'vitest';
import { PartitionStates } from './consumer-status.js';

const identity = { groupId: 'inventory', state: 'running' as const, connected: true, joined: true };

describe('PartitionStates', () => {
  it('lists assigned partitions, with a lag once the next offset and the high watermark are known', () => {
    const states = new PartitionStates();
    states.assigned({ 'orders.order': [2, 0], 'payments.payment': [1] });
    const fetched = states.get('orders.order', 2);
    fetched.highWatermark = 120;
    fetched.next = 100;
    expect(states.status(identity).partitions).toEqual([
      { topic: 'orders.order', partition: 0, highWatermark: null, nextOffset: null, lag: null },
      { topic: 'orders.order', partition: 2, highWatermark: 120, nextOffset: 100, lag: 20 },
      { topic: 'payments.payment', partition: 1, highWatermark: null, nextOffset: null, lag: null },
    ]);
    fetched.next = 110;
    expect(states.status(identity).partitions[1]).toMatchObject({ nextOffset: 110, lag: 10 });
    fetched.highWatermark = 130;
    fetched.next = 130;
    expect(states.status(identity).partitions[1]).toMatchObject({ highWatermark: 130, nextOffset: 130, lag: 0 });
    // Positions kept elsewhere (a read model) say where each partition is.
    expect(states.status(identity, (state) => (state.partition === 0 ? 7 : undefined)).partitions[0]).toMatchObject({ nextOffset: 7, lag: null });
  });

  it('keeps the positions of partitions still assigned after a rebalance, drops the others and ends their waits', () => {
    const states = new PartitionStates();
    states.assigned({ 'orders.order': [0, 1] });
    for (const partition of [0, 1]) Object.assign(states.get('orders.order', partition), { highWatermark: 10, next: 4 });
    const resumed: number[] = [];
    const timer = setTimeout(() => undefined, 60_000);
    states.get('orders.order', 0).waiting = { offset: 4, tries: { attempt: 2, outages: 0 }, giveUp: undefined, timer, resume: () => void resumed.push(0) };
    states.assigned({ 'orders.order': [1, 2] });
    expect(states.status(identity).partitions.map((p) => [p.partition, p.lag])).toEqual([
      [1, 6],
      [2, null],
    ]);
    // The partition that went to another member is fetched by it: the pause this member left must not stay.
    expect(resumed).toEqual([0]);
  });

  it('adds up skips by type, retries and outage retries', () => {
    const states = new PartitionStates();
    states.skip(new Map([['shoal.orders.OrderShipped', 2]]));
    states.skip(new Map([['shoal.orders.OrderShipped', 1], ['tools.Ping', 1]]));
    states.retries += 1;
    states.outageRetries += 2;
    expect(states.status(identity)).toMatchObject({
      ...identity,
      skipped: 4,
      skippedByType: { 'shoal.orders.OrderShipped': 3, 'tools.Ping': 1 },
      retries: 1,
      outageRetries: 2,
      lastFailure: null,
    });
  });
});
