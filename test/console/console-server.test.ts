import { eventually } from '@shoal/testing';
import { describe, expect, it } from 'vitest';
import { buildConsole, configSpec as consoleSpec } from '@shoal/console';
import { startTestPlatform } from '@shoal/contract/testing';
import { call, publisherFor, startTestService } from '@shoal/service/testing';
import { buildInventory, configSpec as inventorySpec } from '@shoal/service-inventory';
import { buildPayments, configSpec as paymentsSpec } from '@shoal/service-payments';
import { orderPlaced } from '@shoal/service-inventory/testing';

/**
 * The console's server against real traffic: inventory and payments as they run in production on one broker,
 * the test playing the orders service (it publishes OrderPlaced), and the console reading every topic and
 * asking both services' admin routes, all over HTTP.
 */
async function startConsoleWithSlice() {
  const platform = await startTestPlatform();
  const [inventory, payments] = await Promise.all([
    startTestService(inventorySpec, buildInventory, { platform }),
    startTestService(paymentsSpec, buildPayments, { platform }),
  ]);
  const services = `inventory=${inventory.host.url},payments=${payments.host.url},orders=http://127.0.0.1:1`;
  const consoleService = await startTestService(consoleSpec, (host) => void buildConsole(host), { platform, env: { SHOAL_CONSOLE_SERVICES: services } });
  return { platform, inventory: inventory.host, payments: payments.host, console: consoleService.host, publisher: await publisherFor(platform) };
}

async function getJson(url: string): Promise<{ status: number; body: any; type: string }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  return { status: response.status, type: response.headers.get('content-type') ?? '', body: await response.json() };
}

async function postJson(url: string, body: string): Promise<{ status: number; body: any; type: string }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(10_000) });
  return { status: response.status, type: response.headers.get('content-type') ?? '', body: await response.json() };
}

describe('the console server', () => {
  it('maps the reactions it sees, finds an order’s flow with decoded data, and reports drift and groups', async () => {
    const { inventory, payments, console: consoleHost, publisher } = await startConsoleWithSlice();
    await call(inventory, 'PUT', '/stock/A', { available: 10 });
    await call(payments, 'PUT', '/customers/c-rich/limit', { limit: 100_000, currency: 'EUR' });
    const placed = orderPlaced([['A', 3]], { customerId: 'c-rich', unitPrice: 1500 });
    await publisher.publishBatch([placed]);

    const map = await eventually(async () => {
      const answer = await getJson(`${consoleHost.url}/api/map`);
      expect(answer.body.edges.map((edge: any) => `${edge.from} -${edge.type}-> ${edge.to}`)).toEqual(
        expect.arrayContaining(['orders -shoal.orders.OrderPlaced-> inventory', 'inventory -shoal.inventory.StockReserved-> payments']),
      );
      return answer.body;
    }, 'the console to map OrderPlaced -> inventory and StockReserved -> payments');
    expect(map.services.map((service: any) => service.name)).toEqual(expect.arrayContaining(['orders', 'inventory', 'payments']));
    const hop = map.edges.find((edge: any) => edge.to === 'payments');
    expect(hop).toMatchObject({ count: 1 });
    expect(hop.p50Ms).toBeGreaterThanOrEqual(0);
    // The test's OrderPlaced is declared by the catalog and emitted by orders (the test's source); what never flowed is drift.
    expect(map.drift).toContainEqual({ kind: 'never-seen', service: 'shipping', type: 'shoal.shipping.ShipmentScheduled', message: 'shoal.shipping.ShipmentScheduled is declared but no event of it has been seen' });
    expect(map.drift.filter((finding: any) => finding.kind === 'foreign-type' || finding.kind === 'undeclared-topic')).toEqual([]);

    const flow = await eventually(async () => {
      const answer = await getJson(`${consoleHost.url}/api/flows?q=${placed.data.orderId}`);
      expect(answer.status).toBe(200);
      expect(answer.body.events).toBeGreaterThanOrEqual(3);
      return answer.body;
    }, 'the order’s flow to hold its three events');
    expect(flow.match).toBe('order');
    const [root] = flow.roots;
    expect(root).toMatchObject({ id: placed.id, type: 'shoal.orders.OrderPlaced', service: 'orders', decoded: { data: { orderId: placed.data.orderId, customerId: 'c-rich' } } });
    const [reserved] = root.children;
    expect(reserved).toMatchObject({ type: 'shoal.inventory.StockReserved', service: 'inventory', causationId: placed.id, decoded: { data: { orderId: placed.data.orderId } } });
    expect(reserved.hopMs).toBeGreaterThanOrEqual(0);
    expect(reserved.children[0]).toMatchObject({ type: 'shoal.payments.PaymentAuthorized', service: 'payments', decoded: { data: { amount: { amount: 4500, currency: 'EUR' } } } });
    // The same flow by the event id of its last event.
    expect((await getJson(`${consoleHost.url}/api/flows?q=${reserved.children[0].id}`)).body).toMatchObject({ match: 'event', events: flow.events });

    // What drift compares with: each service's declared subscriptions, from the host's admin route.
    expect((await call(inventory, 'GET', '/admin/subscriptions')).body).toEqual({
      service: 'inventory',
      subscriptions: [{ group: 'inventory', dlqTopic: 'inventory.dlq', topics: ['orders.order', 'payments.payment'], types: ['shoal.orders.OrderPlaced', 'shoal.orders.OrderCancelled', 'shoal.payments.PaymentDeclined'] }],
    });

    const groups = (await getJson(`${consoleHost.url}/api/groups`)).body.groups;
    expect(groups.find((group: any) => group.group === 'inventory')).toMatchObject({
      state: 'Stable',
      members: [expect.objectContaining({ clientId: 'inventory', topics: ['orders.order', 'payments.payment'] })],
    });
    expect(groups.some((group: any) => group.group.startsWith('shoal-console-'))).toBe(false);

    const status = (await getJson(`${consoleHost.url}/api/status`)).body;
    expect(status.index.events).toBeGreaterThanOrEqual(3);
    expect(status.traffic.topics).toEqual(expect.arrayContaining(['orders.order', 'inventory.reservation', 'payments.payment']));
  });

  it('refuses what it cannot answer with problem+json, and passes a service’s refusals on', async () => {
    const { console: consoleHost } = await startConsoleWithSlice();
    const unknownFlow = await getJson(`${consoleHost.url}/api/flows?q=no-such-order`);
    expect(unknownFlow).toMatchObject({ status: 404, type: 'application/problem+json', body: { code: 'SHOAL_NOT_FOUND' } });
    expect(await getJson(`${consoleHost.url}/api/flows`)).toMatchObject({ status: 400, body: { code: 'SHOAL_REQUEST_INVALID' } });

    expect(await postJson(`${consoleHost.url}/api/services/inventory/dlq/redrive`, '{"key": 42}')).toMatchObject({ status: 400, type: 'application/problem+json', body: { code: 'SHOAL_REQUEST_INVALID' } });
    expect(await postJson(`${consoleHost.url}/api/services/inventory/dlq/skip`, '{"key": "o-1", "extra": true}')).toMatchObject({ status: 400, body: { code: 'SHOAL_REQUEST_INVALID' } });
    expect(await postJson(`${consoleHost.url}/api/services/warehouse/dlq/redrive`, '{}')).toMatchObject({ status: 404, body: { code: 'SHOAL_NOT_FOUND' } });
    // orders is known to the console but nothing listens where it is said to be.
    expect(await postJson(`${consoleHost.url}/api/services/orders/dlq/redrive`, '{}')).toMatchObject({ status: 503, body: { code: 'SHOAL_SERVICE_UNAVAILABLE' } });
    // A service's own refusal comes back as it answered: inventory has no projection of that name.
    expect(await postJson(`${consoleHost.url}/api/services/inventory/projections/nope/rebuild`, '{}')).toMatchObject({ status: 404, type: 'application/problem+json' });

    const dlq = (await getJson(`${consoleHost.url}/api/dlq`)).body.services;
    expect(dlq.find((service: any) => service.service === 'orders').problem).toContain('cannot be reached');
    const projections = (await getJson(`${consoleHost.url}/api/projections`)).body.services;
    expect(projections.find((service: any) => service.service === 'inventory')).toEqual({ service: 'inventory', projections: [] });
    // The console is still up and answering after all of that.
    expect((await getJson(`${consoleHost.url}/health/ready`)).status).toBe(200);
  });
});
