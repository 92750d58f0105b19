import { describe, expect, it } from 'vitest';
import { EventIndex } from './event-index.js';
import { reactionTo, seenEvent } from './testing/index.js';

describe('EventIndex', () => {
  it('finds events by id, correlation id, order id (subject and key) and cause', () => {
    const index = new EventIndex();
    const placed = seenEvent('orders', 'shoal.orders.OrderPlaced', { id: 'p', correlationId: 'p', subject: 'order-1', key: 'order-1' });
    const reserved = reactionTo(placed, 'inventory', 'shoal.inventory.StockReserved', 5);
    const notified = reactionTo(placed, 'notifications', 'shoal.notifications.CustomerNotified', 7, { subject: undefined, key: 'customer-1' });
    for (const event of [placed, reserved, notified]) expect(index.add(event)).toBe(true);

    expect(index.get('p')).toBe(placed);
    expect(index.byCorrelationId('p').map((event) => event.id)).toEqual(['p', reserved.id, notified.id]);
    expect(index.byOrderId('order-1').map((event) => event.id)).toEqual(['p', reserved.id]);
    expect(index.byOrderId('customer-1')).toEqual([notified]);
    expect(index.childrenOf('p').map((event) => event.id)).toEqual([reserved.id, notified.id]);
  });

  it('keeps an event seen twice once, and tells its listeners of new events only', () => {
    const index = new EventIndex();
    const heard: string[] = [];
    index.onEvent((event) => heard.push(event.id));
    const event = seenEvent('orders', 'shoal.orders.OrderPlaced');
    expect(index.add(event)).toBe(true);
    expect(index.add({ ...event, offset: '99' })).toBe(false);
    expect(heard).toEqual([event.id]);
    expect(index.stats()).toMatchObject({ events: 1, duplicates: 1 });
  });

  it('evicts the oldest events past its cap, from every index', () => {
    const index = new EventIndex({ maxEvents: 1000 });
    const events = Array.from({ length: 10_000 }, (_, i) => seenEvent('orders', 'shoal.orders.OrderPlaced', { id: `e${i}`, correlationId: `c${i % 10}`, subject: `o${i}`, causationId: i > 0 ? `e${i - 1}` : undefined }));
    for (const event of events) index.add(event);

    expect(index.size).toBe(1000);
    expect(index.stats()).toMatchObject({ events: 1000, maxEvents: 1000, evicted: 9000 });
    expect(index.get('e8999')).toBeUndefined();
    expect(index.get('e9000')).toBe(events[9000]);
    expect(index.byOrderId('o8999')).toEqual([]);
    expect(index.byCorrelationId('c3')).toHaveLength(100);
    // An evicted event is gone as a child; a kept one is still found under its evicted cause.
    expect(index.childrenOf('e8998')).toEqual([]);
    expect(index.childrenOf('e8999')).toEqual([events[9000]]);
  });

  it('refuses a cap that is not a positive integer', () => {
    expect(() => new EventIndex({ maxEvents: 0 })).toThrow('maxEvents must be a positive integer, got 0');
  });
});
