import { describe, expect, it } from 'vitest';
import { EventIndex } from './event-index.js';
import { findFlow, flowLines } from './flow-tree.js';
import { reactionTo, seenEvent } from './testing/index.js';

/** One order's flow as the six services make it, added in an order other than its causes'. */
function orderFlow(orderId: string) {
  const placed = seenEvent('orders', 'shoal.orders.OrderPlaced', { subject: orderId, key: orderId });
  const reserved = reactionTo(placed, 'inventory', 'shoal.inventory.StockReserved', 200);
  const placedNotice = reactionTo(placed, 'notifications', 'shoal.notifications.CustomerNotified', 150, { subject: undefined, key: 'customer-1' });
  const authorized = reactionTo(reserved, 'payments', 'shoal.payments.PaymentAuthorized', 240);
  const confirmed = reactionTo(authorized, 'orders', 'shoal.orders.OrderConfirmed', 210);
  const scheduled = reactionTo(confirmed, 'shipping', 'shoal.shipping.ShipmentScheduled', 90);
  return { placed, reserved, placedNotice, authorized, confirmed, scheduled, all: [confirmed, placedNotice, scheduled, placed, authorized, reserved] };
}

describe('findFlow', () => {
  it('arranges an order’s events under their causes, with each hop’s latency, whichever id is asked', () => {
    const index = new EventIndex();
    const flow = orderFlow('order-1');
    for (const event of flow.all) index.add(event);
    for (const event of orderFlow('order-2').all) index.add(event);

    for (const [query, match] of [
      ['order-1', 'order'],
      [flow.placed.id, 'event'],
      [flow.scheduled.id, 'event'],
    ] as const) {
      const found = findFlow(index, query)!;
      expect(found.match).toBe(match);
      expect(found.events).toBe(6);
      expect(found.correlationIds).toEqual([flow.placed.id]);
      expect(flowLines(found).map(({ depth, node }) => [depth, node.event.service, node.event.type, node.hopMs])).toEqual([
        [0, 'orders', 'shoal.orders.OrderPlaced', undefined],
        [1, 'notifications', 'shoal.notifications.CustomerNotified', 150],
        [1, 'inventory', 'shoal.inventory.StockReserved', 200],
        [2, 'payments', 'shoal.payments.PaymentAuthorized', 240],
        [3, 'orders', 'shoal.orders.OrderConfirmed', 210],
        [4, 'shipping', 'shoal.shipping.ShipmentScheduled', 90],
      ]);
      expect(found.spanMs).toBe(740);
      expect(found.services).toEqual(['orders', 'notifications', 'inventory', 'payments', 'shipping']);
    }
    // The correlation id is the first event's id: asked as such, it matches the event first.
    expect(findFlow(index, flow.placed.correlationId ?? flow.placed.id)?.match).toBe('event');
  });

  it('makes an event whose cause is gone a root of its own', () => {
    const index = new EventIndex();
    const flow = orderFlow('order-3');
    for (const event of flow.all.filter((event) => event !== flow.reserved)) index.add(event);
    const found = findFlow(index, 'order-3')!;
    expect(found.roots.map((root) => root.event.type)).toEqual(['shoal.orders.OrderPlaced', 'shoal.payments.PaymentAuthorized']);
    expect(found.roots[1]!.hopMs).toBeUndefined();
  });

  it('finds a flow by a correlation id that is no event’s id, and nothing for an unknown id', () => {
    const index = new EventIndex();
    const first = seenEvent('orders', 'shoal.orders.OrderPlaced', { correlationId: 'request-7', subject: 'order-4' });
    index.add(first);
    index.add(reactionTo(first, 'inventory', 'shoal.inventory.StockReserved', 10));
    expect(findFlow(index, 'request-7')).toMatchObject({ match: 'correlation', events: 2 });
    expect(findFlow(index, 'no-such-id')).toBeUndefined();
  });
});
