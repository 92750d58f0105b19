/**
 * The end-to-end scenarios of the reference choreography (docs/choreography.md), written once against `Shop` (the services' HTTP APIs) so the same
 * assertions run against the embedded platform (`shoal dev`) and against Apache Kafka (testcontainers). Each
 * scenario uses its own customers and SKUs, so scenarios share one running platform without interfering.
 */
import { expect } from 'vitest';
import { eventually, Random, uniqueName } from '@shoal/testing';
import { mapConcurrently, PLATFORM_WAIT, type OrderLine, type OrderStatus, type Shop } from './shop.js';

const FINAL: readonly OrderStatus[] = ['CONFIRMED', 'CANCELLED', 'SHIPPED'];

/** The order in order-view once it has reached `status`. */
export async function viewedAs(shop: Shop, orderId: string, status: OrderStatus, timeoutMs = 30_000) {
  return eventually(async () => {
    const order = await shop.viewOrder(orderId);
    expect(order?.status, `order-view status of ${orderId}`).toBe(status);
    return order!;
  }, { ...PLATFORM_WAIT, timeoutMs });
}

export async function happyPath(shop: Shop): Promise<void> {
  const sku = uniqueName('SKU-HAPPY');
  const customer = uniqueName('c-happy');
  await shop.setStock(sku, 10);
  await shop.setLimit(customer, 100_000, 'EUR');

  const placed = await shop.placeOrder(customer, [{ sku, quantity: 2, unitPrice: 1500 }]);
  expect(placed.status).toBe('PLACED');
  const confirmed = await viewedAs(shop, placed.orderId, 'CONFIRMED');
  expect(confirmed).toMatchObject({ customerId: customer, total: { amount: 3000, currency: 'EUR' } });
  await eventually(async () => expect((await shop.order(placed.orderId))?.status).toBe('CONFIRMED'), PLATFORM_WAIT);
  expect(await shop.stock(sku)).toEqual({ sku, available: 8, reserved: 2 });
  expect(await shop.payment(placed.orderId)).toMatchObject({ status: 'AUTHORIZED', amount: { amount: 3000, currency: 'EUR' } });
  expect(await shop.customer(customer)).toMatchObject({ used: 3000, available: 97_000 });

  const shipment = await eventually(async () => {
    const found = await shop.shipmentOf(placed.orderId);
    expect(found?.status).toBe('SCHEDULED');
    return found!;
  }, PLATFORM_WAIT);
  await shop.dispatch(shipment.shipmentId);
  const shipped = await viewedAs(shop, placed.orderId, 'SHIPPED');
  await eventually(async () => expect((await shop.order(placed.orderId))?.status).toBe('SHIPPED'), PLATFORM_WAIT);
  expect(shipped.trackingNumber).toMatch(/\S/);

  // The whole flow in the timeline: every service's part, in causal order where causality orders them.
  const timeline = await eventually(async () => {
    const order = await shop.viewOrder(placed.orderId);
    const types = order!.timeline!.map((entry) => entry.type);
    expect(types.filter((type) => type === 'shoal.notifications.CustomerNotified')).toHaveLength(3);
    expect(types).toContain('shoal.loyalty.PointsAwarded');
    return order!.timeline!;
  }, PLATFORM_WAIT);
  const types = timeline.map((entry) => entry.type);
  const chain = [
    'shoal.orders.OrderPlaced',
    'shoal.inventory.StockReserved',
    'shoal.payments.PaymentAuthorized',
    'shoal.orders.OrderConfirmed',
    'shoal.shipping.ShipmentScheduled',
    'shoal.shipping.ShipmentDispatched',
    'shoal.orders.OrderShipped',
    'shoal.loyalty.PointsAwarded',
  ];
  expect(chain.map((type) => types.indexOf(type))).toEqual([...chain.map((type) => types.indexOf(type))].sort((a, b) => a - b));
  expect(chain.every((type) => types.includes(type))).toBe(true);
  expect(new Set(timeline.map((entry) => entry.source))).toEqual(new Set(['/shoal/orders', '/shoal/inventory', '/shoal/payments', '/shoal/shipping', '/shoal/notifications', '/shoal/loyalty']));
  // The Python loyalty service: one point per whole unit of the total, 30.00 EUR.
  expect(await shop.points(customer)).toMatchObject({ customerId: customer, balance: 30, history: [{ orderId: placed.orderId, points: 30, kind: 'awarded' }] });

  const messages = await shop.notifications({ orderId: placed.orderId });
  expect(messages.map((message) => message.template).sort()).toEqual(['shoal.orders.OrderConfirmed', 'shoal.orders.OrderPlaced', 'shoal.orders.OrderShipped']);
}

export async function outOfStock(shop: Shop): Promise<void> {
  const sku = uniqueName('SKU-SHORT');
  const customer = uniqueName('c-short');
  await shop.setStock(sku, 1);
  await shop.setLimit(customer, 100_000, 'EUR');
  const placed = await shop.placeOrder(customer, [{ sku, quantity: 2, unitPrice: 700 }]);
  const cancelled = await viewedAs(shop, placed.orderId, 'CANCELLED');
  expect(cancelled.cancellation?.reason).toBe('OUT_OF_STOCK');
  expect(cancelled.cancellation?.detail).toContain(sku);
  expect((await shop.order(placed.orderId))?.cancellation?.reason).toBe('OUT_OF_STOCK');
  expect(await shop.stock(sku)).toEqual({ sku, available: 1, reserved: 0 });
  expect(await shop.payment(placed.orderId)).toBeUndefined();
  expect(cancelled.timeline!.map((entry) => entry.type)).toContain('shoal.inventory.StockReservationFailed');
}

export async function declinedPayment(shop: Shop): Promise<void> {
  const sku = uniqueName('SKU-DECLINE');
  const customer = uniqueName('c-poor');
  await shop.setStock(sku, 5);
  await shop.setLimit(customer, 1000, 'EUR');
  const placed = await shop.placeOrder(customer, [{ sku, quantity: 2, unitPrice: 1500 }]);
  const cancelled = await viewedAs(shop, placed.orderId, 'CANCELLED');
  expect(cancelled.cancellation?.reason).toBe('PAYMENT_DECLINED');
  expect(await shop.payment(placed.orderId)).toMatchObject({ status: 'DECLINED' });
  // Compensation: the reservation made before the payment was declined is given back.
  await eventually(async () => expect(await shop.stock(sku)).toEqual({ sku, available: 5, reserved: 0 }), PLATFORM_WAIT);
  await eventually(async () => {
    const types = (await shop.viewOrder(placed.orderId))!.timeline!.map((entry) => entry.type);
    expect(types).toEqual(expect.arrayContaining(['shoal.inventory.StockReserved', 'shoal.payments.PaymentDeclined', 'shoal.inventory.StockReleased', 'shoal.orders.OrderCancelled']));
    expect(types.filter((type) => type === 'shoal.inventory.StockReleased')).toHaveLength(1);
  }, PLATFORM_WAIT);
  expect(await shop.customer(customer)).toMatchObject({ used: 0 });
}

export async function cancelAfterConfirmation(shop: Shop): Promise<void> {
  const sku = uniqueName('SKU-CANCEL');
  const customer = uniqueName('c-cancel');
  await shop.setStock(sku, 4);
  await shop.setLimit(customer, 50_000, 'EUR');
  const placed = await shop.placeOrder(customer, [{ sku, quantity: 3, unitPrice: 999 }]);
  await viewedAs(shop, placed.orderId, 'CONFIRMED');
  await eventually(async () => expect((await shop.order(placed.orderId))?.status).toBe('CONFIRMED'), PLATFORM_WAIT);
  await eventually(async () => expect((await shop.shipmentOf(placed.orderId))?.status).toBe('SCHEDULED'), PLATFORM_WAIT);

  const cancel = await shop.cancelOrder(placed.orderId);
  expect(cancel.status).toBe(200);
  expect(cancel.body.status).toBe('CANCELLED');
  const cancelled = await viewedAs(shop, placed.orderId, 'CANCELLED');
  expect(cancelled.cancellation?.reason).toBe('CUSTOMER_REQUEST');
  await eventually(async () => {
    expect(await shop.payment(placed.orderId)).toMatchObject({ status: 'REFUNDED' });
    expect(await shop.stock(sku)).toEqual({ sku, available: 4, reserved: 0 });
    expect((await shop.shipmentOf(placed.orderId))?.status).toBe('CANCELLED');
    expect(await shop.customer(customer)).toMatchObject({ used: 0, available: 50_000 });
  }, PLATFORM_WAIT);
  await eventually(async () => {
    const types = (await shop.viewOrder(placed.orderId))!.timeline!.map((entry) => entry.type);
    expect(types).toEqual(expect.arrayContaining(['shoal.payments.PaymentRefunded', 'shoal.inventory.StockReleased', 'shoal.shipping.ShipmentCancelled']));
  }, PLATFORM_WAIT);
  const templates = (await shop.notifications({ orderId: placed.orderId })).map((message) => message.template);
  await eventually(async () => {
    const now = (await shop.notifications({ orderId: placed.orderId })).map((message) => message.template).sort();
    expect(now).toEqual(['shoal.orders.OrderCancelled', 'shoal.orders.OrderConfirmed', 'shoal.orders.OrderPlaced', 'shoal.payments.PaymentRefunded']);
  }, PLATFORM_WAIT);
  expect(templates.length).toBeGreaterThan(0);

  // Nothing can be cancelled after dispatch: ship another order and try.
  const second = await shop.placeOrder(customer, [{ sku, quantity: 1, unitPrice: 100 }]);
  await viewedAs(shop, second.orderId, 'CONFIRMED');
  const shipment = await eventually(async () => {
    const found = await shop.shipmentOf(second.orderId);
    expect(found?.status).toBe('SCHEDULED');
    return found!;
  }, PLATFORM_WAIT);
  await shop.dispatch(shipment.shipmentId);
  await eventually(async () => expect((await shop.order(second.orderId))?.status).toBe('SHIPPED'), PLATFORM_WAIT);
  const refused = await shop.cancelOrder(second.orderId);
  expect(refused.status).toBe(409);
  expect(refused.body).toMatchObject({ code: 'SHOAL_COMMAND_REJECTED' });
}

export interface Burst {
  skus: Map<string, number>;
  customers: Map<string, number>;
  orders: { orderId: string; customerId: string; lines: OrderLine[] }[];
  /** POSTs the service refused or could not answer (only while a service it needs is down). */
  refused: number;
}

/**
 * `count` orders placed concurrently by a few customers over a few SKUs whose stock covers about a third of
 * what is asked, with credit limits that decline some: every outcome of the choreography happens at once.
 */
export async function placeBurst(shop: Shop, options: { count: number; seed: number; concurrency?: number; onProgress?: (placed: number) => void }): Promise<Burst> {
  // Seeded, so a failing burst replays exactly.
  const rng = new Random(options.seed);
  const random = () => rng.next();
  const tag = uniqueName('burst');
  const skus = new Map(Array.from({ length: 5 }, (_, i) => [`${tag}-SKU-${i}`, 60 + i * 10] as const));
  const customers = new Map(Array.from({ length: 20 }, (_, i) => [`${tag}-c${i}`, i % 4 === 0 ? 5_000 : 1_000_000] as const));
  for (const [sku, level] of skus) await shop.setStock(sku, level);
  for (const [customer, limit] of customers) await shop.setLimit(customer, limit, 'EUR');
  const skuNames = [...skus.keys()];
  const customerNames = [...customers.keys()];
  const planned = Array.from({ length: options.count }, () => {
    const lineCount = 1 + Math.floor(random() * 2);
    const lines = Array.from({ length: lineCount }, () => ({
      sku: skuNames[Math.floor(random() * skuNames.length)]!,
      quantity: 1 + Math.floor(random() * 3),
      unitPrice: 100 + Math.floor(random() * 2000),
    }));
    return { customerId: customerNames[Math.floor(random() * customerNames.length)]!, lines };
  });
  let refused = 0;
  let placed = 0;
  const results = await mapConcurrently(planned, options.concurrency ?? 50, async (order) => {
    try {
      const { orderId } = await shop.placeOrder(order.customerId, order.lines);
      options.onProgress?.(++placed);
      return { orderId, ...order };
    } catch {
      refused++;
      return undefined;
    }
  });
  return { skus, customers, orders: results.filter((order) => order !== undefined), refused };
}

/** The choreography's invariants (docs/choreography.md, "What each service guarantees") over a burst, polled until they hold (the flow is asynchronous). */
export async function burstInvariants(shop: Shop, burst: Burst, timeoutMs = 120_000): Promise<void> {
  // Every order reaches a final state, in orders' own aggregate and in order-view.
  const finals = await eventually(
    async () => {
      const statuses = await mapConcurrently(burst.orders, 20, async ({ orderId }) => (await shop.order(orderId))?.status);
      const pending = statuses.filter((status) => status === undefined || !FINAL.includes(status)).length;
      expect(pending, 'orders not yet final in the orders service').toBe(0);
      return new Map(burst.orders.map(({ orderId }, i) => [orderId, statuses[i]!]));
    },
    { timeoutMs, intervalMs: 500 },
  );
  await eventually(
    async () => {
      const viewed = new Map<string, OrderStatus>();
      for (const customerId of burst.customers.keys()) {
        for (const order of await shop.viewOrders({ customerId })) viewed.set(order.orderId, order.status);
      }
      const differing = burst.orders.filter(({ orderId }) => viewed.get(orderId) !== finals.get(orderId)).length;
      expect(differing, 'orders whose order-view status differs from the orders service').toBe(0);
    },
    { timeoutMs, intervalMs: 500 },
  );

  await eventually(
    async () => {
      // Stock never negative; available + reserved conserved; what is reserved is exactly the confirmed orders' lines.
      const reservedByConfirmed = new Map<string, number>();
      for (const order of burst.orders) {
        if (finals.get(order.orderId) !== 'CONFIRMED') continue;
        for (const line of order.lines) reservedByConfirmed.set(line.sku, (reservedByConfirmed.get(line.sku) ?? 0) + line.quantity);
      }
      for (const [sku, level] of burst.skus) {
        const stock = await shop.stock(sku);
        expect(stock.available, `${sku} available`).toBeGreaterThanOrEqual(0);
        expect(stock.reserved, `${sku} reserved`).toBeGreaterThanOrEqual(0);
        expect(stock.available + stock.reserved, `${sku} available + reserved`).toBe(level);
        expect(stock.reserved, `${sku} reserved = confirmed quantities`).toBe(reservedByConfirmed.get(sku) ?? 0);
      }

      // Every authorized payment belongs to a confirmed order (none were cancelled after confirmation here);
      // a customer's used credit is exactly its confirmed totals and never above its limit.
      const usedByCustomer = new Map<string, number>();
      const payments = await mapConcurrently(burst.orders, 20, async (order) => [order, await shop.payment(order.orderId)] as const);
      for (const [order, payment] of payments) {
        const status = finals.get(order.orderId);
        if (payment?.status === 'AUTHORIZED') {
          expect(status, `order of authorized payment ${payment.paymentId}`).toBe('CONFIRMED');
          usedByCustomer.set(order.customerId, (usedByCustomer.get(order.customerId) ?? 0) + payment.amount.amount);
        }
        if (status === 'CONFIRMED') expect(payment?.status, `payment of confirmed ${order.orderId}`).toBe('AUTHORIZED');
        if (payment?.status === 'REFUNDED') expect(status).toBe('CANCELLED');
      }
      for (const [customerId, limit] of burst.customers) {
        const account = await shop.customer(customerId);
        expect(account.used, `${customerId} used credit`).toBe(usedByCustomer.get(customerId) ?? 0);
        expect(account.used).toBeLessThanOrEqual(limit);
      }

      // One notification per customer-visible event: placed, then confirmed or cancelled.
      let notified = 0;
      for (const customerId of burst.customers.keys()) notified += (await shop.notifications({ customerId })).length;
      expect(notified, 'notifications').toBe(burst.orders.length * 2);
    },
    { timeoutMs, intervalMs: 1000 },
  );

  const outcomes = new Set(finals.values());
  expect(outcomes.has('CONFIRMED') && outcomes.has('CANCELLED'), 'a burst that exercises both outcomes').toBe(true);
}

/**
 * The loyalty service over a burst whose orders reached their final state: some confirmed orders shipped,
 * some cancelled by their customer (refunded), and then each customer's points are exactly the shipped
 * totals (a point per whole unit) minus what refunds of shipped orders took back, which is nothing here:
 * a shipped order cannot be cancelled. `share` of the confirmed orders is shipped, as many again cancelled.
 */
export async function loyaltyInvariants(shop: Shop, burst: Burst, share = 0.3, timeoutMs = 120_000): Promise<void> {
  const confirmed = [];
  for (const order of burst.orders) if ((await shop.order(order.orderId))?.status === 'CONFIRMED') confirmed.push(order);
  const count = Math.max(1, Math.floor(confirmed.length * share));
  const toShip = confirmed.slice(0, count);
  const toCancel = confirmed.slice(count, 2 * count);
  await mapConcurrently(toShip, 20, async ({ orderId }) => {
    const shipment = await eventually(async () => {
      const found = await shop.shipmentOf(orderId);
      expect(found?.status).toBe('SCHEDULED');
      return found!;
    }, PLATFORM_WAIT);
    await shop.dispatch(shipment.shipmentId);
  });
  await mapConcurrently(toCancel, 20, ({ orderId }) => shop.cancelOrder(orderId));
  const totals = new Map<string, number>();
  await eventually(
    async () => {
      const statuses = await mapConcurrently([...toShip, ...toCancel], 20, async ({ orderId }) => (await shop.order(orderId))?.status);
      expect(statuses.slice(0, toShip.length).every((status) => status === 'SHIPPED'), 'shipped orders').toBe(true);
      expect(statuses.slice(toShip.length).every((status) => status === 'CANCELLED'), 'cancelled orders').toBe(true);
    },
    { timeoutMs, intervalMs: 500 },
  );
  for (const order of toShip) {
    const total = order.lines.reduce((sum, line) => sum + line.quantity * line.unitPrice, 0);
    totals.set(order.customerId, (totals.get(order.customerId) ?? 0) + Math.floor(total / 100));
  }
  await eventually(
    async () => {
      for (const customerId of burst.customers.keys()) {
        const points = await shop.points(customerId);
        expect(points.balance, `${customerId} points`).toBe(totals.get(customerId) ?? 0);
        expect(points.history.filter((entry) => entry.kind === 'revoked'), `${customerId} revocations`).toEqual([]);
      }
    },
    { timeoutMs, intervalMs: 1000 },
  );
  // Every refunded order of the burst is one that never shipped: its points were never there to take back.
  for (const { orderId } of toCancel) expect((await shop.payment(orderId))?.status).toBe('REFUNDED');
}
