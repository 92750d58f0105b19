import { eventually } from '@shoal/testing';
import { describe, expect, it } from 'vitest';
import type { ShoalEvent } from '@shoal/contract';
import { startTestPlatform } from '@shoal/contract/testing';
import type { ServiceHost } from '@shoal/service';
import { call, publisherFor, startTestService } from '@shoal/service/testing';
import { buildOrderView, type OrderViewConfig } from './app.js';
import { configSpec } from './config.js';
import { byTopics, confirmedFlow, customerCancelledFlow, declinedFlow, shippedFlow } from './testing/order-flows.js';
import { postgresMissingReason } from '@shoal/postgres';
import { testPostgresDatabaseUrl } from '@shoal/store-postgres/testing';

/** Where the model lives: SQLite files under the data dir, or (DATABASE_URL) a PostgreSQL database of the test's own. */
const stores = [
  { name: 'sqlite', missing: undefined, env: async (): Promise<Record<string, string>> => ({}) },
  { name: 'postgres', missing: postgresMissingReason(), env: async (): Promise<Record<string, string>> => ({ DATABASE_URL: await testPostgresDatabaseUrl() }) },
] as const;

/**
 * order-view for real: the projector consumes the five topics from a broker, reads go through fastify, the
 * rebuild through the admin route `shoal replay` calls. The test publishes whole flows itself, each topic
 * in order but the topics in reverse (every service's events before the orders that caused them).
 */
const reversedTopics = ['loyalty.points', 'notifications.notification', 'shipping.shipment', 'payments.payment', 'inventory.reservation', 'orders.order'];

/** Waits until the model holds `events` events, and returns the stats. */
async function caughtUp(host: ServiceHost<OrderViewConfig>, events: number) {
  return eventually(async () => {
    const { body } = await call(host, 'GET', '/stats');
    expect(body.events).toBe(events);
    return body;
  });
}

describe.each(stores)('order-view on $name', (store) => {
  it.skipIf(store.missing !== undefined)('shows each order with its status and whole timeline, lists and counts them, and rebuilds to the same model', async () => {
    const platform = await startTestPlatform();
    const publisher = await publisherFor(platform);
    const { host } = await startTestService(configSpec, (h) => buildOrderView(h), { platform, env: await store.env() });

    const shipped = shippedFlow('o-ship');
    const declined = declinedFlow('o-decl', { customerId: 'c-same' });
    const cancelled = customerCancelledFlow('o-canc', { customerId: 'c-same' });
    const usd = confirmedFlow('o-usd', { currency: 'USD' });
    const flows = [shipped, declined, cancelled, usd];
    const events = byTopics(
      flows.flatMap((flow) => flow.events),
      reversedTopics,
    );
    // One event redelivered (published again, at another offset): recorded once.
    await publisher.publishBatch([...events, shipped.events[3]!]);
    const stats = await caughtUp(host, events.length);
    expect(stats).toEqual({
      orders: 4,
      byStatus: { PLACED: 0, CONFIRMED: 1, CANCELLED: 2, SHIPPED: 1 },
      revenue: [
        { currency: 'EUR', confirmedAmount: 3000 },
        { currency: 'USD', confirmedAmount: 3000 },
      ],
      events: events.length,
    });

    const order = await call(host, 'GET', '/orders/o-ship');
    expect(order.status).toBe(200);
    expect(order.body).toEqual({
      orderId: 'o-ship',
      status: 'SHIPPED',
      customerId: 'c-o-ship',
      total: { amount: 3000, currency: 'EUR' },
      placedAt: new Date(0).toISOString(),
      updatedAt: shipped.events[shipped.events.length - 1]!.time,
      correlationId: shipped.events[0]!.id,
      paymentId: 'p-o-ship',
      shipmentId: 's-o-ship',
      trackingNumber: 'TRK-O-SHIP',
      timeline: shipped.events.map((event: ShoalEvent) => ({ type: event.type, source: event.source, time: event.time, id: event.id })),
    });
    expect((await call(host, 'GET', '/orders/o-decl')).body).toMatchObject({ status: 'CANCELLED', cancellation: { reason: 'PAYMENT_DECLINED', detail: 'credit limit exceeded' } });
    expect((await call(host, 'GET', '/orders/o-canc')).body.timeline).toHaveLength(cancelled.events.length);

    const byCustomer = await call(host, 'GET', '/orders?customerId=c-same');
    expect(byCustomer.body.items.map((item: { orderId: string }) => item.orderId)).toEqual(['o-canc', 'o-decl']);
    expect(byCustomer.body.items[0]).not.toHaveProperty('timeline');
    expect(byCustomer.body.items[0]).toMatchObject({ status: 'CANCELLED', cancellation: { reason: 'CUSTOMER_REQUEST' }, shipmentId: 's-o-canc' });
    const page = await call(host, 'GET', '/orders?limit=3');
    expect(page.body.items.map((item: { orderId: string }) => item.orderId)).toEqual(['o-canc', 'o-decl', 'o-ship']);
    expect(page.body.next).toBe('o-ship');
    expect((await call(host, 'GET', `/orders?limit=3&after=${page.body.next}`)).body).toEqual({ items: [expect.objectContaining({ orderId: 'o-usd' })] });
    expect((await call(host, 'GET', '/orders?status=CONFIRMED')).body.items.map((item: { orderId: string }) => item.orderId)).toEqual(['o-usd']);

    expect(await call(host, 'GET', '/orders/nope')).toMatchObject({ status: 404, contentType: expect.stringContaining('application/problem+json'), body: { code: 'SHOAL_NOT_FOUND' } });
    for (const query of ['status=LOST', 'limit=0', 'limit=1001', 'customerId=', 'after=']) {
      const refused = await call(host, 'GET', `/orders?${query}`);
      expect(refused, query).toMatchObject({ status: 400, contentType: expect.stringContaining('application/problem+json'), body: { code: 'SHOAL_REQUEST_INVALID' } });
    }

    // A rebuild from the log (what `shoal replay order-view orders` asks for) arrives at the same model.
    const before = await Promise.all(['/orders/o-ship', '/orders/o-decl', '/orders/o-canc', '/orders/o-usd', '/stats', '/orders'].map((url) => call(host, 'GET', url)));
    const rebuild = await host.app.inject({ method: 'POST', url: '/admin/projections/orders/rebuild', payload: { from: 'beginning' } });
    expect(rebuild.statusCode).toBe(202);
    const generation = rebuild.json().generation as number;
    await eventually(async () => {
      const { body } = await call(host, 'GET', '/admin/projections/orders');
      expect(body.rebuild).toMatchObject({ generation, state: 'swapped' });
      expect(body.model.generation).toBe(generation);
    });
    const after = await Promise.all(['/orders/o-ship', '/orders/o-decl', '/orders/o-canc', '/orders/o-usd', '/stats', '/orders'].map((url) => call(host, 'GET', url)));
    expect(after).toEqual(before);
  });

  it.skipIf(store.missing !== undefined)('shows an order once its OrderPlaced arrives, and keeps its model across a restart', async () => {
    const platform = await startTestPlatform();
    const publisher = await publisherFor(platform);
    const env = await store.env();
    const first = await startTestService(configSpec, (h) => buildOrderView(h), { platform, env });

    const flow = shippedFlow('o-late');
    const [placed, ...rest] = flow.events;
    await publisher.publishBatch(rest.filter((event) => event.type !== 'shoal.orders.OrderShipped' && event.type !== 'shoal.orders.OrderConfirmed'));
    await caughtUp(first.host, rest.length - 2);
    expect(await call(first.host, 'GET', '/orders/o-late')).toMatchObject({ status: 404 });
    expect((await call(first.host, 'GET', '/stats')).body.orders).toBe(0);
    await first.host.stop();

    const again = await startTestService(configSpec, (h) => buildOrderView(h), { platform, dataDir: first.dataDir, env });
    expect((await call(again.host, 'GET', '/stats')).body.events).toBe(rest.length - 2);
    await publisher.publishBatch(flow.events.filter((event) => event.type.startsWith('shoal.orders.')));
    await caughtUp(again.host, flow.events.length);
    const order = await call(again.host, 'GET', '/orders/o-late');
    expect(order.body).toMatchObject({ status: 'SHIPPED', correlationId: placed!.id, paymentId: 'p-o-late', trackingNumber: 'TRK-O-LATE' });
    expect(order.body.timeline.map((entry: { id: string }) => entry.id)).toEqual(flow.events.map((event) => event.id));
  });
});
