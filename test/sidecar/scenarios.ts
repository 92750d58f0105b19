/**
 * The sidecar's contract end to end, as scenarios that take the platform they run on, so that the same code
 * runs against the embedded broker (micrologics.test.ts, crash.test.ts) and against Apache Kafka
 * (apache-kafka.test.ts): the Python loyalty service's rules, the Go micrologic's state, events and safe
 * publishing, and exactly-once effects when the sidecar is killed between the micrologic's answer and its
 * commit. Each starts what it needs on `platform` and leaves it to the test's cleanup.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { createEvent, type ShoalEvent } from '@shoal/contract';
import type { TestPlatform } from '@shoal/contract/testing';
import { consumedEvents, publisherFor, watchTopics } from '@shoal/service/testing';
import { startTestMicrologic, startTestSidecar, type Delivery } from '@shoal/sidecar/testing';
import { eventually, freePort, freePorts, tempDir, uniqueName } from '@shoal/testing';
import { LOYALTY_DIR, startGoMicrologic, startPythonLoyalty, startSidecarProcess, type SidecarProcess } from './micrologic-processes.js';

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

/** OrderShipped of one customer's order. */
export const shippedOne = (orderId: string): ShoalEvent =>
  createEvent('shoal.orders.OrderShipped', { orderId, customerId: 'c1', shipmentId: 's', trackingNumber: 't', shippedAt: 1 }, { source: '/shoal/orders', subject: orderId });

/** A micrologic's answer to OrderShipped: one PointsAwarded, and the order marked in the state once (a second write would fail its ETag). */
export const award = (delivery: Delivery) => {
  const { orderId } = delivery.data as { orderId: string };
  return {
    status: 200,
    body: {
      events: [{ type: 'shoal.loyalty.PointsAwarded', subject: orderId, data: { orderId, customerId: 'c1', points: 1, total: { amount: 100, currency: 'EUR' }, balance: 1, awardedAt: 1 } }],
      state: [{ key: `awarded/${orderId}`, value: true, etag: null }],
    },
  };
};

/** The Python loyalty service behind its sidecar: points awarded on OrderShipped, taken back on a refund of a shipped order, the balance answered. */
export async function loyaltyRules(platform: TestPlatform): Promise<void> {
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
}

/** A Go micrologic behind a sidecar: state with ETags under racing deliveries, events in its answers, timers, and POST /v1/events twice with one id. */
export async function goMicrologicContract(platform: TestPlatform): Promise<void> {
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
  // The customer's own: a shared broker's topic may hold other scenarios' points.
  const ofCustomer = () => published.ofType('shoal.loyalty.PointsAwarded').filter((event) => event.subject !== 'ticks' && event.data.customerId === customer);
  await eventually(async () => {
    const state = await host.app.inject({ method: 'GET', url: `/v1/state/shipped/${customer}` });
    expect(state.json()).toEqual({ orders: 12 });
  });
  const balances = await eventually(() => {
    const found = ofCustomer().map((event) => event.data.balance);
    expect(found).toHaveLength(12);
    return found;
  });
  expect(balances.sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, n) => n + 1));
  expect(ofCustomer().every((event) => event.causationid !== undefined)).toBe(true);
  expect(await consumedEvents(host)).toMatchObject({ handled: 12, dead_lettered: 0 });

  // Each tick's event is in the outbox once, though the Go micrologic posted it twice.
  await eventually(() => expect(sidecar.timers!.fired.get('tick')).toBeGreaterThanOrEqual(2));
  // A fired tick's event reaches the topic once the relay has published it: wait for that, not for the timer.
  const ticks = await eventually(() => {
    const seen = published.ofType('shoal.loyalty.PointsAwarded', { subject: 'ticks' });
    expect(seen.length).toBeGreaterThanOrEqual(2);
    return seen;
  });
  expect(new Set(ticks.map((event) => event.id)).size).toBe(ticks.length);
  expect(go.output()).not.toMatch(/panic/);
}

/** Exactly-once effects when `shoal sidecar` is killed with SIGKILL between the micrologic's answer and its commit, then started again on its files. */
export async function exactlyOnceThroughSidecarKill(platform: TestPlatform): Promise<void> {
  const micrologic = await startTestMicrologic();
  const dataDir = tempDir('sidecar-crash');
  const config = join(dataDir, 'sidecar.yaml');
  writeFileSync(
    config,
    `service: loyalty\nport: 0\napp: ${micrologic.url}\nsubscriptions:\n  - { topic: orders.order, types: [shoal.orders.OrderShipped], path: /shipped }\npublishes: [shoal.loyalty.PointsAwarded]\n`,
  );
  const orders = Array.from({ length: 10 }, () => uniqueName('o'));
  let sidecar: SidecarProcess | undefined;
  let killedAt: string | undefined;
  micrologic.answer((delivery) => {
    const reply = award(delivery);
    const { orderId } = delivery.data as { orderId: string };
    // The fifth order: the answer leaves, then the sidecar dies before it can commit what it got.
    if (orderId === orders[4] && killedAt === undefined) {
      killedAt = orderId;
      return { ...reply, after: () => sidecar!.kill() };
    }
    return reply;
  });
  const port = await freePort();
  sidecar = await startSidecarProcess(platform, config, dataDir, port);
  const published = await watchTopics(platform, ['loyalty.points']);
  // One key: one partition, delivered in order.
  await (await publisherFor(platform)).publishRecords(orders.map((orderId) => ({ event: shippedOne(orderId), topic: 'orders.order', key: 'one-customer' })));
  expect(await sidecar.exited).toBeNull();
  expect(killedAt).toBe(orders[4]);

  await startSidecarProcess(platform, config, dataDir, port);
  await published.waitFor('shoal.loyalty.PointsAwarded', { count: 10, timeoutMs: 60_000 });
  // A barrier: an order after all of them has its points out, so any duplicate would be too.
  const last = uniqueName('o');
  await (await publisherFor(platform)).publishRecords([{ event: shippedOne(last), topic: 'orders.order', key: 'one-customer' }]);
  await published.waitFor('shoal.loyalty.PointsAwarded', { subject: last });
  // The relay publishes at least once (a row sent but not yet marked sent when the process died goes out
  // again, with its id): one event per order, whatever copies of it the topic holds.
  for (const orderId of orders) expect(new Set(published.ofType('shoal.loyalty.PointsAwarded', { subject: orderId }).map((event) => event.id)).size, orderId).toBe(1);
  const killed = micrologic.deliveries.filter((delivery) => (delivery.data as { orderId: string }).orderId === orders[4]);
  // Twice when the kill came before the commit (it nearly always does: the kill follows the answer's last
  // byte), once when the commit won the race; the effects are single either way.
  expect([1, 2]).toContain(killed.length);
}
