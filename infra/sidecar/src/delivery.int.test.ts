/**
 * Delivery end to end in one process: events published on the embedded broker, delivered by the sidecar to
 * a micrologic over real HTTP, its answers committed through the outbox and read back from the topics.
 */
import { describe, expect, it } from 'vitest';
import { createEvent } from '@shoal/contract';
import { startTestPlatform } from '@shoal/contract/testing';
import { DLQ_HEADERS } from '@shoal/consumer';
import { consumedEvents, publisherFor, serviceStores, watchTopics } from '@shoal/service/testing';
import { eventually, uniqueName } from '@shoal/testing';
import { startTestMicrologic, startTestSidecar, type Delivery } from './testing/index.js';
import { TIMER_FIRED_TYPE } from './timers.js';

const shipped = (orderId: string, customerId = 'c1') =>
  createEvent('shoal.orders.OrderShipped', { orderId, customerId, shipmentId: `s-${orderId}`, trackingNumber: 't', shippedAt: 1_700_000_000_000 }, { source: '/shoal/orders', subject: orderId });

const awarded = (delivery: Delivery, points = 3) => {
  const data = delivery.data as { orderId: string; customerId: string };
  return {
    status: 200,
    body: {
      events: [
        {
          type: 'shoal.loyalty.PointsAwarded',
          subject: data.orderId,
          data: { orderId: data.orderId, customerId: data.customerId, points, total: { amount: points * 100, currency: 'EUR' }, balance: points, awardedAt: 1 },
        },
      ],
      state: [{ key: `order/${data.orderId}`, value: { points } }],
    },
  };
};

const config = (app: string, extra: Record<string, unknown> = {}) => ({
  app,
  subscriptions: [{ topic: 'orders.order', types: ['shoal.orders.OrderShipped'], path: '/events/order-shipped' }],
  publishes: ['shoal.loyalty.PointsAwarded'],
  retries: { attempts: 3, initial: '20ms', max: '100ms' },
  ...extra,
});

// Delivery and the inbox on both stores (the sidecar's database is whatever DATABASE_URL says); the rest below on SQLite.
describe.each(serviceStores)('the sidecar on $name delivers', (store) => {
    it.skipIf(store.missing !== undefined)('an event as a binary-mode CloudEvent, and commits the answer: events with their cause, and state', async () => {
      const platform = await startTestPlatform();
      const micrologic = await startTestMicrologic();
      micrologic.answer((delivery) => awarded(delivery));
      const { host } = await startTestSidecar(config(micrologic.url), { platform, env: await store.env() });
      const published = await watchTopics(platform, ['loyalty.points']);
      const orderId = uniqueName('o');
      const cause = shipped(orderId);
      await (await publisherFor(platform)).publish(cause);

      const [points] = await published.waitFor('shoal.loyalty.PointsAwarded', { subject: orderId });
      expect(points).toMatchObject({ source: '/shoal/loyalty', subject: orderId, partitionkey: orderId, causationid: cause.id, correlationid: cause.correlationid });
      expect(points!.data).toMatchObject({ orderId, points: 3 });
      const [delivery] = micrologic.deliveries;
      expect(delivery).toMatchObject({ path: '/events/order-shipped', id: cause.id, type: 'shoal.orders.OrderShipped' });
      expect(delivery!.headers).toMatchObject({
        'ce-specversion': '1.0',
        'ce-source': '/shoal/orders',
        'ce-subject': orderId,
        'ce-correlationid': cause.correlationid,
        'content-type': 'application/json',
        'shoal-attempt': '1',
      });
      expect(delivery!.data).toEqual(cause.data);
      const state = await host.app.inject({ method: 'GET', url: `/v1/state/order/${orderId}` });
      expect(state.statusCode).toBe(200);
      expect(state.json()).toEqual({ points: 3 });
      expect(state.headers.etag).toBe('"1"');
    });

    it.skipIf(store.missing !== undefined)('a redelivered event once: the inbox acknowledges it without calling the micrologic', async () => {
      const platform = await startTestPlatform();
      const micrologic = await startTestMicrologic();
      micrologic.answer((delivery) => awarded(delivery));
      const { host } = await startTestSidecar(config(micrologic.url), { platform, env: await store.env() });
      const publisher = await publisherFor(platform);
      const orderId = uniqueName('o');
      const cause = shipped(orderId);
      await publisher.publish(cause);
      await publisher.publish(cause);
      await eventually(async () => expect(await consumedEvents(host)).toMatchObject({ handled: 1, duplicate: 1 }));
      expect(micrologic.deliveries.filter((delivery) => delivery.id === cause.id)).toHaveLength(1);
      const published = await watchTopics(platform, ['loyalty.points']);
      // A barrier after it: once the next order's points are out, the first's would be too.
      const next = shipped(uniqueName('o'));
      await publisher.publish(next);
      await published.waitFor('shoal.loyalty.PointsAwarded', { subject: next.subject });
      expect(published.ofType('shoal.loyalty.PointsAwarded', { subject: orderId })).toHaveLength(1);
    });
});

describe('the sidecar delivers', () => {
  it('again after 500s, 429s and a timeout, and commits once', async () => {
    const platform = await startTestPlatform();
    const micrologic = await startTestMicrologic();
    const replies = [{ status: 500 }, { status: 429 }, 'hang' as const];
    micrologic.answer((delivery) => replies.shift() ?? awarded(delivery));
    const { host } = await startTestSidecar(config(micrologic.url, { retries: { attempts: 5, initial: '20ms', max: '100ms' }, timeout: '300ms' }), { platform });
    const published = await watchTopics(platform, ['loyalty.points']);
    const orderId = uniqueName('o');
    await (await publisherFor(platform)).publish(shipped(orderId));
    await published.waitFor('shoal.loyalty.PointsAwarded', { subject: orderId });
    expect(micrologic.deliveries.map((delivery) => delivery.headers['shoal-attempt'])).toEqual(['1', '2', '3', '4']);
    expect(await consumedEvents(host)).toMatchObject({ handled: 1, dead_lettered: 0 });
  });

  it('a poison event (a 4xx) to the dead-letter topic once, parks its key, and goes on with the other keys', async () => {
    const platform = await startTestPlatform();
    const micrologic = await startTestMicrologic();
    const poison = uniqueName('poison');
    micrologic.answer((delivery) => ((delivery.data as { orderId: string }).orderId === poison ? { status: 422, body: { reason: 'no such customer' } } : awarded(delivery)));
    const { host } = await startTestSidecar(config(micrologic.url), { platform });
    const published = await watchTopics(platform, ['loyalty.points']);
    const deadLetters = platform.kafka().consumer({ groupId: uniqueName('dlq') });
    const dead: { code: string; id: string }[] = [];
    await deadLetters.connect();
    await deadLetters.subscribe({ topic: 'loyalty.dlq', fromBeginning: true });
    await deadLetters.run({ eachMessage: async ({ message }) => void dead.push({ code: String(message.headers?.[DLQ_HEADERS.errorCode]), id: String(message.headers?.ce_id) }) });
    const publisher = await publisherFor(platform);
    const bad = shipped(poison);
    const behind = shipped(uniqueName('o'));
    const other = shipped(uniqueName('o'));
    // One key, one partition: the event behind the poison one is parked, never delivered; another key flows.
    await publisher.publishRecords([
      { event: bad, topic: 'orders.order', key: 'same' },
      { event: behind, topic: 'orders.order', key: 'same' },
      { event: other, topic: 'orders.order', key: 'other' },
    ]);
    await published.waitFor('shoal.loyalty.PointsAwarded', { subject: other.subject });
    await eventually(() => expect(dead).toEqual([{ id: bad.id, code: 'SHOAL_HANDLER_FAILED' }]));
    expect(micrologic.deliveries.filter((delivery) => delivery.id === bad.id)).toHaveLength(1);
    const parked = (await host.app.inject({ method: 'GET', url: '/admin/dlq' })).body;
    expect(parked).toContain(behind.id);
    expect(micrologic.deliveries.filter((delivery) => delivery.id === behind.id)).toHaveLength(0);
    expect(await consumedEvents(host)).toMatchObject({ dead_lettered: 1 });
    await deadLetters.disconnect();
  });

  it('a parked key again after a redrive (its events delivered to the micrologic anew, in order, effects once), and past a skipped dead letter', async () => {
    const platform = await startTestPlatform();
    const micrologic = await startTestMicrologic();
    const [fixedLater, alwaysBad] = [uniqueName('fixed-later'), uniqueName('always-bad')];
    let fixed = false;
    micrologic.answer((delivery) => {
      const { orderId } = delivery.data as { orderId: string };
      if (orderId === alwaysBad || (orderId === fixedLater && !fixed)) return { status: 422, body: { reason: 'no such customer' } };
      return awarded(delivery);
    });
    const { host } = await startTestSidecar(config(micrologic.url), { platform });
    const published = await watchTopics(platform, ['loyalty.points']);
    const [first, behindFirst, second, behindSecond] = [shipped(fixedLater), shipped(uniqueName('o')), shipped(alwaysBad), shipped(uniqueName('o'))];
    await (await publisherFor(platform)).publishRecords([
      { event: first, topic: 'orders.order', key: 'k1' },
      { event: behindFirst, topic: 'orders.order', key: 'k1' },
      { event: second, topic: 'orders.order', key: 'k2' },
      { event: behindSecond, topic: 'orders.order', key: 'k2' },
    ]);
    const admin = async (method: 'GET' | 'POST', url: string, payload?: unknown) => {
      const response = await host.app.inject({ method, url, ...(payload === undefined ? {} : { payload: payload as object }) });
      expect(response.statusCode, response.body).toBe(200);
      return response.json();
    };
    const letters = async () => (await admin('GET', '/admin/dlq')).groups[0].deadLetters as { key: string; eventId: string; reason: { attempts: number }; parked: { eventId: string }[] }[];
    await eventually(async () => expect((await letters()).map((letter) => [letter.key, letter.eventId, letter.parked.map((record) => record.eventId)])).toEqual([
      ['k1', first.id, [behindFirst.id]],
      ['k2', second.id, [behindSecond.id]],
    ]));

    // Still failing: the redrive delivers it again, it stays the key's dead letter with the new attempt, nothing behind it moves.
    const failed = await admin('POST', '/admin/dlq/redrive', { key: 'k2' });
    expect(failed.results).toMatchObject([{ key: 'k2', handled: 0, stillParked: 1, error: { code: 'SHOAL_HANDLER_FAILED' } }]);
    expect(micrologic.deliveries.filter((delivery) => delivery.id === second.id)).toHaveLength(2);
    expect((await letters()).find((letter) => letter.key === 'k2')).toMatchObject({ eventId: second.id, reason: { attempts: 2 } });

    fixed = true;
    const redriven = await admin('POST', '/admin/dlq/redrive', { key: 'k1' });
    expect(redriven.results).toMatchObject([{ key: 'k1', handled: 2, stillParked: 0 }]);
    expect(redriven.results[0].error).toBeUndefined();
    const k1 = micrologic.deliveries.filter((delivery) => delivery.id === first.id || delivery.id === behindFirst.id).map((delivery) => delivery.id);
    expect(k1).toEqual([first.id, first.id, behindFirst.id]);

    const skipped = await admin('POST', '/admin/dlq/skip', { key: 'k2' });
    expect(skipped.results).toMatchObject([{ key: 'k2', skipped: second.id, handled: 1, stillParked: 0 }]);
    expect(await letters()).toEqual([]);
    for (const event of [first, behindFirst, behindSecond]) await published.waitFor('shoal.loyalty.PointsAwarded', { subject: event.subject });
    // A barrier on k1: an event after the redriven ones is delivered once they committed, so a duplicate would show.
    const after = shipped(uniqueName('o'));
    await (await publisherFor(platform)).publishRecords([{ event: after, topic: 'orders.order', key: 'k1' }]);
    await published.waitFor('shoal.loyalty.PointsAwarded', { subject: after.subject });
    for (const event of [first, behindFirst, behindSecond, after]) expect(published.ofType('shoal.loyalty.PointsAwarded', { subject: event.subject }), event.subject).toHaveLength(1);
    expect(published.ofType('shoal.loyalty.PointsAwarded', { subject: second.subject })).toHaveLength(0);
    for (const event of [first, behindFirst]) expect((await host.app.inject({ method: 'GET', url: `/v1/state/order/${event.subject}` })).statusCode).toBe(200);
  });

  it('to a micrologic that is down: waited out however long, never dead-lettered', async () => {
    const platform = await startTestPlatform();
    const micrologic = await startTestMicrologic();
    micrologic.answer((delivery) => awarded(delivery));
    await micrologic.stop();
    // Two attempts of at most 50 ms: a failure that counted would be given up on within a second.
    const { host, sidecar } = await startTestSidecar(config(micrologic.url, { retries: { attempts: 2, initial: '10ms', max: '50ms' } }), { platform, ready: false });
    const published = await watchTopics(platform, ['loyalty.points']);
    const orderId = uniqueName('o');
    await (await publisherFor(platform)).publish(shipped(orderId));
    await eventually(() => expect(sidecar.subscription!.status().outageRetries).toBeGreaterThanOrEqual(20), { timeoutMs: 30_000 });
    const ready = await host.app.inject({ method: 'GET', url: '/health/ready' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json().checks.micrologic).toMatchObject({ ok: false });
    await micrologic.start();
    await published.waitFor('shoal.loyalty.PointsAwarded', { subject: orderId });
    expect(await consumedEvents(host)).toMatchObject({ handled: 1, dead_lettered: 0 });
    await host.whenReady(10_000);
  });

  it('an answer whose state ETag is stale again, and the retry sees the new state', async () => {
    const platform = await startTestPlatform();
    const micrologic = await startTestMicrologic();
    const { host } = await startTestSidecar(config(micrologic.url), { platform });
    const key = uniqueName('balance');
    expect((await host.app.inject({ method: 'PUT', url: `/v1/state/${key}`, payload: { points: 1 } })).headers.etag).toBe('"1"');
    let first = true;
    micrologic.answer(async () => {
      if (first) {
        first = false;
        // Someone else writes the key between the read and the answer: the answer's ETag is stale.
        await host.app.inject({ method: 'PUT', url: `/v1/state/${key}`, payload: { points: 2 } });
        return { status: 200, body: { state: [{ key, value: { points: 11 }, etag: '"1"' }] } };
      }
      return { status: 200, body: { state: [{ key, value: { points: 12 }, etag: '"2"' }] } };
    });
    await (await publisherFor(platform)).publish(shipped(uniqueName('o')));
    await eventually(async () => expect((await host.app.inject({ method: 'GET', url: `/v1/state/${key}` })).json()).toEqual({ points: 12 }));
    expect(micrologic.deliveries).toHaveLength(2);
  });

  it('an invalid answer as poison, naming what is wrong', async () => {
    const platform = await startTestPlatform();
    const micrologic = await startTestMicrologic();
    micrologic.answer(() => ({ status: 200, body: { events: [{ type: 'shoal.orders.OrderPlaced', subject: 'x', data: {} }], extra: 1 } }));
    const { host, sidecar } = await startTestSidecar(config(micrologic.url), { platform });
    await (await publisherFor(platform)).publish(shipped(uniqueName('o')));
    await eventually(async () => expect(await consumedEvents(host)).toMatchObject({ dead_lettered: 1 }));
    expect(sidecar.subscription!.status().lastFailure?.message).toMatch(/extra: unknown member.*events\[0\]\.type: shoal\.orders\.OrderPlaced is not one of the types this sidecar publishes/);
  });

  it('an answer larger than 16 MiB as poison, once, and goes on with the next event', async () => {
    const platform = await startTestPlatform();
    const micrologic = await startTestMicrologic();
    const [huge, fine] = [uniqueName('huge'), uniqueName('o')];
    micrologic.answer((delivery) => ((delivery.data as { orderId: string }).orderId === huge ? { status: 200, body: { events: [], padding: 'x'.repeat(16 * 1024 * 1024) } } : awarded(delivery)));
    const { host, sidecar } = await startTestSidecar(config(micrologic.url), { platform });
    const published = await watchTopics(platform, ['loyalty.points']);
    await (await publisherFor(platform)).publishRecords([
      { event: shipped(huge), topic: 'orders.order', key: 'k' },
      { event: shipped(fine), topic: 'orders.order', key: 'other' },
    ]);
    await published.waitFor('shoal.loyalty.PointsAwarded', { subject: fine });
    await eventually(async () => expect(await consumedEvents(host)).toMatchObject({ dead_lettered: 1 }));
    expect(micrologic.deliveries.filter((delivery) => (delivery.data as { orderId: string }).orderId === huge)).toHaveLength(1);
    expect(sidecar.subscription!.status().lastFailure?.message).toMatch(/larger than 16777216 bytes \(it fails for good\)/);
  });

  it('timers, each period once, with the answer committed like a delivery', async () => {
    const platform = await startTestPlatform();
    const micrologic = await startTestMicrologic();
    let fired = 0;
    micrologic.answer((delivery) => {
      fired += 1;
      return { status: 200, body: { state: [{ key: 'fired', value: fired }] } };
    });
    const { host, sidecar } = await startTestSidecar({ app: micrologic.url, timers: [{ name: 'tick', every: '50ms', path: '/timers/tick' }] }, { platform });
    await eventually(() => expect(sidecar.timers!.fired.get('tick')).toBeGreaterThanOrEqual(3));
    const delivery = micrologic.deliveries[0]!;
    expect(delivery).toMatchObject({ path: '/timers/tick', type: TIMER_FIRED_TYPE });
    expect(delivery.headers).toMatchObject({ 'ce-subject': 'tick', 'ce-source': '/shoal/loyalty' });
    expect(delivery.data).toMatchObject({ timer: 'tick' });
    const state = await host.app.inject({ method: 'GET', url: '/v1/state/fired' });
    expect(Number(state.json())).toBeGreaterThanOrEqual(3);
    const periods = micrologic.deliveries.map((d) => (d.data as { scheduledAt: number }).scheduledAt);
    expect(new Set(periods).size).toBe(periods.length);
  });
});
