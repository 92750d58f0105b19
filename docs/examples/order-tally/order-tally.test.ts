/**
 * The sample service of docs/writing-a-service.md, tested the way the reference services are: its real
 * `build` function on a real broker and registry, driven over HTTP, with another service played by a
 * publisher.
 */
// #region test
import { describe, expect, it } from 'vitest';
import { createEvent } from '@shoal/contract';
import { orderPlacedData } from '@shoal/contract/testing';
import { publisherFor, serviceStores, startTestService } from '@shoal/service/testing';
import { eventually } from '@shoal/testing';
import { buildOrderTally } from './app.js';
import { configSpec } from './config.js';

// On both stores: its SQLite file, and a new PostgreSQL database through DATABASE_URL.
describe.each(serviceStores)('order-tally on $name', (store) => {
  it.skipIf(store.missing !== undefined)('counts the orders each customer places, large ones apart', async () => {
    const env = { ...(await store.env()), ORDER_TALLY_LARGE_AMOUNT: '5000' };
    const { host, platform } = await startTestService(configSpec, buildOrderTally, { env });
    const orders = await publisherFor(platform); // plays the orders service
    for (const [orderId, amount] of [['o-1', 1000], ['o-2', 9000]] as const) {
      const data = orderPlacedData({ orderId, customerId: 'c-1', total: { amount, currency: 'EUR' } });
      await orders.publish(createEvent('shoal.orders.OrderPlaced', data, { source: '/shoal/orders', subject: orderId }));
    }

    await eventually(async () => {
      const response = await host.app.inject({ method: 'GET', url: '/customers/c-1/tally' });
      expect(response.json()).toEqual({ customerId: 'c-1', orders: 2, largeOrders: 1 });
    });
    const unknown = await host.app.inject({ method: 'GET', url: '/customers/nobody/tally' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ code: 'SHOAL_NOT_FOUND', customerId: 'nobody' });
  });
});
// #endregion test
