import { eventually } from '@shoal/testing';
import { describe, expect, it } from 'vitest';
import { createEvent, type ShoalEvent } from '@shoal/contract';
import { startTestPlatform } from '@shoal/contract/testing';
import { call, consumedEvents, publisherFor, serviceStores, startTestService, watchTopics } from '@shoal/service/testing';
import { buildShipping } from './app.js';
import { configSpec } from './config.js';
import { TRACKING_NUMBER_PATTERN } from './shipments/shipment.js';

/**
 * The shipping service for real: kafkajs against a broker, the registry, its SQLite file, HTTP through
 * fastify. The test plays orders (it publishes OrderConfirmed and OrderCancelled) and reads what shipping
 * publishes on shipping.shipment.
 */
const flow = (orderId: string) => ({ id: `placed-${orderId}`, correlationid: `corr-${orderId}` });

function confirmed(orderId: string): ShoalEvent<'shoal.orders.OrderConfirmed'> {
  return createEvent(
    'shoal.orders.OrderConfirmed',
    { orderId, customerId: `c-${orderId}`, paymentId: `p-${orderId}`, total: { amount: 3000, currency: 'EUR' }, confirmedAt: Date.now() },
    { source: '/shoal/orders', subject: orderId, causedBy: flow(orderId) },
  );
}

function cancelled(orderId: string): ShoalEvent<'shoal.orders.OrderCancelled'> {
  return createEvent(
    'shoal.orders.OrderCancelled',
    { orderId, customerId: `c-${orderId}`, reason: 'CUSTOMER_REQUEST', detail: 'changed my mind', cancelledAt: Date.now() },
    { source: '/shoal/orders', subject: orderId, causedBy: flow(orderId) },
  );
}

describe.each(serviceStores)('shipping on $name', (store) => {
  it.skipIf(store.missing !== undefined)('schedules once per confirmed order, dispatches over HTTP, cancels what is not dispatched yet', async () => {
    const platform = await startTestPlatform();
    const publisher = await publisherFor(platform);
    const published = await watchTopics(platform, ['shipping.shipment']);
    const { host } = await startTestService(configSpec, (h) => buildShipping(h), { platform, env: await store.env() });

    // o-1: confirmed, the same event redelivered, and a second OrderConfirmed of the same order.
    const first = confirmed('o-1');
    await publisher.publishBatch([first, first, confirmed('o-1')]);
    // o-2: confirmed then cancelled before dispatch. o-3: cancelled, never confirmed.
    await publisher.publishBatch([confirmed('o-2'), cancelled('o-2')]);
    await publisher.publish(cancelled('o-3'));
    await eventually(async () => expect(await consumedEvents(host)).toEqual({ handled: 5, duplicate: 1, skipped: 0, dead_lettered: 0, parked: 0 }));

    const [scheduled] = await published.waitFor('shoal.shipping.ShipmentScheduled', { subject: 'o-1' });
    expect(scheduled!.data).toMatchObject({ orderId: 'o-1', customerId: 'c-o-1' });
    expect(scheduled).toMatchObject({ source: '/shoal/shipping', partitionkey: 'o-1', correlationid: 'corr-o-1', causationid: first.id });

    const list = await call(host, 'GET', '/shipments?orderId=o-1');
    expect(list.status).toBe(200);
    expect(list.body.items).toHaveLength(1);
    const shipmentId = list.body.items[0].shipmentId as string;
    expect(shipmentId).toBe(scheduled!.data.shipmentId);
    expect(list.body.items[0]).toEqual({
      shipmentId,
      orderId: 'o-1',
      customerId: 'c-o-1',
      status: 'SCHEDULED',
      scheduledAt: new Date(scheduled!.data.scheduledAt).toISOString(),
    });

    const dispatch = await call(host, 'POST', `/shipments/${shipmentId}/dispatch`);
    expect(dispatch.status).toBe(200);
    expect(dispatch.body).toMatchObject({ shipmentId, orderId: 'o-1', status: 'DISPATCHED' });
    expect(dispatch.body.trackingNumber).toMatch(TRACKING_NUMBER_PATTERN);
    expect(Date.parse(dispatch.body.dispatchedAt)).toBeGreaterThanOrEqual(Date.parse(dispatch.body.scheduledAt));
    const again = await call(host, 'POST', `/shipments/${shipmentId}/dispatch`);
    expect(again).toMatchObject({ status: 200, body: dispatch.body });
    expect(await call(host, 'GET', `/shipments/${shipmentId}`)).toMatchObject({ status: 200, body: dispatch.body });

    const [dispatched] = await published.waitFor('shoal.shipping.ShipmentDispatched', { subject: 'o-1' });
    expect(dispatched!.data).toMatchObject({ shipmentId, orderId: 'o-1', customerId: 'c-o-1', trackingNumber: dispatch.body.trackingNumber });
    expect(dispatched).toMatchObject({ correlationid: 'corr-o-1', causationid: scheduled!.id });

    // The race: the customer's cancel crossed the dispatch. Too late, nothing changes.
    await publisher.publish(cancelled('o-1'));
    await eventually(async () => expect((await consumedEvents(host)).handled).toBe(6));
    expect((await call(host, 'GET', `/shipments/${shipmentId}`)).body).toEqual(dispatch.body);

    const [o2] = (await call(host, 'GET', '/shipments?status=CANCELLED')).body.items;
    expect(o2).toMatchObject({ orderId: 'o-2', status: 'CANCELLED' });
    expect(o2.cancelledAt).toEqual(expect.any(String));
    const [cancelledEvent] = await published.waitFor('shoal.shipping.ShipmentCancelled', { subject: 'o-2' });
    expect(cancelledEvent!.data).toMatchObject({ shipmentId: o2.shipmentId, orderId: 'o-2', customerId: 'c-o-2' });
    expect(cancelledEvent!.data.reason).toContain('CUSTOMER_REQUEST');
    expect(cancelledEvent).toMatchObject({ correlationid: 'corr-o-2' });

    const refused = await call(host, 'POST', `/shipments/${o2.shipmentId}/dispatch`);
    expect(refused).toMatchObject({ status: 409, contentType: expect.stringContaining('application/problem+json'), body: { code: 'SHOAL_COMMAND_REJECTED' } });
    expect((await call(host, 'GET', '/shipments?orderId=o-3')).body).toEqual({ items: [] });

    expect(await call(host, 'POST', '/shipments/nope/dispatch')).toMatchObject({ status: 404, body: { code: 'SHOAL_NOT_FOUND' } });
    expect(await call(host, 'GET', '/shipments/nope')).toMatchObject({ status: 404, body: { code: 'SHOAL_NOT_FOUND' } });
    for (const query of ['status=LOST', 'limit=0', 'limit=1001', 'orderId=']) {
      const invalid = await call(host, 'GET', `/shipments?${query}`);
      expect(invalid, query).toMatchObject({ status: 400, contentType: expect.stringContaining('application/problem+json'), body: { code: 'SHOAL_REQUEST_INVALID' } });
    }
    expect((await call(host, 'GET', '/shipments?limit=1')).body.items).toHaveLength(1);

    // Everything shipping published, once each: no second schedule for o-1, no cancel for o-1 or o-3.
    await eventually(() => expect(published.all()).toHaveLength(4));
    expect(published.all().map((event) => `${event.type} ${event.subject}`).sort()).toEqual([
      'shoal.shipping.ShipmentCancelled o-2',
      'shoal.shipping.ShipmentDispatched o-1',
      'shoal.shipping.ShipmentScheduled o-1',
      'shoal.shipping.ShipmentScheduled o-2',
    ]);
  });

  it.skipIf(store.missing !== undefined)('dispatches automatically after SHIPPING_AUTO_DISPATCH_MS, stops cleanly, and keeps its state across a restart', async () => {
    const platform = await startTestPlatform();
    const publisher = await publisherFor(platform);
    const published = await watchTopics(platform, ['shipping.shipment']);
    const env = await store.env();
    const auto = await startTestService(configSpec, (h) => buildShipping(h), { platform, env: { ...env, SHIPPING_AUTO_DISPATCH_MS: '100' } });
    expect(auto.host.config.autoDispatchMs).toBe(100);
    const ready = await call(auto.host, 'GET', '/health/ready');
    expect(ready.body.checks['auto-dispatch']).toMatchObject({ ok: true });

    const event = confirmed('o-auto');
    await publisher.publish(event);
    const [dispatched] = await published.waitFor('shoal.shipping.ShipmentDispatched', { subject: 'o-auto' });
    const [scheduled] = published.ofType('shoal.shipping.ShipmentScheduled', { subject: 'o-auto' });
    expect(dispatched!.data.dispatchedAt - scheduled!.data.scheduledAt).toBeGreaterThanOrEqual(100);
    expect(dispatched).toMatchObject({ correlationid: 'corr-o-auto', causationid: scheduled!.id });
    await auto.host.stop();

    // The same database, without auto-dispatch: the shipment is still there, a redelivery changes nothing.
    const again = await startTestService(configSpec, (h) => buildShipping(h), { platform, dataDir: auto.dataDir, env });
    const { body } = await call(again.host, 'GET', `/shipments/${dispatched!.data.shipmentId}`);
    expect(body).toMatchObject({ orderId: 'o-auto', status: 'DISPATCHED', trackingNumber: dispatched!.data.trackingNumber });
    expect((await call(again.host, 'GET', '/health/ready')).body.checks['auto-dispatch']).toBeUndefined();

    await publisher.publishBatch([event, confirmed('o-later')]);
    await published.waitFor('shoal.shipping.ShipmentScheduled', { subject: 'o-later' });
    await eventually(async () => expect(await consumedEvents(again.host)).toMatchObject({ handled: 1, duplicate: 1 }));
    expect((await call(again.host, 'GET', '/shipments?orderId=o-auto')).body.items).toHaveLength(1);
    expect((await call(again.host, 'GET', '/shipments?orderId=o-later')).body.items[0]).toMatchObject({ status: 'SCHEDULED' });
    expect(published.ofType('shoal.shipping.ShipmentScheduled', { subject: 'o-auto' })).toHaveLength(1);
  });
});
