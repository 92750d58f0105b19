/**
 * Redelivery after a rebalance: two instances of one sidecar (`shoal sidecar` child processes of the same
 * service, on one store: the same SQLite file, which separate processes share safely) in consumer group
 * "loyalty". A second instance joins while deliveries are in flight, then the first leaves (SIGTERM) while
 * they still are: the partitions move between them, an event delivered by one and not yet committed is
 * delivered again by the other, and the shared inbox makes its effects apply once. Nothing is lost.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEvent, type ShoalEvent } from '@shoal/contract';
import { startTestPlatform } from '@shoal/contract/testing';
import { publisherFor, watchTopics } from '@shoal/service/testing';
import { startTestMicrologic, type Delivery } from '@shoal/sidecar/testing';
import { eventually, freePorts, tempDir, uniqueName } from '@shoal/testing';
import { startSidecarProcess } from './micrologic-processes.js';

const shipped = (orderId: string): ShoalEvent =>
  createEvent('shoal.orders.OrderShipped', { orderId, customerId: 'c1', shipmentId: 's', trackingNumber: 't', shippedAt: 1 }, { source: '/shoal/orders', subject: orderId });

/** Events each instance handled, from its /metrics. */
async function handled(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^shoal_events_consumed_total\{[^}]*outcome="handled"[^}]*\} (\d+)$/m.exec(text)?.[1] ?? 0);
}

describe('redelivery after a rebalance', () => {
  it('applies every effect once and loses nothing when a second instance joins and the first leaves mid-stream', async () => {
    const platform = await startTestPlatform();
    const micrologic = await startTestMicrologic();
    const dataDir = tempDir('sidecar-rebalance');
    const config = join(dataDir, 'sidecar.yaml');
    writeFileSync(
      config,
      `service: loyalty\nport: 0\napp: ${micrologic.url}\nsubscriptions:\n  - { topic: orders.order, types: [shoal.orders.OrderShipped], path: /shipped }\npublishes: [shoal.loyalty.PointsAwarded]\nretries: { attempts: 20, initial: 20ms, max: 500ms }\n`,
    );
    // A micrologic that takes a while per event keeps deliveries in flight while the group rebalances.
    micrologic.answer(async (delivery: Delivery) => {
      await new Promise((resolve) => setTimeout(resolve, 15));
      const { orderId } = delivery.data as { orderId: string };
      return {
        status: 200,
        body: {
          events: [{ type: 'shoal.loyalty.PointsAwarded', subject: orderId, data: { orderId, customerId: 'c1', points: 1, total: { amount: 100, currency: 'EUR' }, balance: 1, awardedAt: 1 } }],
          // A second application of the same event would fail this precondition: the state shows it once.
          state: [{ key: `awarded/${orderId}`, value: true, etag: null }],
        },
      };
    });
    const [portA, portB] = await freePorts(2);
    const published = await watchTopics(platform, ['loyalty.points']);
    const publisher = await publisherFor(platform);
    // Many keys spread over the three partitions of orders.order, each key's events in order.
    const orders = Array.from({ length: 300 }, () => uniqueName('o'));
    const publishOrders = (from: number, to: number) => publisher.publishRecords(orders.slice(from, to).map((orderId, i) => ({ event: shipped(orderId), topic: 'orders.order', key: `k${(from + i) % 30}` })));

    const first = await startSidecarProcess(platform, config, dataDir, portA!);
    await publishOrders(0, 150);
    await eventually(async () => (await handled(first.url)) >= 20, { what: 'the first instance delivering', timeoutMs: 60_000 });

    // The second instance joins mid-stream: the group rebalances with deliveries in flight.
    const second = await startSidecarProcess(platform, config, dataDir, portB!);
    await publishOrders(150, 225);
    await eventually(async () => (await handled(second.url)) > 0, { what: 'the second instance taking partitions', timeoutMs: 60_000 });
    const byFirst = await handled(first.url);
    expect(byFirst).toBeGreaterThan(0);
    expect(published.ofType('shoal.loyalty.PointsAwarded').length, 'the first instance leaves before the stream is through').toBeLessThan(orders.length);

    // The first instance leaves mid-stream: its partitions go to the second.
    await publishOrders(225, 300);
    first.stop();
    expect(await first.exited).toBe(0);

    await published.waitFor('shoal.loyalty.PointsAwarded', { count: orders.length, timeoutMs: 120_000 });
    // A barrier per partition: events after all of them have their points out, so any duplicate would too.
    const barriers = Array.from({ length: 30 }, () => uniqueName('barrier'));
    await publisher.publishRecords(barriers.map((orderId, i) => ({ event: shipped(orderId), topic: 'orders.order', key: `k${i}` })));
    for (const orderId of barriers) await published.waitFor('shoal.loyalty.PointsAwarded', { subject: orderId, timeoutMs: 60_000 });

    // Once each: the relay may publish a row twice (its id the same); the inbox applied each event once.
    for (const orderId of orders) expect(new Set(published.ofType('shoal.loyalty.PointsAwarded', { subject: orderId }).map((event) => event.id)).size, orderId).toBe(1);
    for (const orderId of orders.filter((_, i) => i % 10 === 0)) {
      const state = await fetch(`${second.url}/v1/state/awarded/${orderId}`);
      expect(state.headers.get('etag'), orderId).toBe('"1"');
    }
    const delivered = new Map<string, number>();
    for (const delivery of micrologic.deliveries) delivered.set(delivery.id, (delivered.get(delivery.id) ?? 0) + 1);
    // Every event reached the micrologic; those redelivered after the rebalance were applied once all the same.
    expect(delivered.size).toBe(orders.length + barriers.length);
  });
});
