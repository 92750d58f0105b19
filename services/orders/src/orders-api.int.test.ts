import { watchTopics } from '@shoal/service/testing';
import { describe, expect, it, onTestFinished } from 'vitest';
import { loadSchemaCatalog } from '@shoal/contract';
import { EventStore } from '@shoal/eventstore';
import { createServiceApp, createServiceLogger } from '@shoal/service';
import { openTestPostgresDatabase, storeAdapters, testPostgresDatabaseUrl } from '@shoal/store-postgres/testing';
import { uniqueName, eventually } from '@shoal/testing';
import { orderRoutes } from './order/order-routes.js';
import { getOrder, orderRequest, placeOrder, startOrders, typesOf } from './testing/orders.js';

const postgres = storeAdapters.find((adapter) => adapter.name === 'postgres')!;

/**
 * The orders API through fastify's inject, on the real service: its database in a temp dir, its outbox relay
 * publishing to a real broker with a real registry, and what it publishes read back from `orders.order`.
 */
const address = { line1: '1 rue de la Paix', city: 'Paris', postalCode: '75002', country: 'FR' };
const uuidV7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('orders API', () => {
  it('places an order: 201 with its Location and ETag, OrderPlaced on orders.order keyed by the order, and GET shows it', async () => {
    const { host, platform } = await startOrders();
    const published = await watchTopics(platform, ['orders.order']);

    const placed = await host.app.inject({ method: 'POST', url: '/orders', payload: orderRequest({ shippingAddress: address }) });
    expect(placed.statusCode, placed.body).toBe(201);
    const { orderId } = placed.json();
    expect(orderId).toMatch(uuidV7);
    expect(placed.json()).toEqual({ orderId, status: 'PLACED', total: { amount: 3990, currency: 'EUR' } });
    expect(placed.headers.location).toBe(`/orders/${orderId}`);
    expect(placed.headers.etag).toBe('"1"');

    const shown = await getOrder(host, orderId);
    expect(shown.statusCode).toBe(200);
    expect(shown.etag).toBe('"1"');
    expect(shown.body).toEqual({
      orderId,
      status: 'PLACED',
      customerId: 'c1',
      currency: 'EUR',
      lines: [
        { sku: 'SKU-1', quantity: 2, unitPrice: 1500 },
        { sku: 'SKU-2', quantity: 1, unitPrice: 990 },
      ],
      total: { amount: 3990, currency: 'EUR' },
      shippingAddress: { ...address, line2: null },
      placedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
      version: 1,
    });
    expect(Math.abs(Date.parse(shown.body.placedAt as string) - Date.now())).toBeLessThan(60_000);

    const [received] = await published.waitFor('shoal.orders.OrderPlaced', { subject: orderId });
    expect(received).toMatchObject({
      type: 'shoal.orders.OrderPlaced',
      source: '/shoal/orders',
      subject: orderId,
      partitionkey: orderId,
      correlationid: received!.id,
      data: {
        orderId,
        customerId: 'c1',
        lines: [
          { sku: 'SKU-1', quantity: 2, unitPrice: { amount: 1500, currency: 'EUR' } },
          { sku: 'SKU-2', quantity: 1, unitPrice: { amount: 990, currency: 'EUR' } },
        ],
        total: { amount: 3990, currency: 'EUR' },
        shippingAddress: { ...address, line2: null },
        placedAt: Date.parse(shown.body.placedAt as string),
      },
    });
    expect(received!.causationid).toBeUndefined();

    const withoutAddress = await placeOrder(host, { customerId: 'c2' });
    const other = await getOrder(host, withoutAddress);
    expect(other.body).toMatchObject({ orderId: withoutAddress, customerId: 'c2' });
    expect(other.body).not.toHaveProperty('shippingAddress');
  });

  it("places a client-chosen order id once: the same body again is 200 with the order as it is, another body 409", async () => {
    const { host, platform } = await startOrders();
    const published = await watchTopics(platform, ['orders.order']);
    const orderId = uniqueName('client-order');
    const post = (body: Record<string, unknown>) => host.app.inject({ method: 'POST', url: '/orders', payload: body });

    const first = await post(orderRequest({ orderId }));
    expect(first.statusCode).toBe(201);
    expect(first.json()).toEqual({ orderId, status: 'PLACED', total: { amount: 3990, currency: 'EUR' } });

    const retry = await post(orderRequest({ orderId }));
    expect(retry.statusCode).toBe(200);
    expect(retry.headers.etag).toBe('"1"');
    expect(retry.json()).toMatchObject({ orderId, status: 'PLACED', customerId: 'c1', version: 1 });

    await host.app.inject({ method: 'POST', url: `/orders/${orderId}/cancel` });
    const afterCancel = await post(orderRequest({ orderId }));
    expect(afterCancel.statusCode).toBe(200);
    expect(afterCancel.json()).toMatchObject({ orderId, status: 'CANCELLED', version: 2 });

    const conflict = await post(orderRequest({ orderId, customerId: 'someone-else' }));
    expect(conflict.statusCode).toBe(409);
    expect(conflict.headers['content-type']).toContain('application/problem+json');
    expect(conflict.json()).toMatchObject({ code: 'SHOAL_COMMAND_REJECTED', status: 409, orderId });
    expect((await post(orderRequest({ orderId, lines: [{ sku: 'SKU-1', quantity: 3, unitPrice: 1500 }] }))).statusCode).toBe(409);

    // Retries racing each other: each reads "no order", one append wins, the others read again and see it.
    const racedId = uniqueName('raced-order');
    const raced = await Promise.all(Array.from({ length: 6 }, () => post(orderRequest({ orderId: racedId }))));
    expect(raced.map((response) => response.statusCode).sort()).toEqual([200, 200, 200, 200, 200, 201]);

    await eventually(() => {
      expect(typesOf(published, orderId)).toEqual(['shoal.orders.OrderPlaced', 'shoal.orders.OrderCancelled']);
      expect(typesOf(published, racedId)).toEqual(['shoal.orders.OrderPlaced']);
    });
  });

  it("cancels at the customer's request with their reason, once: a repeated cancel changes nothing", async () => {
    const { host, platform } = await startOrders();
    const published = await watchTopics(platform, ['orders.order']);
    const orderId = await placeOrder(host);

    const cancelled = await host.app.inject({ method: 'POST', url: `/orders/${orderId}/cancel`, payload: { reason: 'found it cheaper' } });
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    expect(cancelled.headers.etag).toBe('"2"');
    expect(cancelled.json()).toMatchObject({ orderId, status: 'CANCELLED', cancellation: { reason: 'CUSTOMER_REQUEST', detail: 'found it cheaper' }, version: 2 });

    const again = await host.app.inject({ method: 'POST', url: `/orders/${orderId}/cancel`, payload: { reason: 'really' } });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ status: 'CANCELLED', cancellation: { detail: 'found it cheaper' }, version: 2 });

    const noReason = await placeOrder(host);
    const plain = await host.app.inject({ method: 'POST', url: `/orders/${noReason}/cancel` });
    expect(plain.statusCode).toBe(200);
    expect(plain.json().cancellation).toEqual({ reason: 'CUSTOMER_REQUEST', detail: 'cancelled by the customer' });

    await eventually(() => {
      expect(typesOf(published, orderId)).toEqual(['shoal.orders.OrderPlaced', 'shoal.orders.OrderCancelled']);
      expect(typesOf(published, noReason)).toEqual(['shoal.orders.OrderPlaced', 'shoal.orders.OrderCancelled']);
    });
    const [cancelledEvent] = published.ofType('shoal.orders.OrderCancelled', { subject: orderId });
    expect(cancelledEvent).toMatchObject({
      subject: orderId,
      data: { orderId, customerId: 'c1', reason: 'CUSTOMER_REQUEST', detail: 'found it cheaper' },
    });
    // A customer's cancel is a command of its own, not caused by an event: it starts its own correlation.
    expect(cancelledEvent!.correlationid).toBe(cancelledEvent!.id);
  });

  it('refuses invalid requests with 400 problem+json naming the field, unknown orders with 404, and emits nothing for them', async () => {
    const { host, platform } = await startOrders();
    const published = await watchTopics(platform, ['orders.order']);
    const line = { sku: 'SKU-1', quantity: 1, unitPrice: 100 };
    const invalidBodies: [string, Record<string, unknown>][] = [
      ['customerId', orderRequest({ customerId: undefined })],
      ['customerId', orderRequest({ customerId: '' })],
      ['customerId', orderRequest({ customerId: 'c'.repeat(101) })],
      ['currency', orderRequest({ currency: 'eur' })],
      ['currency', orderRequest({ currency: 'EURO' })],
      ['lines', orderRequest({ lines: [] })],
      ['lines', orderRequest({ lines: Array.from({ length: 101 }, () => line) })],
      ['sku', orderRequest({ lines: [{ ...line, sku: '' }] })],
      ['sku', orderRequest({ lines: [{ ...line, sku: 'S'.repeat(65) }] })],
      ['quantity', orderRequest({ lines: [{ ...line, quantity: 0 }] })],
      ['quantity', orderRequest({ lines: [{ ...line, quantity: 1.5 }] })],
      ['quantity', orderRequest({ lines: [{ ...line, quantity: 100_001 }] })],
      ['unitPrice', orderRequest({ lines: [{ ...line, unitPrice: -1 }] })],
      ['unitPrice', orderRequest({ lines: [{ ...line, unitPrice: 9.99 }] })],
      ['unitPrice', orderRequest({ lines: [{ sku: 'SKU-1', quantity: 1 }] })],
      ['orderId', orderRequest({ orderId: '' })],
      ['orderId', orderRequest({ orderId: 'o'.repeat(101) })],
      ['country', orderRequest({ shippingAddress: { ...address, country: 'France' } })],
      ['extra', orderRequest({ discount: 10 })],
      ['extra', orderRequest({ lines: [{ ...line, colour: 'red' }] })],
      ['extra', orderRequest({ shippingAddress: { ...address, floor: 3 } })],
    ];
    for (const [field, payload] of invalidBodies) {
      const response = await host.app.inject({ method: 'POST', url: '/orders', payload });
      expect(response.statusCode, `${field}: ${JSON.stringify(payload).slice(0, 120)}`).toBe(400);
      expect(response.headers['content-type']).toContain('application/problem+json');
      const problem = response.json();
      expect(problem).toMatchObject({ code: 'SHOAL_REQUEST_INVALID', status: 400 });
      expect(problem.errors[0].path).toMatch(/^body/);
      if (field !== 'extra') expect(JSON.stringify(problem.errors)).toContain(field);
    }
    const malformed = await host.app.inject({ method: 'POST', url: '/orders', payload: '{"customerId": ', headers: { 'content-type': 'application/json' } });
    expect(malformed.json()).toMatchObject({ status: 400, code: 'SHOAL_REQUEST_INVALID' });
    const tooLarge = await host.app.inject({ method: 'POST', url: '/orders', payload: orderRequest({ lines: [{ sku: 'SKU-1', quantity: 100_000, unitPrice: Number.MAX_SAFE_INTEGER }] }) });
    expect(tooLarge.json()).toMatchObject({ status: 400, code: 'SHOAL_REQUEST_INVALID' });

    const orderId = await placeOrder(host);
    for (const payload of [{ reason: '' }, { reason: 'x', refund: false }]) {
      const response = await host.app.inject({ method: 'POST', url: `/orders/${orderId}/cancel`, payload });
      expect(response.json()).toMatchObject({ status: 400, code: 'SHOAL_REQUEST_INVALID' });
    }
    // An id longer than any order's is refused by fastify's path parameter limit, before the route.
    expect((await host.app.inject({ method: 'GET', url: `/orders/${'x'.repeat(101)}` })).json()).toMatchObject({ status: 414, code: 'SHOAL_REQUEST_INVALID' });

    const unknown = await getOrder(host, 'no-such-order');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.body).toMatchObject({ code: 'SHOAL_NOT_FOUND', detail: 'No order no-such-order', instance: '/orders/no-such-order' });
    const cancelUnknown = await host.app.inject({ method: 'POST', url: '/orders/no-such-order/cancel' });
    expect(cancelUnknown.statusCode).toBe(404);
    expect(cancelUnknown.json()).toMatchObject({ code: 'SHOAL_NOT_FOUND' });

    expect((await getOrder(host, orderId)).body).toMatchObject({ status: 'PLACED', version: 1 });
    await published.waitFor('shoal.orders.OrderPlaced', { subject: orderId });
    expect(published.all().map((event) => event.subject)).toEqual([orderId]);
  });
});

/**
 * The same routes on PostgreSQL, as two instances of the service share it: each with its own pool and event
 * store on one database, each its own fastify app (the host's, through createServiceApp), no broker (the
 * subscription is not part of this, and the relay's publishing is tested in @shoal/outbox).
 */
describe.skipIf(postgres.missing !== undefined)('orders API on PostgreSQL, two instances on one database', () => {
  async function instance(url: string) {
    const database = await openTestPostgresDatabase(loadSchemaCatalog(), { url, service: 'orders' });
    const store = await EventStore.open(database, { source: '/shoal/orders' });
    const logger = createServiceLogger('orders', 'silent');
    const app = createServiceApp({ logger });
    await app.register(orderRoutes(store, { logger }));
    onTestFinished(() => app.close());
    return { database, app };
  }

  it('places once across instances racing one client-chosen id, cancels on one, shows it on the other, one outbox row per event', async () => {
    const url = await testPostgresDatabaseUrl();
    const [one, two] = [await instance(url), await instance(url)];
    const orderId = uniqueName('client-order');
    const post = (target: typeof one, body: Record<string, unknown>) => target.app.inject({ method: 'POST', url: '/orders', payload: body });

    const raced = await Promise.all(Array.from({ length: 6 }, (_, n) => post(n % 2 === 0 ? one : two, orderRequest({ orderId }))));
    expect(raced.map((response) => response.statusCode).sort()).toEqual([200, 200, 200, 200, 200, 201]);

    const cancelled = await one.app.inject({ method: 'POST', url: `/orders/${orderId}/cancel`, payload: { reason: 'found it cheaper' } });
    expect([cancelled.statusCode, cancelled.headers.etag]).toEqual([200, '"2"']);
    const shown = await two.app.inject({ method: 'GET', url: `/orders/${orderId}` });
    expect(shown.statusCode).toBe(200);
    expect(shown.json()).toMatchObject({ orderId, status: 'CANCELLED', cancellation: { detail: 'found it cheaper' }, version: 2 });
    expect((await post(two, orderRequest({ orderId, customerId: 'someone-else' }))).statusCode).toBe(409);
    expect((await two.app.inject({ method: 'GET', url: '/orders/no-such-order' })).statusCode).toBe(404);

    const rows = await one.database.sql.all<{ type: string; aggregateid: string }>('SELECT type, aggregateid FROM outbox ORDER BY sequence');
    expect(rows).toEqual([
      { type: 'shoal.orders.OrderPlaced', aggregateid: orderId },
      { type: 'shoal.orders.OrderCancelled', aggregateid: orderId },
    ]);
  });
});
