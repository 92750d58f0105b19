import { describe, expect, it } from 'vitest';
import { tempDir, eventually } from '@shoal/testing';
import { startTestPlatform } from '@shoal/contract/testing';
import { call, consumedEvents, publisherFor, serviceStores, startTestService, watchTopics } from '@shoal/service/testing';
import { buildInventory, configSpec } from './app.js';
import { orderCancelled, orderPlaced, paymentDeclined } from './testing/upstream-events.js';

/**
 * The inventory service for real: its composition on a broker and a registry, HTTP through fastify, events
 * published to the topics it reads, and what it emits read back from inventory.reservation. The same tests
 * on either store: its SQLite file, and a PostgreSQL database through DATABASE_URL.
 */
describe.each(serviceStores)('inventory service on $name', (store) => {
  it.skipIf(store.missing !== undefined)('sets and reads stock levels, and refuses bad requests as problem+json', async () => {
    const { host } = await startTestService(configSpec, buildInventory, { env: await store.env() });

    expect(await call(host, 'PUT', '/stock/SKU-B', { available: 10 })).toMatchObject({ status: 200, body: { sku: 'SKU-B', available: 10, reserved: 0 } });
    expect(await call(host, 'PUT', '/stock/SKU-A', { available: 0 })).toMatchObject({ status: 200, body: { sku: 'SKU-A', available: 0, reserved: 0 } });
    expect(await call(host, 'PUT', '/stock/SKU-B', { available: 7 })).toMatchObject({ status: 200, body: { sku: 'SKU-B', available: 7, reserved: 0 } });
    expect(await call(host, 'GET', '/stock/SKU-B')).toEqual({ status: 200, contentType: expect.stringContaining('application/json'), body: { sku: 'SKU-B', available: 7, reserved: 0 } });
    expect((await call(host, 'GET', '/stock')).body).toEqual({
      items: [
        { sku: 'SKU-A', available: 0, reserved: 0 },
        { sku: 'SKU-B', available: 7, reserved: 0 },
      ],
    });

    const refusals = [
      await call(host, 'PUT', '/stock/SKU-A', { available: -1 }),
      await call(host, 'PUT', '/stock/SKU-A', { available: 1.5 }),
      await call(host, 'PUT', '/stock/SKU-A', {}),
      await call(host, 'PUT', '/stock/SKU-A', { available: 2 ** 31 }),
      await call(host, 'PUT', `/stock/${'S'.repeat(65)}`, { available: 1 }),
    ];
    for (const refusal of refusals) {
      expect(refusal).toMatchObject({ status: 400, contentType: expect.stringContaining('application/problem+json'), body: { code: 'SHOAL_REQUEST_INVALID', status: 400 } });
    }
    expect(refusals[0]!.body.errors).toEqual([expect.objectContaining({ path: 'body/available' })]);
    expect(await call(host, 'GET', '/stock/SKU-A')).toMatchObject({ body: { available: 0 } });

    expect(await call(host, 'GET', '/stock/SKU-NONE')).toMatchObject({
      status: 404,
      contentType: expect.stringContaining('application/problem+json'),
      body: { code: 'SHOAL_NOT_FOUND', sku: 'SKU-NONE', instance: '/stock/SKU-NONE' },
    });
    expect(await call(host, 'GET', '/reservations/o-none')).toMatchObject({ status: 404, body: { code: 'SHOAL_NOT_FOUND', orderId: 'o-none' } });
  });

  it.skipIf(store.missing !== undefined)('reserves every line of an order or none, and tells payments what to charge', async () => {
    const { host, platform } = await startTestService(configSpec, buildInventory, { env: await store.env() });
    const published = await watchTopics(platform, ['inventory.reservation']);
    const publisher = await publisherFor(platform);
    await call(host, 'PUT', '/stock/A', { available: 5 });
    await call(host, 'PUT', '/stock/B', { available: 2 });

    const fits = orderPlaced([['A', 2], ['B', 2]], { customerId: 'c-7', unitPrice: 250 });
    await publisher.publish(fits);
    const [reserved] = await published.waitFor('shoal.inventory.StockReserved', { subject: fits.data.orderId });
    expect(reserved!.data).toEqual({
      orderId: fits.data.orderId,
      customerId: 'c-7',
      lines: fits.data.lines,
      total: { amount: 1000, currency: 'EUR' },
      reservedAt: expect.any(Number),
    });
    expect(reserved).toMatchObject({ source: '/shoal/inventory', subject: fits.data.orderId, partitionkey: fits.data.orderId, causationid: fits.id, correlationid: fits.id });
    expect((await call(host, 'GET', '/stock')).body.items).toEqual([
      { sku: 'A', available: 3, reserved: 2 },
      { sku: 'B', available: 0, reserved: 2 },
    ]);
    expect((await call(host, 'GET', `/reservations/${fits.data.orderId}`)).body).toEqual({
      orderId: fits.data.orderId,
      customerId: 'c-7',
      status: 'RESERVED',
      lines: [{ sku: 'A', quantity: 2 }, { sku: 'B', quantity: 2 }],
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });

    const short = orderPlaced([['A', 1], ['B', 1]]);
    const twice = orderPlaced([['A', 2], ['A', 2]]);
    const unknown = orderPlaced([['A', 1], ['NEW', 1]]);
    await publisher.publishBatch([short, twice, unknown]);
    const failures = await published.waitFor('shoal.inventory.StockReservationFailed', { count: 3 });
    const unavailableOf = (orderId: string) => failures.find((event) => event.data.orderId === orderId)?.data.unavailable;
    expect(unavailableOf(short.data.orderId)).toEqual([{ sku: 'B', requested: 1, available: 0 }]);
    expect(unavailableOf(twice.data.orderId)).toEqual([{ sku: 'A', requested: 4, available: 3 }]);
    expect(unavailableOf(unknown.data.orderId)).toEqual([{ sku: 'NEW', requested: 1, available: 0 }]);
    expect((await call(host, 'GET', `/reservations/${short.data.orderId}`)).body).toMatchObject({ status: 'FAILED', reason: 'B: 1 requested, 0 available' });
    // Nothing of a failed order was taken, not even the lines that would have fitted.
    expect((await call(host, 'GET', '/stock')).body.items).toEqual([
      { sku: 'A', available: 3, reserved: 2 },
      { sku: 'B', available: 0, reserved: 2 },
    ]);
    expect(await call(host, 'GET', '/stock/NEW')).toMatchObject({ status: 404 });
    expect(published.ofType('shoal.inventory.StockReserved')).toHaveLength(1);
  });

  it.skipIf(store.missing !== undefined)('releases a reservation once, on PaymentDeclined or OrderCancelled, whichever comes first, and ignores redeliveries', async () => {
    const { host, platform } = await startTestService(configSpec, buildInventory, { env: await store.env() });
    const published = await watchTopics(platform, ['inventory.reservation']);
    const publisher = await publisherFor(platform);
    await call(host, 'PUT', '/stock/A', { available: 10 });

    const declined = orderPlaced([['A', 3]]);
    const cancelled = orderPlaced([['A', 4]]);
    await publisher.publishBatch([declined, cancelled]);
    await published.waitFor('shoal.inventory.StockReserved', { count: 2 });
    expect(await call(host, 'GET', '/stock/A')).toMatchObject({ body: { available: 3, reserved: 7 } });

    // Declined: inventory hears PaymentDeclined, then the OrderCancelled orders emits for it.
    const decline = paymentDeclined(declined);
    await publisher.publish(decline);
    const [releasedOnDecline] = await published.waitFor('shoal.inventory.StockReleased', { subject: declined.data.orderId });
    expect(releasedOnDecline!.data).toEqual({ orderId: declined.data.orderId, lines: [{ sku: 'A', quantity: 3 }], reason: 'shoal.payments.PaymentDeclined', releasedAt: expect.any(Number) });
    expect(releasedOnDecline).toMatchObject({ causationid: decline.id, correlationid: declined.id });
    await publisher.publish(orderCancelled(declined, 'PAYMENT_DECLINED'));

    // Cancelled by the customer: OrderCancelled releases, a late PaymentDeclined does not release again.
    await publisher.publish(orderCancelled(cancelled));
    const [releasedOnCancel] = await published.waitFor('shoal.inventory.StockReleased', { subject: cancelled.data.orderId });
    expect(releasedOnCancel!.data.reason).toBe('shoal.orders.OrderCancelled');
    await publisher.publish(paymentDeclined(cancelled));

    // A failed reservation and an unknown order have nothing to give back.
    const failed = orderPlaced([['A', 99]]);
    await publisher.publish(failed);
    await published.waitFor('shoal.inventory.StockReservationFailed', { subject: failed.data.orderId });
    await publisher.publish(orderCancelled(failed, 'OUT_OF_STOCK'));
    await publisher.publish(paymentDeclined(orderPlaced([['A', 1]], { orderId: 'o-never-seen' })));

    // Redelivery: the same event ids again.
    await publisher.publishBatch([declined, cancelled]);
    await publisher.publish(decline);

    const counts = await eventually(async () => {
      const consumed = await consumedEvents(host);
      expect(consumed).toMatchObject({ handled: 9, duplicate: 3 });
      return consumed;
    });
    expect(counts.dead_lettered).toBe(0);
    expect(await call(host, 'GET', '/stock/A')).toMatchObject({ body: { available: 10, reserved: 0 } });
    expect(published.ofType('shoal.inventory.StockReleased')).toHaveLength(2);
    expect(published.ofType('shoal.inventory.StockReserved')).toHaveLength(2);
    expect((await call(host, 'GET', `/reservations/${declined.data.orderId}`)).body).toMatchObject({
      status: 'RELEASED',
      reason: 'shoal.payments.PaymentDeclined',
      releasedAt: expect.stringMatching(/^\d{4}-/),
    });
    expect((await call(host, 'GET', `/reservations/${failed.data.orderId}`)).body).toMatchObject({ status: 'FAILED' });
    expect(await call(host, 'GET', '/reservations/o-never-seen')).toMatchObject({ status: 404 });
  });

  it.skipIf(store.missing !== undefined)('keeps its stock and reservations across a restart on the same database, and resumes where it stopped', async () => {
    const platform = await startTestPlatform();
    const dataDir = tempDir('inventory-restart');
    const env = await store.env();
    const published = await watchTopics(platform, ['inventory.reservation']);
    const publisher = await publisherFor(platform);

    const first = await startTestService(configSpec, buildInventory, { platform, dataDir, env });
    await call(first.host, 'PUT', '/stock/A', { available: 5 });
    const held = orderPlaced([['A', 2]]);
    await publisher.publish(held);
    await published.waitFor('shoal.inventory.StockReserved', { subject: held.data.orderId });
    await first.host.stop();

    // Sent while the service is down: handled by the next start, from the group's committed offsets.
    const whileDown = orderPlaced([['A', 1]]);
    await publisher.publishBatch([whileDown, paymentDeclined(held)]);

    const second = await startTestService(configSpec, buildInventory, { platform, dataDir, env });
    await published.waitFor('shoal.inventory.StockReleased', { subject: held.data.orderId });
    await published.waitFor('shoal.inventory.StockReserved', { subject: whileDown.data.orderId });
    expect(await call(second.host, 'GET', '/stock/A')).toMatchObject({ body: { available: 4, reserved: 1 } });
    expect((await call(second.host, 'GET', `/reservations/${held.data.orderId}`)).body).toMatchObject({ status: 'RELEASED' });
    expect(await consumedEvents(second.host)).toMatchObject({ handled: 2, duplicate: 0 });
    expect(published.ofType('shoal.inventory.StockReserved')).toHaveLength(2);
  });
});
