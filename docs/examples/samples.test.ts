/**
 * Runs every doc sample of this folder against a real broker and registry, so that a sample which no longer
 * works fails here rather than in a reader's hands. (The order-tally service and the decider specification
 * are tests of their own.)
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEvent } from '@shoal/contract';
import { orderPlacedData, startTestPlatform } from '@shoal/contract/testing';
import { openTestDatabase } from '@shoal/store-sqlite/testing';
import { publisherFor, watchTopics } from '@shoal/service/testing';
import { eventually, tempDir, uniqueName } from '@shoal/testing';
import { placeAndHear } from './publish-and-subscribe.js';
import { collectOrdersPlaced } from './consumer-loop.js';
import { startReservations } from './reserve-stock.js';
import { placeAndConfirm } from './confirmation-decider.js';
import { runOrderSummaries } from './order-summaries.js';
import { produceAndConsume, withBroker } from './start-broker.js';
import { confirmOrder } from './transact.js';
import { outboxBacklog } from '@shoal/store-sqlite';

describe('doc samples', () => {
  it('publish-and-subscribe: a published OrderPlaced is heard, typed, with its envelope', async () => {
    const platform = await startTestPlatform();
    const order = orderPlacedData({ orderId: uniqueName('order') });
    const heard = await placeAndHear([platform.bootstrap], platform.registryUrl, order);
    expect(heard).toMatchObject({ type: 'shoal.orders.OrderPlaced', source: '/shoal/orders', subject: order.orderId });
    expect(heard.data.total).toEqual(order.total);
  });

  it('reserve-stock: the handler writes, and its StockReserved reaches the topic through the outbox', async () => {
    const platform = await startTestPlatform();
    const watch = await watchTopics(platform, ['inventory.reservation']);
    const reservations = await startReservations({ brokers: [platform.bootstrap], registryUrl: platform.registryUrl, dataDir: tempDir('reserve-stock'), group: uniqueName('inventory') });
    try {
      const orders = await publisherFor(platform);
      const placed = createEvent('shoal.orders.OrderPlaced', orderPlacedData({ orderId: 'o-1' }), { source: '/shoal/orders', subject: 'o-1' });
      await orders.publish(placed);
      const [reserved] = await watch.waitFor('shoal.inventory.StockReserved', { subject: 'o-1' });
      expect(reserved).toMatchObject({ causationid: placed.id, correlationid: placed.id, data: { orderId: 'o-1', total: placed.data.total } });
      expect(reservations.database.db.prepare('SELECT sku, quantity FROM reserved ORDER BY sku').all()).toEqual(
        placed.data.lines.map((line) => ({ sku: line.sku, quantity: line.quantity })),
      );
    } finally {
      await reservations.stop();
    }
  });

  it('confirmation-decider: two commands append two events to the stream and its outbox', async () => {
    const platform = await startTestPlatform();
    const database = openTestDatabase(platform.catalog);
    const { state, version, stream } = await placeAndConfirm(database, orderPlacedData({ orderId: 'o-2' }));
    expect(state.status).toBe('CONFIRMED');
    expect(version).toBe(2);
    expect(stream.events.map((recorded) => recorded.event.type)).toEqual(['shoal.orders.OrderPlaced', 'shoal.orders.OrderConfirmed']);
    expect(database.db.prepare('SELECT type FROM outbox ORDER BY sequence').pluck().all()).toEqual(['shoal.orders.OrderPlaced', 'shoal.orders.OrderConfirmed']);
  });

  it('transact: the row and its outbox entry commit together, and a refused event rolls both back', async () => {
    const platform = await startTestPlatform();
    const database = openTestDatabase(platform.catalog);
    const data = { orderId: 'o-4', customerId: 'c-1', paymentId: 'pay-4', total: { amount: 100, currency: 'EUR' }, confirmedAt: 1 };
    await confirmOrder(database, 'o-4', createEvent('shoal.orders.OrderConfirmed', data, { source: '/shoal/orders', subject: 'o-4' }));
    expect(database.db.prepare('SELECT status FROM orders WHERE id = ?').pluck().get('o-4')).toBe('CONFIRMED');
    expect(outboxBacklog(database.db)).toMatchObject({ publishedThrough: 0, backlog: 1 });

    const broken = createEvent('shoal.orders.OrderConfirmed', { ...data, orderId: 'o-5', total: { amount: 1, currency: 7 } } as never, { source: '/shoal/orders', subject: 'o-5' });
    await expect(confirmOrder(database, 'o-5', broken)).rejects.toThrow(expect.objectContaining({ code: 'SHOAL_EVENT_DATA_INVALID' }));
    expect(database.db.prepare('SELECT status FROM orders WHERE id = ?').pluck().get('o-5')).toBe('PLACED');
    expect(outboxBacklog(database.db).backlog).toBe(1);
  });

  it('consumer-loop: the OrderPlaced events of a topic reach the handler, the other types are skipped', async () => {
    const platform = await startTestPlatform();
    const orders = await publisherFor(platform);
    await orders.publish(createEvent('shoal.orders.OrderPlaced', orderPlacedData({ orderId: 'o-loop' }), { source: '/shoal/orders', subject: 'o-loop' }));
    await orders.publish(createEvent('shoal.orders.OrderConfirmed', { orderId: 'o-loop', customerId: 'c', paymentId: 'p', total: { amount: 1, currency: 'EUR' }, confirmedAt: 1 }, { source: '/shoal/orders', subject: 'o-loop' }));
    const { loop, orderIds } = await collectOrdersPlaced(platform.kafka(), platform.codec, 'orders.order', uniqueName('loop-sample'));
    try {
      await eventually(() => expect(loop.status().skipped).toBe(1), 'the OrderConfirmed skipped');
      expect(orderIds).toEqual(['o-loop']);
    } finally {
      await loop.stop();
    }
  });

  it('order-summaries: the projection is built, read, rebuilt and reported by the admin routes', async () => {
    const platform = await startTestPlatform();
    const orders = await publisherFor(platform);
    const placed = createEvent('shoal.orders.OrderPlaced', orderPlacedData({ orderId: 'o-3' }), { source: '/shoal/orders', subject: 'o-3' });
    await orders.publish(placed);
    const { projector, admin, statusOf } = await runOrderSummaries(platform.kafka(), platform.codec, join(tempDir('order-summaries'), 'projections'));
    try {
      await projector.whenCaughtUp();
      expect(await statusOf('o-3')).toBe('PLACED');

      const rebuild = await projector.rebuild({ from: 'beginning' });
      expect((await rebuild.done).state).toBe('swapped');
      expect(await statusOf('o-3')).toBe('PLACED');

      const status = await admin.inject({ method: 'GET', url: '/admin/projections/order-summaries' });
      expect(status.statusCode).toBe(200);
      expect(status.json()).toMatchObject({ name: 'order-summaries', state: 'running' });
      const unknown = await admin.inject({ method: 'GET', url: '/admin/projections/nope' });
      expect(unknown.json()).toMatchObject({ status: 404, code: 'SHOAL_PROJECTION_NOT_FOUND' });
      await eventually(() => expect(projector.status().lag).toBe(0));
    } finally {
      await admin.close();
      await projector.stop();
    }
  });

  it('start-broker: the embedded broker serves a plain kafkajs producer and consumer', async () => {
    const received = await withBroker(tempDir('start-broker'), (bootstrap) => produceAndConsume(bootstrap, 'demo'));
    expect(received).toBe('order-1=hello');
  });
});
