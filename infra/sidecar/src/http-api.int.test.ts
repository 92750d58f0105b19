/**
 * The sidecar's HTTP API against a listening sidecar: publishing (one event, batches, safe retries), state
 * with ETags, hostile input on both (always a precise 4xx problem+json, nothing lost, still ready), and the
 * OpenAPI document agreeing with the routes the sidecar serves.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { startTestPlatform } from '@shoal/contract/testing';
import { watchTopics } from '@shoal/service/testing';
import { uniqueName } from '@shoal/testing';
import { startTestMicrologic, startTestSidecar } from './testing/index.js';

const points = (orderId: string, n = 1) => ({
  type: 'shoal.loyalty.PointsAwarded',
  subject: orderId,
  data: { orderId, customerId: 'c1', points: n, total: { amount: n * 100, currency: 'EUR' }, balance: n, awardedAt: 1 },
});

async function sidecarOnPlatform() {
  const platform = await startTestPlatform();
  const micrologic = await startTestMicrologic();
  const started = await startTestSidecar({ app: micrologic.url, publishes: ['shoal.loyalty.PointsAwarded', 'shoal.loyalty.PointsRevoked'] }, { platform });
  const url = started.host.url;
  const send = async (method: string, path: string, body?: string, headers: Record<string, string> = {}) => {
    const response = await fetch(`${url}${path}`, { method, headers: body === undefined ? headers : { 'content-type': 'application/cloudevents+json', ...headers }, ...(body === undefined ? {} : { body }) });
    const text = await response.text();
    return { status: response.status, type: response.headers.get('content-type') ?? '', etag: response.headers.get('etag'), body: text === '' ? undefined : (JSON.parse(text) as any) };
  };
  return { ...started, platform, send };
}

describe('POST /v1/events', () => {
  it('publishes one event and batches through the outbox, and takes the same id once', async () => {
    const { platform, send } = await sidecarOnPlatform();
    const published = await watchTopics(platform, ['loyalty.points']);
    const one = uniqueName('o');
    const single = await send('POST', '/v1/events', JSON.stringify({ ...points(one), id: `retry-${one}`, correlationid: 'flow-1' }));
    expect(single).toMatchObject({ status: 202, body: { id: `retry-${one}`, topic: 'loyalty.points' } });
    const again = await send('POST', '/v1/events', JSON.stringify({ ...points(one), id: `retry-${one}` }));
    expect(again).toMatchObject({ status: 202, body: { id: `retry-${one}`, topic: 'loyalty.points', duplicate: true } });

    const batchIds = Array.from({ length: 50 }, () => uniqueName('b'));
    const batch = await send('POST', '/v1/events', JSON.stringify(batchIds.map((id, n) => points(id, n))), { 'content-type': 'application/cloudevents-batch+json' });
    expect(batch.status).toBe(202);
    expect(batch.body.events).toHaveLength(50);
    await published.waitFor('shoal.loyalty.PointsAwarded', { count: 51 });
    const [event] = published.ofType('shoal.loyalty.PointsAwarded', { subject: one });
    expect(event).toMatchObject({ id: `retry-${one}`, source: '/shoal/loyalty', correlationid: 'flow-1', partitionkey: one });
    expect(published.ofType('shoal.loyalty.PointsAwarded', { subject: one })).toHaveLength(1);
    for (const id of batchIds) expect(published.ofType('shoal.loyalty.PointsAwarded', { subject: id }), id).toHaveLength(1);
  });

  it('refuses hostile input with a precise 4xx problem, stores nothing of it, and stays ready', async () => {
    const { platform, send, host } = await sidecarOnPlatform();
    const published = await watchTopics(platform, ['loyalty.points']);
    const good = points(uniqueName('o'));
    const cases: [string, string, Record<string, string>, number, RegExp][] = [
      ['malformed JSON', '{"type": ', {}, 400, /JSON/i],
      ['not an object', '"hello"', {}, 400, /body: a CloudEvent/],
      ['a type not published', JSON.stringify({ ...good, type: 'shoal.orders.OrderPlaced' }), {}, 400, /type: shoal\.orders\.OrderPlaced is not one of the types this sidecar publishes/],
      ['an unknown type', JSON.stringify({ ...good, type: 'no.such.Type' }), {}, 400, /type: no\.such\.Type is not one of the types/],
      ['a wrong data type', JSON.stringify({ ...good, data: { ...good.data, points: 'ten' } }), {}, 400, /data\.points: expected long, got "ten"/],
      ['a missing data field', JSON.stringify({ ...good, data: { orderId: 'x' } }), {}, 400, /data\.customerId/],
      ['no subject', JSON.stringify({ ...good, subject: undefined }), {}, 400, /subject: a non-empty string is required/],
      ['a source set', JSON.stringify({ ...good, source: '/shoal/orders' }), {}, 400, /source: the sidecar sets it/],
      ['a wrong id type', JSON.stringify({ ...good, id: 42 }), {}, 400, /id: a non-empty string is expected, got 42/],
      ['a batch that is no list', JSON.stringify(good), { 'content-type': 'application/cloudevents-batch+json' }, 400, /JSON array/],
      ['an empty batch', '[]', { 'content-type': 'application/cloudevents-batch+json' }, 400, /empty/],
      ['one bad event in a batch', JSON.stringify([good, { ...good, data: null }]), { 'content-type': 'application/cloudevents-batch+json' }, 400, /\[1\]\.data/],
      ['10,001 events', JSON.stringify(Array.from({ length: 10_001 }, () => good)), { 'content-type': 'application/cloudevents-batch+json' }, 413, /at most 10000/],
      ['an oversized body', JSON.stringify({ ...good, data: { ...good.data, orderId: 'x'.repeat(17 * 1024 * 1024) } }), {}, 413, /large|limit/i],
      ['a wrong media type', JSON.stringify(good), { 'content-type': 'text/xml' }, 415, /xml|content type|media/i],
    ];
    for (const [what, body, headers, status, detail] of cases) {
      const answer = await send('POST', '/v1/events', body, headers);
      expect({ what, status: answer.status, type: answer.type }).toEqual({ what, status, type: expect.stringContaining('application/problem+json') });
      expect(answer.body.detail, what).toMatch(detail);
      expect(answer.body.code, what).toMatch(/^SHOAL_/);
    }
    // A full batch of valid events after all that: every one arrives, and none of the refused ones did.
    const ids = Array.from({ length: 10_000 }, (_, n) => `full-${n}`);
    const full = await send('POST', '/v1/events', JSON.stringify(ids.map((id) => ({ ...points(id), id }))), { 'content-type': 'application/cloudevents-batch+json' });
    expect(full.status).toBe(202);
    await published.waitFor('shoal.loyalty.PointsAwarded', { count: 10_000, timeoutMs: 60_000 });
    expect(new Set(published.all().map((event) => event.id))).toEqual(new Set(ids));
    expect((await send('GET', '/health/ready')).status).toBe(200);
    await host.whenReady(5_000);
  });
});

describe('/v1/state', () => {
  it('reads, writes and deletes with ETags, If-Match and If-None-Match', async () => {
    const { send } = await sidecarOnPlatform();
    const json = { 'content-type': 'application/json' };
    const key = `customer/${uniqueName('c')}`;
    expect(await send('GET', `/v1/state/${key}`)).toMatchObject({ status: 404, body: { code: 'SHOAL_NOT_FOUND' } });
    expect(await send('PUT', `/v1/state/${key}`, JSON.stringify({ balance: 1 }), { ...json, 'if-none-match': '*' })).toMatchObject({ status: 201, etag: '"1"', body: { key, etag: '"1"' } });
    expect(await send('PUT', `/v1/state/${key}`, JSON.stringify({ balance: 9 }), { ...json, 'if-none-match': '*' })).toMatchObject({ status: 412, body: { code: 'SHOAL_CONCURRENCY_CONFLICT', etag: '"1"' } });
    expect(await send('PUT', `/v1/state/${key}`, JSON.stringify({ balance: 2 }), { ...json, 'if-match': '"1"' })).toMatchObject({ status: 200, etag: '"2"' });
    expect(await send('PUT', `/v1/state/${key}`, JSON.stringify({ balance: 3 }), { ...json, 'if-match': '"1"' })).toMatchObject({ status: 412, body: { etag: '"2"' } });
    expect(await send('GET', `/v1/state/${key}`)).toMatchObject({ status: 200, etag: '"2"', body: { balance: 2 } });
    expect(await send('DELETE', `/v1/state/${key}`, undefined, { 'if-match': '"1"' })).toMatchObject({ status: 412 });
    expect(await send('DELETE', `/v1/state/${key}`, undefined, { 'if-match': '"2"' })).toMatchObject({ status: 204 });
    expect(await send('GET', `/v1/state/${key}`)).toMatchObject({ status: 404 });
    expect(await send('DELETE', `/v1/state/${key}`)).toMatchObject({ status: 404 });
    // Written again after a delete, a key never hands out an ETag it had before.
    expect(await send('PUT', `/v1/state/${key}`, '7', json)).toMatchObject({ status: 201, etag: '"4"' });
    expect(await send('GET', `/v1/state/${key}`)).toMatchObject({ status: 200, body: 7 });
  });

  it('refuses hostile input with a precise 4xx problem and keeps what was stored', async () => {
    const { send } = await sidecarOnPlatform();
    const json = { 'content-type': 'application/json' };
    const key = uniqueName('k');
    await send('PUT', `/v1/state/${key}`, '{"kept": true}', json);
    const cases: [string, string, string | undefined, Record<string, string>, number, RegExp][] = [
      ['malformed JSON', 'PUT', '{"a": ', json, 400, /JSON/i],
      ['text', 'PUT', 'hello', { 'content-type': 'text/plain' }, 415, /media type|application\/json/i],
      ['xml', 'PUT', '<a/>', { 'content-type': 'application/xml' }, 415, /media type|application\/json/i],
      ['an oversized value', 'PUT', JSON.stringify('x'.repeat(2 * 1024 * 1024)), json, 413, /large|limit/i],
      ['a bad If-Match', 'PUT', '1', { ...json, 'if-match': 'yesterday' }, 400, /If-Match must be an ETag/],
      ['both preconditions', 'PUT', '1', { ...json, 'if-match': '"1"', 'if-none-match': '*' }, 400, /not both/],
    ];
    for (const [what, method, body, headers, status, detail] of cases) {
      const answer = await send(method, `/v1/state/${key}`, body, headers);
      expect({ what, status: answer.status, type: answer.type }).toEqual({ what, status, type: expect.stringContaining('application/problem+json') });
      expect(answer.body.detail, what).toMatch(detail);
    }
    const long = await send('GET', `/v1/state/${'k'.repeat(101)}`);
    expect(long.status).toBeGreaterThanOrEqual(400);
    expect(long.status).toBeLessThan(500);
    expect(long.type).toContain('application/problem+json');
    expect(await send('GET', `/v1/state/${key}`)).toMatchObject({ status: 200, etag: '"1"', body: { kept: true } });
    expect((await send('GET', '/health/ready')).status).toBe(200);
  });
});

describe('the OpenAPI document', () => {
  it('lists exactly the routes the running sidecar serves', async () => {
    const { routes, host } = await sidecarOnPlatform();
    const document = parseYaml(readFileSync(new URL('../openapi.yaml', import.meta.url), 'utf8')) as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(document.paths)
      .flatMap(([path, operations]) => Object.keys(operations).filter((key) => ['get', 'put', 'post', 'delete', 'patch'].includes(key)).map((method) => `${method.toUpperCase()} ${path}`))
      .sort();
    // Every route the sidecar's composition adds is documented, and every documented one is served (the
    // health routes and /metrics are the host's, registered before the composition runs).
    const own = routes.map((route) => `${route.method} ${route.url.replace('/*', '/{key}')}`);
    expect(own.length).toBeGreaterThan(0);
    for (const route of own) expect(documented).toContain(route);
    const missing = documented.filter((route) => {
      const [method, url] = route.split(' ') as [string, string];
      return !host.app.hasRoute({ method: method as 'GET', url: url.replace('{key}', '*') });
    });
    expect(missing).toEqual([]);
  });
});
