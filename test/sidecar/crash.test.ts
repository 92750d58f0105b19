/**
 * Exactly-once effects through crashes: the sidecar (`shoal sidecar` as a child process, as it runs in
 * production) killed with SIGKILL right after its micrologic answered and before that answer could commit,
 * then started again on the same files; and a micrologic that dies in the middle of a delivery and comes
 * back. Every order's points are published once and its state written once, whatever was redelivered.
 */
import { describe, expect, it } from 'vitest';
import { startTestPlatform } from '@shoal/contract/testing';
import { publisherFor, watchTopics } from '@shoal/service/testing';
import { startTestMicrologic, startTestSidecar } from '@shoal/sidecar/testing';
import { uniqueName } from '@shoal/testing';
import { award, exactlyOnceThroughSidecarKill, shippedOne as shipped } from './scenarios.js';

describe('exactly-once effects through crashes', () => {
  it('when the sidecar is killed with SIGKILL between the micrologic answer and its commit', async () => exactlyOnceThroughSidecarKill(await startTestPlatform()));

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
