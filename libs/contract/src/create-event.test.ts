import { describe, expect, it } from 'vitest';
import { createEvent } from './create-event.js';
import { orderPlacedData } from './event-fixtures.js';
import type { OrderConfirmed } from './generated/events.js';

const placed = orderPlacedData({ orderId: 'o-1' });

describe('createEvent', () => {
  it('builds the envelope with the injected clock and id generator; a first event correlates to itself', () => {
    const event = createEvent('shoal.orders.OrderPlaced', placed, {
      source: '/shoal/orders',
      subject: 'o-1',
      now: () => new Date('2026-01-31T12:00:00.123Z'),
      newId: () => 'id-1',
    });
    expect(event).toEqual({
      specversion: '1.0',
      id: 'id-1',
      source: '/shoal/orders',
      type: 'shoal.orders.OrderPlaced',
      time: '2026-01-31T12:00:00.123Z',
      subject: 'o-1',
      partitionkey: 'o-1',
      correlationid: 'id-1',
      data: placed,
    });
    expect('causationid' in event).toBe(false);
  });

  it('carries the correlation id of its cause and names the cause as causation', () => {
    const cause = createEvent('shoal.orders.OrderPlaced', placed, { source: '/shoal/orders', subject: 'o-1', id: 'placed-1' });
    const confirmed: OrderConfirmed = { orderId: 'o-1', customerId: 'c-1', paymentId: 'p-1', total: placed.total, confirmedAt: 1 };
    const effect = createEvent('shoal.orders.OrderConfirmed', confirmed, { source: '/shoal/orders', subject: 'o-1', causedBy: cause, id: 'confirmed-1' });
    expect(effect).toMatchObject({ correlationid: 'placed-1', causationid: 'placed-1' });
    const next = createEvent('shoal.orders.OrderConfirmed', confirmed, { source: '/shoal/orders', subject: 'o-1', causedBy: effect });
    expect(next).toMatchObject({ correlationid: 'placed-1', causationid: 'confirmed-1' });
  });

  it('takes an explicit id, time, partition key and trace context', () => {
    const event = createEvent('shoal.orders.OrderPlaced', placed, {
      source: '/shoal/orders',
      subject: 'o-1',
      partitionKey: 'c-1',
      id: 'fixed',
      time: new Date('2026-02-01T00:00:00Z'),
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    });
    expect(event).toMatchObject({ id: 'fixed', time: '2026-02-01T00:00:00.000Z', partitionkey: 'c-1', traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' });
  });

  it('uses time-ordered UUIDv7 ids by default', () => {
    const ids = Array.from({ length: 50 }, () => createEvent('shoal.orders.OrderPlaced', placed, { source: '/shoal/orders', subject: 'o-1' }).id);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('ties the data to the type at compile time', () => {
    // @ts-expect-error OrderConfirmed data is not OrderPlaced data
    createEvent('shoal.orders.OrderPlaced', { orderId: 'o-1', customerId: 'c-1', paymentId: 'p', total: placed.total, confirmedAt: 1 }, { source: '/s', subject: 'o-1' });
    // @ts-expect-error quantity is a number
    createEvent('shoal.orders.OrderPlaced', { ...placed, lines: [{ sku: 'a', quantity: 'two', unitPrice: placed.total }] }, { source: '/s', subject: 'o-1' });
    // @ts-expect-error not an event type of the catalog
    createEvent('shoal.orders.OrderLost', placed, { source: '/s', subject: 'o-1' });
  });
});
