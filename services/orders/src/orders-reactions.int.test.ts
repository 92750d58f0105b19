import { eventually } from '@shoal/testing';
import { consumedEvents, publisherFor, serviceStores, watchTopics } from '@shoal/service/testing';
import { describe, expect, it } from 'vitest';
import { startTestPlatform } from '@shoal/contract/testing';
import { getOrder, placeOrder, startOrders, typesOf, upstreamEvents } from './testing/orders.js';

/**
 * The orders service reacting to the rest of the choreography for real: upstream events published to the
 * topics of inventory, payments and shipping the way those services publish them, what orders decides read
 * back from `orders.order` and through GET /orders/:id.
 */
describe.each(serviceStores)('orders reactions on $name', (store) => {
    it.skipIf(store.missing !== undefined)('confirms on PaymentAuthorized, ships on ShipmentDispatched, cancels on StockReservationFailed and PaymentDeclined, each caused by the upstream event', async () => {
      const { host, platform } = await startOrders({ env: await store.env() });
      const published = await watchTopics(platform, ['orders.order']);
      const publisher = await publisherFor(platform);
      const [paid, outOfStock, declined] = [await placeOrder(host), await placeOrder(host), await placeOrder(host)];
      const [placed] = await published.waitFor('shoal.orders.OrderPlaced', { subject: paid });

      const authorized = upstreamEvents.paymentAuthorized(paid, placed);
      await publisher.publish(upstreamEvents.stockReserved(paid));
      await publisher.publish(authorized);
      const [confirmed] = await published.waitFor('shoal.orders.OrderConfirmed', { subject: paid });
      expect(confirmed).toMatchObject({
        source: '/shoal/orders',
        subject: paid,
        partitionkey: paid,
        causationid: authorized.id,
        correlationid: placed!.id,
        data: { orderId: paid, customerId: 'c1', paymentId: `pay-${paid}`, total: { amount: 3990, currency: 'EUR' } },
      });
      expect((await getOrder(host, paid)).body).toMatchObject({ status: 'CONFIRMED', paymentId: `pay-${paid}`, version: 2 });

      const dispatched = upstreamEvents.shipmentDispatched(paid, 1_750_000_000_000);
      await publisher.publish(dispatched);
      const [shipped] = await published.waitFor('shoal.orders.OrderShipped', { subject: paid });
      expect(shipped).toMatchObject({
        causationid: dispatched.id,
        data: { orderId: paid, customerId: 'c1', shipmentId: `shp-${paid}`, trackingNumber: `TRK-${paid}`, shippedAt: 1_750_000_000_000 },
      });
      const shown = await getOrder(host, paid);
      expect(shown.body).toMatchObject({ status: 'SHIPPED', paymentId: `pay-${paid}`, shipmentId: `shp-${paid}`, trackingNumber: `TRK-${paid}`, version: 3 });
      expect(shown.etag).toBe('"3"');
      const tooLate = await host.app.inject({ method: 'POST', url: `/orders/${paid}/cancel` });
      expect(tooLate.statusCode).toBe(409);
      expect(tooLate.json()).toMatchObject({ code: 'SHOAL_COMMAND_REJECTED', detail: `Order ${paid} cannot be cancelled: it has already shipped` });

      const failed = upstreamEvents.stockReservationFailed(outOfStock);
      await publisher.publish(failed);
      const [cancelledForStock] = await published.waitFor('shoal.orders.OrderCancelled', { subject: outOfStock });
      expect(cancelledForStock).toMatchObject({
        causationid: failed.id,
        data: { orderId: outOfStock, customerId: 'c1', reason: 'OUT_OF_STOCK', detail: 'out of stock: SKU-1 (2 requested, 1 available)' },
      });
      expect((await getOrder(host, outOfStock)).body).toMatchObject({
        status: 'CANCELLED',
        cancellation: { reason: 'OUT_OF_STOCK', detail: 'out of stock: SKU-1 (2 requested, 1 available)' },
      });

      const refused = upstreamEvents.paymentDeclined(declined, 'credit limit of 1000 EUR exceeded');
      await publisher.publish(refused);
      const [cancelledForPayment] = await published.waitFor('shoal.orders.OrderCancelled', { subject: declined });
      expect(cancelledForPayment).toMatchObject({ causationid: refused.id, data: { reason: 'PAYMENT_DECLINED', detail: 'credit limit of 1000 EUR exceeded' } });
      expect((await getOrder(host, declined)).body).toMatchObject({ status: 'CANCELLED', cancellation: { reason: 'PAYMENT_DECLINED' } });

      expect(typesOf(published, paid)).toEqual(['shoal.orders.OrderPlaced', 'shoal.orders.OrderConfirmed', 'shoal.orders.OrderShipped']);
      // StockReserved changes nothing about an order: no handler, skipped and counted.
      await eventually(async () => expect(await consumedEvents(host)).toEqual({ handled: 4, duplicate: 0, skipped: 1, dead_lettered: 0, parked: 0 }));
    });
});

describe('orders reactions', () => {
  it('ignores what arrives after it stopped applying and events of unknown orders, dead-letters none, and decides a redelivered event once', async () => {
    const { host, platform } = await startOrders();
    const published = await watchTopics(platform, ['orders.order']);
    const publisher = await publisherFor(platform);

    // Cancelled by the customer while payments authorized: stays cancelled (payments refunds on OrderCancelled).
    const cancelledFirst = await placeOrder(host);
    expect((await host.app.inject({ method: 'POST', url: `/orders/${cancelledFirst}/cancel` })).statusCode).toBe(200);
    await publisher.publish(upstreamEvents.paymentAuthorized(cancelledFirst));
    // The same order's stock failure afterwards: the first reason stands.
    await publisher.publish(upstreamEvents.stockReservationFailed(cancelledFirst));

    // Confirmed, then cancelled by the customer, then dispatched before shipping saw the cancel: stays cancelled.
    const dispatchedLate = await placeOrder(host);
    await publisher.publish(upstreamEvents.paymentAuthorized(dispatchedLate));
    await eventually(async () => expect((await getOrder(host, dispatchedLate)).body.status).toBe('CONFIRMED'));
    const cancelled = await host.app.inject({ method: 'POST', url: `/orders/${dispatchedLate}/cancel`, payload: { reason: 'too slow' } });
    expect(cancelled.json()).toMatchObject({ status: 'CANCELLED', cancellation: { reason: 'CUSTOMER_REQUEST', detail: 'too slow' } });
    await publisher.publish(upstreamEvents.shipmentDispatched(dispatchedLate));

    // Dispatched while still placed (shipping schedules only confirmed orders): stays placed.
    const stillPlaced = await placeOrder(host);
    await publisher.publish(upstreamEvents.shipmentDispatched(stillPlaced));

    // Never placed here (a replayed or foreign topic): nothing happens, nothing is dead-lettered.
    await publisher.publish(upstreamEvents.paymentAuthorized('ord-ghost'));
    await publisher.publish(upstreamEvents.paymentDeclined('ord-ghost'));

    // The same event delivered twice: one confirmation.
    const redelivered = await placeOrder(host);
    const authorized = upstreamEvents.paymentAuthorized(redelivered);
    await publisher.publish(authorized);
    await publisher.publish(authorized);

    await eventually(async () => expect(await consumedEvents(host)).toEqual({ handled: 8, duplicate: 1, skipped: 0, dead_lettered: 0, parked: 0 }));
    expect((await getOrder(host, cancelledFirst)).body).toMatchObject({ status: 'CANCELLED', cancellation: { reason: 'CUSTOMER_REQUEST' }, version: 2 });
    expect((await getOrder(host, dispatchedLate)).body).toMatchObject({ status: 'CANCELLED', cancellation: { detail: 'too slow' }, version: 3 });
    expect((await getOrder(host, dispatchedLate)).body).not.toHaveProperty('shipmentId');
    expect((await getOrder(host, stillPlaced)).body).toMatchObject({ status: 'PLACED', version: 1 });
    expect((await getOrder(host, 'ord-ghost')).statusCode).toBe(404);
    expect((await getOrder(host, redelivered)).body).toMatchObject({ status: 'CONFIRMED', version: 2 });

    await published.waitFor('shoal.orders.OrderConfirmed', { subject: redelivered });
    expect(typesOf(published, cancelledFirst)).toEqual(['shoal.orders.OrderPlaced', 'shoal.orders.OrderCancelled']);
    expect(typesOf(published, dispatchedLate)).toEqual(['shoal.orders.OrderPlaced', 'shoal.orders.OrderConfirmed', 'shoal.orders.OrderCancelled']);
    expect(typesOf(published, stillPlaced)).toEqual(['shoal.orders.OrderPlaced']);
    expect(typesOf(published, 'ord-ghost')).toEqual([]);
    expect(typesOf(published, redelivered)).toEqual(['shoal.orders.OrderPlaced', 'shoal.orders.OrderConfirmed']);
  });

  it('keeps its orders across a restart on the same data dir and goes on reacting to them', async () => {
    const platform = await startTestPlatform();
    const first = await startOrders({ platform });
    const publisher = await publisherFor(platform);
    const orderId = await placeOrder(first.host, { customerId: 'c-restart' });
    const cancelledId = await placeOrder(first.host);
    await first.host.app.inject({ method: 'POST', url: `/orders/${cancelledId}/cancel` });
    await publisher.publish(upstreamEvents.paymentAuthorized(orderId));
    await eventually(async () => expect((await getOrder(first.host, orderId)).body.status).toBe('CONFIRMED'));
    const before = (await getOrder(first.host, orderId)).body;
    await first.host.stop();

    const second = await startOrders({ platform, dataDir: first.dataDir });
    expect((await getOrder(second.host, orderId)).body).toEqual(before);
    expect((await getOrder(second.host, cancelledId)).body).toMatchObject({ status: 'CANCELLED', version: 2 });

    await publisher.publish(upstreamEvents.shipmentDispatched(orderId));
    await eventually(async () => expect((await getOrder(second.host, orderId)).body).toMatchObject({ status: 'SHIPPED', customerId: 'c-restart', version: 3 }));
    expect((await consumedEvents(second.host)).handled).toBe(1);

    const published = await watchTopics(platform, ['orders.order']);
    await published.waitFor('shoal.orders.OrderShipped', { subject: orderId });
    expect(typesOf(published, orderId)).toEqual(['shoal.orders.OrderPlaced', 'shoal.orders.OrderConfirmed', 'shoal.orders.OrderShipped']);
  });
});
