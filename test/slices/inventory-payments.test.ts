import { eventually, seededRandom } from '@shoal/testing';
import { describe, expect, it } from 'vitest';
import { startTestPlatform } from '@shoal/contract/testing';
import { call, consumedEvents, publisherFor, serviceStores, startTestService, watchTopics, type ServiceStore } from '@shoal/service/testing';
import { buildInventory, configSpec as inventorySpec } from '@shoal/service-inventory';
import { buildPayments, configSpec as paymentsSpec } from '@shoal/service-payments';
import { orderPlaced, type PlacedOrder } from '@shoal/service-inventory/testing';

/**
 * A slice of the choreography, in test/ because services never import each other: inventory and payments as
 * they run in production, each with its own database and consumer group, on one broker, reacting to each other's
 * events. The test plays the orders service: it publishes OrderPlaced and reads what follows.
 *
 * On PostgreSQL each service runs as two instances on its one database, sharing its consumer group: the
 * partitions are spread over them, so two instances decide on the same skus and the same customer at once.
 */
async function startSlice(store: ServiceStore = serviceStores[0]!, instances = 1) {
  const platform = await startTestPlatform();
  const [inventoryEnv, paymentsEnv] = await Promise.all([store.env(), store.env()]);
  const started = await Promise.all(
    Array.from({ length: instances }, () => [
      startTestService(inventorySpec, buildInventory, { platform, env: inventoryEnv }),
      startTestService(paymentsSpec, buildPayments, { platform, env: paymentsEnv }),
    ]).flat(),
  );
  const published = await watchTopics(platform, ['inventory.reservation', 'payments.payment']);
  const publisher = await publisherFor(platform);
  const hosts = started.map((service) => service.host);
  return { platform, inventory: hosts[0]!, payments: hosts[1]!, inventories: hosts.filter((_, i) => i % 2 === 0), published, publisher };
}

/** The stress case on SQLite (one instance per service, its file) and on PostgreSQL (two instances each, one database). */
const stressRuns = [
  { store: serviceStores[0]!, instances: 1 },
  { store: serviceStores[1]!, instances: 2 },
];

describe('inventory and payments together', () => {
  it('reserves then authorizes an order; a declined payment gives the stock back', async () => {
    const { inventory, payments, published, publisher } = await startSlice();
    await call(inventory, 'PUT', '/stock/A', { available: 10 });
    await call(payments, 'PUT', '/customers/c-rich/limit', { limit: 100_000, currency: 'EUR' });

    const paid = orderPlaced([['A', 3]], { customerId: 'c-rich', unitPrice: 1500 });
    const unpaid = orderPlaced([['A', 4]], { customerId: 'c-poor', unitPrice: 1500 });
    await publisher.publishBatch([paid, unpaid]);

    const [reserved] = await published.waitFor('shoal.inventory.StockReserved', { subject: paid.data.orderId });
    const [authorized] = await published.waitFor('shoal.payments.PaymentAuthorized', { subject: paid.data.orderId });
    expect(authorized!.data.amount).toEqual({ amount: 4500, currency: 'EUR' });
    // One flow: the same correlation id throughout, each event caused by the one before.
    expect(authorized).toMatchObject({ correlationid: paid.id, causationid: reserved!.id });

    const [declined] = await published.waitFor('shoal.payments.PaymentDeclined', { subject: unpaid.data.orderId });
    expect(declined!.data.reason).toBe('no credit limit set for customer c-poor');
    const [released] = await published.waitFor('shoal.inventory.StockReleased', { subject: unpaid.data.orderId });
    expect(released).toMatchObject({ correlationid: unpaid.id, causationid: declined!.id, data: { lines: [{ sku: 'A', quantity: 4 }], reason: 'shoal.payments.PaymentDeclined' } });

    expect(await call(inventory, 'GET', '/stock/A')).toMatchObject({ body: { available: 7, reserved: 3 } });
    expect((await call(inventory, 'GET', `/reservations/${unpaid.data.orderId}`)).body).toMatchObject({ status: 'RELEASED' });
    expect((await call(payments, 'GET', '/customers/c-rich')).body).toMatchObject({ used: 4500 });
  });

  describe.each(stressRuns)('on $store.name, $instances instance(s) of each', ({ store, instances }) => {
    it.skipIf(store.missing !== undefined)('never oversells 50 units to 200 concurrent orders, and conserves every unit through declines and releases', async () => {
      const { inventory, payments, inventories, published, publisher } = await startSlice(store, instances);
      const initial: Record<string, number> = { P1: 30, P2: 20 };
      for (const [sku, available] of Object.entries(initial)) await call(inventory, 'PUT', `/stock/${sku}`, { available });
      await call(payments, 'PUT', '/customers/c-rich/limit', { limit: 10_000_000, currency: 'EUR' });

      // A seeded mix (SHOAL_FUZZ_SEED replays it): 1 or 2 lines of 1 to 3 units; one order in four from a customer without a limit.
      const random = seededRandom();
      const orders: PlacedOrder[] = Array.from({ length: 200 }, (_, i) => {
        const lines = Array.from({ length: random.int(1, 2) }, () => [random.pick(['P1', 'P2']), random.int(1, 3)] as const);
        return orderPlaced(lines, { customerId: i % 4 === 3 ? 'c-none' : 'c-rich' });
      });
      await Promise.all(orders.map((order) => publisher.publish(order)));

      // Every order decided by inventory, every reservation decided by payments, every decline compensated.
      const decided = await eventually(() => {
        const reserved = published.ofType('shoal.inventory.StockReserved');
        const failed = published.ofType('shoal.inventory.StockReservationFailed');
        const authorized = published.ofType('shoal.payments.PaymentAuthorized');
        const declined = published.ofType('shoal.payments.PaymentDeclined');
        const released = published.ofType('shoal.inventory.StockReleased');
        expect(reserved.length + failed.length).toBe(200);
        expect(authorized.length + declined.length).toBe(reserved.length);
        expect(released.length).toBe(declined.length);
        return { reserved, failed, authorized, declined, released };
      }, { what: 'every order decided and every decline compensated', timeoutMs: 30_000 });

      expect(decided.failed.length).toBeGreaterThan(0);
      expect(decided.declined.length).toBeGreaterThan(0);
      expect(new Set([...decided.reserved, ...decided.failed].map((event) => event.data.orderId)).size).toBe(200);
      const declinedOrders = new Set(decided.declined.map((event) => event.data.orderId));
      expect(new Set(decided.released.map((event) => event.data.orderId))).toEqual(declinedOrders);
      expect(decided.declined.every((event) => event.data.customerId === 'c-none')).toBe(true);

      // What the authorized orders hold is exactly what inventory reports as reserved, and no unit was made or lost.
      const held: Record<string, number> = { P1: 0, P2: 0 };
      for (const event of decided.reserved) {
        if (declinedOrders.has(event.data.orderId)) continue;
        for (const { sku, quantity } of event.data.lines) held[sku] = (held[sku] ?? 0) + quantity;
      }
      const { items } = (await call(inventory, 'GET', '/stock')).body as { items: { sku: string; available: number; reserved: number }[] };
      for (const { sku, available, reserved } of items) {
        expect(available).toBeGreaterThanOrEqual(0);
        expect(reserved).toBe(held[sku]);
        expect(available + reserved).toBe(initial[sku]);
      }
      expect(items.map((item) => item.sku)).toEqual(['P1', 'P2']);

      // Every instance took its share of the orders (the group spread the partitions over them).
      for (const instance of inventories) expect((await consumedEvents(instance)).handled).toBeGreaterThan(0);

      const charged = decided.authorized.reduce((sum, event) => sum + event.data.amount.amount, 0);
      expect((await call(payments, 'GET', '/customers/c-rich')).body).toMatchObject({ used: charged });
    });
  });
});
