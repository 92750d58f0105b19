import { eventually } from '@shoal/testing';
import { describe, expect, it } from 'vitest';
import { createEvent } from '@shoal/contract';
import { startTestPlatform } from '@shoal/contract/testing';
import { call, consumedEvents, publisherFor, serviceStores, startTestService, watchTopics } from '@shoal/service/testing';
import { buildNotifications } from './app.js';
import { configSpec } from './config.js';
import { render, type NotifiedEvent } from './notifications/render.js';

/**
 * The notifications service for real (broker, registry, SQLite, fastify). The test plays orders and
 * payments: it publishes their events, with explicit times so that the expected event-time order differs
 * from the order of publication, and reads CustomerNotified back from notifications.notification.
 */
const t0 = Date.parse('2026-03-01T10:00:00.000Z');
const at = (seconds: number) => new Date(t0 + seconds * 1000);
const eur = (amount: number) => ({ amount, currency: 'EUR' });

function orderEvents(orderId: string, customerId: string) {
  const orders = { source: '/shoal/orders', subject: orderId };
  const placed = createEvent(
    'shoal.orders.OrderPlaced',
    { orderId, customerId, lines: [{ sku: 'SKU-1', quantity: 2, unitPrice: eur(1500) }], total: eur(3000), shippingAddress: null, placedAt: t0 },
    { ...orders, time: at(0) },
  );
  const flow = { ...orders, causedBy: placed };
  return {
    placed,
    authorized: createEvent(
      'shoal.payments.PaymentAuthorized',
      { paymentId: `p-${orderId}`, orderId, customerId, amount: eur(3000), authorizedAt: t0 },
      { ...flow, source: '/shoal/payments', time: at(1) },
    ),
    confirmed: createEvent('shoal.orders.OrderConfirmed', { orderId, customerId, paymentId: `p-${orderId}`, total: eur(3000), confirmedAt: t0 }, { ...flow, time: at(2) }),
    shipped: createEvent(
      'shoal.orders.OrderShipped',
      { orderId, customerId, shipmentId: `s-${orderId}`, trackingNumber: 'TRK-0123456789', shippedAt: t0 },
      { ...flow, time: at(4) },
    ),
    cancelled: createEvent(
      'shoal.orders.OrderCancelled',
      { orderId, customerId, reason: 'CUSTOMER_REQUEST', detail: 'cancelled by the customer', cancelledAt: t0 },
      { ...flow, time: at(3) },
    ),
    refunded: createEvent(
      'shoal.payments.PaymentRefunded',
      { paymentId: `p-${orderId}`, orderId, customerId, amount: eur(3000), refundedAt: t0 },
      { ...flow, source: '/shoal/payments', time: at(5) },
    ),
  };
}

describe.each(serviceStores)('notifications on $name', (store) => {
  it.skipIf(store.missing !== undefined)('records one message per customer-visible event, in event time, and announces each as CustomerNotified', async () => {
    const platform = await startTestPlatform();
    const publisher = await publisherFor(platform);
    const published = await watchTopics(platform, ['notifications.notification']);
    const { host } = await startTestService(configSpec, (h) => buildNotifications(h), { platform, env: await store.env() });

    const shippedFlow = orderEvents('o-1', 'c-1');
    const cancelledFlow = orderEvents('o-2', 'c-1');
    const other = orderEvents('o-3', 'c-2');
    // The refund is published before the cancellation that caused it (another topic: nothing orders them).
    await publisher.publish(cancelledFlow.refunded);
    await publisher.publishBatch([shippedFlow.placed, shippedFlow.placed, shippedFlow.confirmed, shippedFlow.shipped, cancelledFlow.placed, cancelledFlow.cancelled]);
    await publisher.publishBatch([shippedFlow.authorized, other.placed]);
    await eventually(async () => expect(await consumedEvents(host)).toEqual({ handled: 7, duplicate: 1, skipped: 1, dead_lettered: 0, parked: 0 }));

    const mine = await call(host, 'GET', '/notifications?customerId=c-1');
    expect(mine.status).toBe(200);
    const expected: NotifiedEvent[] = [shippedFlow.placed, cancelledFlow.placed, shippedFlow.confirmed, cancelledFlow.cancelled, shippedFlow.shipped, cancelledFlow.refunded];
    expect(mine.body.items.map((item: { eventId: string }) => item.eventId)).toEqual(expected.map((event) => event.id));
    expect(mine.body.items[3]).toEqual({
      notificationId: expect.any(String),
      customerId: 'c-1',
      orderId: 'o-2',
      channel: 'EMAIL',
      template: 'shoal.orders.OrderCancelled',
      message: render(cancelledFlow.cancelled),
      notifiedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      eventId: cancelledFlow.cancelled.id,
    });
    expect(mine.body.items[3].message).toContain('cancelled by the customer');
    expect(mine.body.items[4].message).toContain('TRK-0123456789');

    expect((await call(host, 'GET', '/notifications?orderId=o-2')).body.items.map((item: { template: string }) => item.template)).toEqual([
      'shoal.orders.OrderPlaced',
      'shoal.orders.OrderCancelled',
      'shoal.payments.PaymentRefunded',
    ]);
    expect((await call(host, 'GET', '/notifications?customerId=c-1&orderId=o-1')).body.items).toHaveLength(3);
    expect((await call(host, 'GET', '/notifications?customerId=c-2&orderId=o-1')).body.items).toEqual([]);
    expect((await call(host, 'GET', '/notifications?customerId=c-1&limit=2')).body.items.map((item: { eventId: string }) => item.eventId)).toEqual([shippedFlow.placed.id, cancelledFlow.placed.id]);
    for (const query of ['', 'limit=5', 'customerId=c-1&limit=0', 'customerId=c-1&limit=1001', 'customerId=']) {
      const refused = await call(host, 'GET', `/notifications?${query}`);
      expect(refused, query).toMatchObject({ status: 400, contentType: expect.stringContaining('application/problem+json'), body: { code: 'SHOAL_REQUEST_INVALID' } });
    }

    // One CustomerNotified per message, keyed by the customer, in the flow of the event it is about.
    const announced = await published.waitFor('shoal.notifications.CustomerNotified', { count: 7 });
    await eventually(() => expect(published.all()).toHaveLength(7));
    const forCancel = announced.find((event) => event.causationid === cancelledFlow.cancelled.id)!;
    expect(forCancel).toMatchObject({
      source: '/shoal/notifications',
      subject: 'c-1',
      partitionkey: 'c-1',
      correlationid: cancelledFlow.placed.id,
      data: { customerId: 'c-1', orderId: 'o-2', channel: 'EMAIL', template: 'shoal.orders.OrderCancelled', message: render(cancelledFlow.cancelled) },
    });
    expect(forCancel.data.notificationId).toBe(mine.body.items[3].notificationId);
    expect(new Set(announced.map((event) => event.causationid)).size).toBe(7);
  });

  it.skipIf(store.missing !== undefined)('keeps its messages across a restart and does not notify twice for a redelivered event', async () => {
    const platform = await startTestPlatform();
    const publisher = await publisherFor(platform);
    const published = await watchTopics(platform, ['notifications.notification']);
    const env = await store.env();
    const first = await startTestService(configSpec, (h) => buildNotifications(h), { platform, env });
    const flow = orderEvents('o-9', 'c-9');
    await publisher.publishBatch([flow.placed, flow.confirmed]);
    await eventually(async () => expect((await call(first.host, 'GET', '/notifications?customerId=c-9')).body.items).toHaveLength(2));
    const before = (await call(first.host, 'GET', '/notifications?customerId=c-9')).body.items;
    await first.host.stop();

    const again = await startTestService(configSpec, (h) => buildNotifications(h), { platform, dataDir: first.dataDir, env });
    expect((await call(again.host, 'GET', '/notifications?customerId=c-9')).body.items).toEqual(before);
    await publisher.publishBatch([flow.confirmed, flow.shipped]);
    await eventually(async () => expect((await call(again.host, 'GET', '/notifications?customerId=c-9')).body.items).toHaveLength(3));
    await eventually(async () => expect(await consumedEvents(again.host)).toMatchObject({ handled: 1, duplicate: 1 }));
    expect((await call(again.host, 'GET', '/notifications?customerId=c-9')).body.items.map((item: { template: string }) => item.template)).toEqual([
      'shoal.orders.OrderPlaced',
      'shoal.orders.OrderConfirmed',
      'shoal.orders.OrderShipped',
    ]);
    await published.waitFor('shoal.notifications.CustomerNotified', { count: 3 });
    expect(published.ofType('shoal.notifications.CustomerNotified').filter((event) => event.causationid === flow.confirmed.id)).toHaveLength(1);
  });
});

