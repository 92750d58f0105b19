/**
 * The sidecar's contract from two other languages, against the embedded broker and registry: the Python
 * loyalty service (services/loyalty, with its own sidecar.yaml) and the Go micrologic of test/sidecar/go,
 * each a real process talking HTTP to a real sidecar.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { createEvent, type ShoalEvent } from '@shoal/contract';
import { startTestPlatform } from '@shoal/contract/testing';
import { consumedEvents, publisherFor, watchTopics } from '@shoal/service/testing';
import { startTestSidecar } from '@shoal/sidecar/testing';
import { eventually, freePorts, uniqueName } from '@shoal/testing';
import { goMissing, LOYALTY_DIR, pythonMissing, startGoMicrologic, startPythonLoyalty } from './micrologic-processes.js';

const money = (amount: number) => ({ amount, currency: 'EUR' });
const placed = (orderId: string, customerId: string, amount: number): ShoalEvent =>
  createEvent(
    'shoal.orders.OrderPlaced',
    { orderId, customerId, lines: [{ sku: 'SKU-1', quantity: 1, unitPrice: money(amount) }], total: money(amount), shippingAddress: null, placedAt: 1 },
    { source: '/shoal/orders', subject: orderId },
  );
const shipped = (orderId: string, customerId: string): ShoalEvent =>
  createEvent('shoal.orders.OrderShipped', { orderId, customerId, shipmentId: `s-${orderId}`, trackingNumber: 't', shippedAt: 2 }, { source: '/shoal/orders', subject: orderId });
const refunded = (orderId: string, customerId: string, amount: number): ShoalEvent =>
  createEvent('shoal.payments.PaymentRefunded', { paymentId: `p-${orderId}`, orderId, customerId, amount: money(amount), refundedAt: 3 }, { source: '/shoal/payments', subject: orderId });

describe.skipIf(pythonMissing !== null)('the Python loyalty service behind its sidecar', () => {
  it('awards points on OrderShipped, takes them back on a refund of a shipped order, and answers the balance', async () => {
    const platform = await startTestPlatform();
    const [sidecarPort, appPort] = await freePorts(2);
    const document = parseYaml(readFileSync(join(LOYALTY_DIR, 'sidecar.yaml'), 'utf8')) as Record<string, unknown>;
    const loyalty = await startPythonLoyalty(appPort!, `http://127.0.0.1:${sidecarPort}`);
    const { host } = await startTestSidecar({ ...document, app: loyalty.url }, { platform, env: { PORT: String(sidecarPort) } });
    const published = await watchTopics(platform, ['loyalty.points']);
    const publisher = await publisherFor(platform);
    const customer = uniqueName('c');
    const [kept, returned, cancelled] = [uniqueName('o'), uniqueName('o'), uniqueName('o')];
    await publisher.publishBatch([placed(kept, customer, 1234), placed(returned, customer, 5099), placed(cancelled, customer, 700)]);
    await publisher.publishBatch([shipped(kept, customer), shipped(returned, customer)]);
    await published.waitFor('shoal.loyalty.PointsAwarded', { count: 2 });
    // A refund of a shipped order takes its points back; one of an order that never shipped changes nothing.
    await publisher.publishBatch([refunded(returned, customer, 5099), refunded(cancelled, customer, 700)]);
    const [revoked] = await published.waitFor('shoal.loyalty.PointsRevoked', { subject: returned });
    expect(revoked!.data).toEqual({ orderId: returned, customerId: customer, points: 50, balance: 12, revokedAt: 3 });
    expect(revoked!.source).toBe('/shoal/loyalty');
    const awards = Object.fromEntries(published.ofType('shoal.loyalty.PointsAwarded').map((event) => [event.subject, event.data.points]));
    expect(awards).toEqual({ [kept]: 12, [returned]: 50 });
    await eventually(async () => expect(await consumedEvents(host)).toMatchObject({ handled: 7, dead_lettered: 0 }), 'all seven events handled');

    const balance = (await (await fetch(`${loyalty.url}/customers/${customer}/points`)).json()) as any;
    expect(balance).toMatchObject({ customerId: customer, balance: 12 });
    expect(balance.history.map((entry: { orderId: string; points: number }) => [entry.orderId, entry.points])).toEqual(
      expect.arrayContaining([
        [kept, 12],
        [returned, 50],
        [returned, -50],
      ]),
    );
    expect(balance.history).toHaveLength(3);
    expect(published.ofType('shoal.loyalty.PointsRevoked')).toHaveLength(1);
    expect(await (await fetch(`${loyalty.url}/customers/${uniqueName('nobody')}/points`)).json()).toMatchObject({ balance: 0, history: [] });
  });
});

describe.skipIf(goMissing !== null)('a Go micrologic behind a sidecar', () => {
  it('reads and writes state with ETags under racing deliveries, answers with events, and publishes safely twice', async () => {
    const platform = await startTestPlatform();
    const [sidecarPort, appPort] = await freePorts(2);
    const go = await startGoMicrologic(appPort!, `http://127.0.0.1:${sidecarPort}`);
    const { host, sidecar } = await startTestSidecar(
      {
        service: 'loyalty',
        app: go.url,
        subscriptions: [{ topic: 'orders.order', types: ['shoal.orders.OrderShipped'], path: '/events/order-shipped' }],
        publishes: ['shoal.loyalty.PointsAwarded'],
        timers: [{ name: 'tick', every: '200ms', path: '/timers/tick' }],
        retries: { attempts: 30, initial: '10ms', max: '200ms' },
      },
      { platform, env: { PORT: String(sidecarPort) } },
    );
    const published = await watchTopics(platform, ['loyalty.points']);
    const customer = uniqueName('c');
    const orders = Array.from({ length: 12 }, () => uniqueName('o'));
    // Orders on every partition at once: their deliveries race for the customer's count.
    await (await publisherFor(platform)).publishBatch(orders.map((orderId) => shipped(orderId, customer)));
    const awarded = await published.waitFor('shoal.loyalty.PointsAwarded', { count: 12 + 2 });
    const forOrders = awarded.filter((event) => event.subject !== 'ticks');
    await eventually(async () => {
      const state = await host.app.inject({ method: 'GET', url: `/v1/state/shipped/${customer}` });
      expect(state.json()).toEqual({ orders: 12 });
    });
    const balances = await eventually(() => {
      const found = published.ofType('shoal.loyalty.PointsAwarded').filter((event) => event.subject !== 'ticks').map((event) => event.data.balance);
      expect(found).toHaveLength(12);
      return found;
    });
    expect(balances.sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, n) => n + 1));
    expect(forOrders.every((event) => event.causationid !== undefined)).toBe(true);
    expect(await consumedEvents(host)).toMatchObject({ handled: 12, dead_lettered: 0 });

    // Each tick's event is in the outbox once, though the Go micrologic posted it twice.
    await eventually(() => expect(sidecar.timers!.fired.get('tick')).toBeGreaterThanOrEqual(2));
    const ticks = published.ofType('shoal.loyalty.PointsAwarded', { subject: 'ticks' });
    expect(ticks.length).toBeGreaterThanOrEqual(2);
    expect(new Set(ticks.map((event) => event.id)).size).toBe(ticks.length);
    expect(go.output()).not.toMatch(/panic/);
  });
});
