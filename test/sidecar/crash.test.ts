/**
 * Exactly-once effects through crashes: the sidecar (`shoal sidecar` as a child process, as it runs in
 * production) killed with SIGKILL right after its micrologic answered and before that answer could commit,
 * then started again on the same files; and a micrologic that dies in the middle of a delivery and comes
 * back. Every order's points are published once and its state written once, whatever was redelivered.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEvent, type ShoalEvent } from '@shoal/contract';
import { startTestPlatform } from '@shoal/contract/testing';
import { publisherFor, watchTopics } from '@shoal/service/testing';
import { startTestMicrologic, startTestSidecar, type Delivery } from '@shoal/sidecar/testing';
import { freePort, tempDir, uniqueName } from '@shoal/testing';
import { startSidecarProcess, type SidecarProcess } from './micrologic-processes.js';

const shipped = (orderId: string): ShoalEvent =>
  createEvent('shoal.orders.OrderShipped', { orderId, customerId: 'c1', shipmentId: 's', trackingNumber: 't', shippedAt: 1 }, { source: '/shoal/orders', subject: orderId });

const award = (delivery: Delivery) => {
  const { orderId } = delivery.data as { orderId: string };
  return {
    status: 200,
    body: {
      events: [{ type: 'shoal.loyalty.PointsAwarded', subject: orderId, data: { orderId, customerId: 'c1', points: 1, total: { amount: 100, currency: 'EUR' }, balance: 1, awardedAt: 1 } }],
      state: [{ key: `awarded/${orderId}`, value: true, etag: null }],
    },
  };
};

describe('exactly-once effects through crashes', () => {
  it('when the sidecar is killed with SIGKILL between the micrologic answer and its commit', async () => {
    const platform = await startTestPlatform();
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
    await (await publisherFor(platform)).publishRecords(orders.map((orderId) => ({ event: shipped(orderId), topic: 'orders.order', key: 'one-customer' })));
    expect(await sidecar.exited).toBeNull();
    expect(killedAt).toBe(orders[4]);

    await startSidecarProcess(platform, config, dataDir, port);
    await published.waitFor('shoal.loyalty.PointsAwarded', { count: 10, timeoutMs: 60_000 });
    // A barrier: an order after all of them has its points out, so any duplicate would be too.
    const last = uniqueName('o');
    await (await publisherFor(platform)).publishRecords([{ event: shipped(last), topic: 'orders.order', key: 'one-customer' }]);
    await published.waitFor('shoal.loyalty.PointsAwarded', { subject: last });
    // The relay publishes at least once (a row sent but not yet marked sent when the process died goes out
    // again, with its id): one event per order, whatever copies of it the topic holds.
    for (const orderId of orders) expect(new Set(published.ofType('shoal.loyalty.PointsAwarded', { subject: orderId }).map((event) => event.id)).size, orderId).toBe(1);
    const killed = micrologic.deliveries.filter((delivery) => (delivery.data as { orderId: string }).orderId === orders[4]);
    // Twice when the kill came before the commit (it nearly always does: the kill follows the answer's last
    // byte), once when the commit won the race; the effects are single either way.
    expect([1, 2]).toContain(killed.length);
  });

  it('when the micrologic dies in the middle of a delivery and comes back', async () => {
    const platform = await startTestPlatform();
    const micrologic = await startTestMicrologic();
    const { host } = await startTestSidecar({
      app: micrologic.url,
      subscriptions: [{ topic: 'orders.order', types: ['shoal.orders.OrderShipped'], path: '/shipped' }],
      publishes: ['shoal.loyalty.PointsAwarded'],
      retries: { attempts: 3, initial: '10ms', max: '50ms' },
    }, { platform });
    const published = await watchTopics(platform, ['loyalty.points']);
    const orders = Array.from({ length: 6 }, () => uniqueName('o'));
    let died = false;
    micrologic.answer((delivery) => {
      if ((delivery.data as { orderId: string }).orderId === orders[2] && !died) {
        died = true;
        // The process dies with the request in hand: its connections drop, its port refuses for a while.
        void micrologic.stop().then(() => setTimeout(() => void micrologic.start(), 1500));
        return 'hang';
      }
      return award(delivery);
    });
    await (await publisherFor(platform)).publishRecords(orders.map((orderId) => ({ event: shipped(orderId), topic: 'orders.order', key: 'one-customer' })));
    await published.waitFor('shoal.loyalty.PointsAwarded', { count: 6, timeoutMs: 30_000 });
    for (const orderId of orders) expect(published.ofType('shoal.loyalty.PointsAwarded', { subject: orderId }), orderId).toHaveLength(1);
    expect(died).toBe(true);
    for (const orderId of orders) expect((await host.app.inject({ method: 'GET', url: `/v1/state/awarded/${orderId}` })).headers.etag).toBe('"1"');
  });
});
