import { describe, expect, it } from 'vitest';
import { EventIndex } from './event-index.js';
import { ReactionMap } from './reaction-map.js';
import { reactionTo, seenEvent } from './testing/index.js';

describe('ReactionMap', () => {
  it('counts each reaction once, whether its cause or itself is seen first, with hop latencies', () => {
    const index = new EventIndex();
    const map = new ReactionMap(index);
    for (let i = 0; i < 10; i += 1) {
      const placed = seenEvent('orders', 'shoal.orders.OrderPlaced', { subject: `o${i}` });
      const reserved = reactionTo(placed, 'inventory', 'shoal.inventory.StockReserved', 100 + i);
      const again = reactionTo(reserved, 'inventory', 'shoal.inventory.StockReleased', 5);
      for (const event of i % 2 === 0 ? [placed, reserved, again] : [again, reserved, placed]) index.add(event);
      index.add(reserved);
    }
    const { services, edges } = map.snapshot(Date.UTC(2026, 0, 1) + 30_000);
    expect(services).toEqual([
      { name: 'inventory', emits: [expect.objectContaining({ type: 'shoal.inventory.StockReleased', count: 10 }), expect.objectContaining({ type: 'shoal.inventory.StockReserved', count: 10 })] },
      { name: 'orders', emits: [expect.objectContaining({ type: 'shoal.orders.OrderPlaced', count: 10 })] },
    ]);
    // A service's reaction to its own event is not an edge of the map.
    expect(edges).toEqual([expect.objectContaining({ from: 'orders', type: 'shoal.orders.OrderPlaced', to: 'inventory', count: 10, p50Ms: 104, maxMs: 109 })]);
    expect(edges[0]!.perSecond).toBeCloseTo(10 / 60);
  });

  it('rates by the events’ own times: a history read at start is no burst', () => {
    const index = new EventIndex();
    const map = new ReactionMap(index);
    const longAgo = Date.UTC(2020, 0, 1);
    const placed = seenEvent('orders', 'shoal.orders.OrderPlaced', { at: longAgo });
    index.add(placed);
    index.add(reactionTo(placed, 'inventory', 'shoal.inventory.StockReserved', 50));
    const { services, edges } = map.snapshot(Date.UTC(2026, 0, 1));
    expect(edges[0]).toMatchObject({ count: 1, perSecond: 0 });
    expect(services.find((service) => service.name === 'orders')!.emits[0]).toMatchObject({ count: 1, perSecond: 0 });
  });
});
