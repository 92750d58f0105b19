/**
 * The sidecar's store on both adapters from the same test code (SQLite and PostgreSQL): the state API and
 * POST /v1/events over HTTP against a listening app on each adapter's database, with ETags, safe retries by
 * id and the pruning of the ids after their retention; and, on PostgreSQL where two instances share one
 * database in one process, two instances racing one key's If-Match (SQLite instances are separate
 * processes: test/sidecar/rebalance.test.ts). Then the sidecar itself given DATABASE_URL.
 */
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { loadSchemaCatalog } from '@shoal/contract';
import { createServiceApp, createServiceLogger } from '@shoal/service';
import type { ServiceDatabase } from '@shoal/store';
import { storeAdapters, testPostgresDatabaseUrl } from '@shoal/store-postgres/testing';
import { startTestPlatform } from '@shoal/contract/testing';
import { watchTopics } from '@shoal/service/testing';
import { uniqueName } from '@shoal/testing';
import type { EffectsContext } from './effects.js';
import { prunePublishedIds, publishRoutes } from './publish-routes.js';
import { createSidecarTables } from './sidecar-tables.js';
import { stateRoutes } from './state-routes.js';
import { StateTable } from './state-table.js';
import { startTestMicrologic, startTestSidecar } from './testing/index.js';

const catalog = loadSchemaCatalog();

/** The sidecar's state and publish routes on `database`, listening on a free port; `clock` is its time. */
async function sidecarApi(database: ServiceDatabase, clock: { now: number }) {
  await createSidecarTables(database);
  const state = new StateTable(() => clock.now);
  const effects: EffectsContext = { source: '/shoal/loyalty', state, now: () => new Date(clock.now) };
  const app = createServiceApp({ logger: createServiceLogger('loyalty', 'silent') });
  await app.register(stateRoutes({ database, state }));
  await app.register(publishRoutes({ database, catalog, publishes: new Set(['shoal.loyalty.PointsAwarded']), effects }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  onTestFinished(() => app.close());
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const type = path === '/v1/events' ? 'application/cloudevents+json' : 'application/json';
    const response = await fetch(`${url}${path}`, { method, headers: body === undefined ? headers : { 'content-type': type, ...headers }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const text = await response.text();
    return { status: response.status, etag: response.headers.get('etag'), body: text === '' ? undefined : (JSON.parse(text) as any) };
  };
}

const points = (orderId: string, id: string) => ({
  type: 'shoal.loyalty.PointsAwarded',
  subject: orderId,
  id,
  data: { orderId, customerId: 'c1', points: 1, total: { amount: 100, currency: 'EUR' }, balance: 1, awardedAt: 1 },
});

describe.each(storeAdapters)('the sidecar store on $name', (adapter) => {
  it.skipIf(adapter.missing !== undefined)('serves /v1/state with ETags, If-Match and If-None-Match', async () => {
    const database = await adapter.open(catalog);
    const send = await sidecarApi(database, { now: 1_000 });
    expect(await send('PUT', '/v1/state/customer/c1', { points: 1 })).toMatchObject({ status: 201, etag: '"1"', body: { key: 'customer/c1', etag: '"1"' } });
    expect(await send('GET', '/v1/state/customer/c1')).toMatchObject({ status: 200, etag: '"1"', body: { points: 1 } });
    expect(await send('PUT', '/v1/state/customer/c1', { points: 2 }, { 'if-match': '"1"' })).toMatchObject({ status: 200, etag: '"2"' });
    const stale = await send('PUT', '/v1/state/customer/c1', { points: 9 }, { 'if-match': '"1"' });
    expect(stale).toMatchObject({ status: 412, body: { code: 'SHOAL_CONCURRENCY_CONFLICT', etag: '"2"' } });
    expect(await send('PUT', '/v1/state/customer/c1', { points: 9 }, { 'if-none-match': '*' })).toMatchObject({ status: 412, body: { etag: '"2"' } });
    expect(await send('DELETE', '/v1/state/customer/c1', undefined, { 'if-match': '"1"' })).toMatchObject({ status: 412 });
    expect(await send('DELETE', '/v1/state/customer/c1', undefined, { 'if-match': '"2"' })).toMatchObject({ status: 204 });
    expect(await send('GET', '/v1/state/customer/c1')).toMatchObject({ status: 404, body: { code: 'SHOAL_NOT_FOUND' } });
    expect(await send('DELETE', '/v1/state/customer/c1')).toMatchObject({ status: 404 });
    expect(await send('PUT', '/v1/state/customer/c1', { points: 1 }, { 'if-match': '*' })).toMatchObject({ status: 412, body: { etag: null } });
    // Deleted and written again: an ETag it had before is never handed out again.
    expect(await send('PUT', '/v1/state/customer/c1', { points: 3 }, { 'if-none-match': '*' })).toMatchObject({ status: 201, etag: '"4"' });
    expect(await send('GET', '/v1/state/customer/c1')).toMatchObject({ status: 200, etag: '"4"', body: { points: 3 } });
  });

  it.skipIf(adapter.missing !== undefined)('takes an id of POST /v1/events once within its retention, and no longer as a duplicate after it', async () => {
    const database = await adapter.open(catalog);
    const clock = { now: Date.UTC(2026, 0, 1) };
    const send = await sidecarApi(database, clock);
    const order = uniqueName('o');
    expect(await send('POST', '/v1/events', points(order, `id-${order}`))).toMatchObject({ status: 202, body: { id: `id-${order}`, topic: 'loyalty.points' } });
    clock.now += 60_000;
    const fresh = uniqueName('o');
    expect(await send('POST', '/v1/events', points(fresh, `id-${fresh}`))).toMatchObject({ status: 202 });
    expect(await send('POST', '/v1/events', points(order, `id-${order}`))).toMatchObject({ status: 202, body: { id: `id-${order}`, duplicate: true } });
    const outboxIds = async () => (await database.sql.all<{ id: string }>('SELECT id FROM outbox ORDER BY sequence')).map((row) => row.id);
    expect(await outboxIds()).toEqual([`id-${order}`, `id-${fresh}`]);

    // Pruned in chunks of one: everything accepted before the cut goes, nothing after it.
    expect(await prunePublishedIds(database, clock.now, 1)).toBe(1);
    expect(await database.sql.all<{ id: string }>('SELECT id FROM sidecar_published')).toEqual([{ id: `id-${fresh}` }]);
    expect(await send('POST', '/v1/events', points(fresh, `id-${fresh}`))).toMatchObject({ status: 202, body: { duplicate: true } });
    // Past its retention the id is not answered as a duplicate any more; the outbox, which still holds the
    // event (it keeps published rows 24 h, less than the ids' retention), refuses it naming the id.
    const forgotten = await send('POST', '/v1/events', points(order, `id-${order}`));
    expect(forgotten).toMatchObject({ status: 400, body: { code: 'SHOAL_EVENT_INVALID' } });
    expect(forgotten.body.detail).toContain('already in the outbox');
    expect(await outboxIds()).toEqual([`id-${order}`, `id-${fresh}`]);
  });

  it.skipIf(adapter.missing !== undefined || adapter.name === 'sqlite')('lets one of two instances racing one If-Match win, and the other get a 412', async () => {
    const database = await adapter.open(catalog);
    const other = await adapter.reopen(database, catalog);
    const clock = { now: 1_000 };
    const [first, second] = [await sidecarApi(database, clock), await sidecarApi(other, clock)];
    for (let round = 0; round < 20; round++) {
      const key = `race/${round}`;
      await first('PUT', `/v1/state/${key}`, { n: 0 });
      const answers = await Promise.all([first('PUT', `/v1/state/${key}`, { n: 1 }, { 'if-match': '"1"' }), second('PUT', `/v1/state/${key}`, { n: 2 }, { 'if-match': '"1"' })]);
      expect(answers.map((answer) => answer.status).sort(), key).toEqual([200, 412]);
      const winner = answers.find((answer) => answer.status === 200)!;
      expect(winner.etag).toBe('"2"');
      const stored = await second('GET', `/v1/state/${key}`);
      expect(stored.etag).toBe('"2"');
      expect(stored.body).toEqual({ n: answers[0]!.status === 200 ? 1 : 2 });
    }
    // Unconditional writes from both never lose a version: each is one more.
    await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? first : second)('PUT', '/v1/state/counter', { i })));
    expect((await first('GET', '/v1/state/counter')).etag).toBe('"10"');
  });
});

describe('the sidecar prunes the ids of POST /v1/events', () => {
  it('older than its publishedRetention, on its own clock, and only those', async () => {
    const clock = { now: Date.UTC(2026, 0, 1) };
    const micrologic = await startTestMicrologic();
    const { host, sidecar } = await startTestSidecar({ app: micrologic.url, publishes: ['shoal.loyalty.PointsAwarded'], publishedRetention: '1h' }, { build: { now: () => new Date(clock.now) } });
    const post = (orderId: string) => host.app.inject({ method: 'POST', url: '/v1/events', headers: { 'content-type': 'application/cloudevents+json' }, payload: JSON.stringify(points(orderId, `id-${orderId}`)) });
    const [old, recent] = [uniqueName('o'), uniqueName('o')];
    expect((await post(old)).statusCode).toBe(202);
    clock.now += 40 * 60_000;
    expect((await post(recent)).statusCode).toBe(202);
    clock.now += 30 * 60_000;
    expect(await sidecar.prunePublished()).toBe(1);
    expect(await sidecar.database.sql.all<{ id: string }>('SELECT id FROM sidecar_published')).toEqual([{ id: `id-${recent}` }]);
    expect((await post(recent)).json()).toMatchObject({ duplicate: true });
  });
});

describe.skipIf(storeAdapters[1]!.missing !== undefined)('the sidecar with DATABASE_URL', () => {
  it('publishes through its outbox on PostgreSQL and keeps its state there', async () => {
    const url = await testPostgresDatabaseUrl();
    const platform = await startTestPlatform();
    const micrologic = await startTestMicrologic();
    const { host, sidecar } = await startTestSidecar({ app: micrologic.url, publishes: ['shoal.loyalty.PointsAwarded'] }, { platform, env: { DATABASE_URL: url } });
    expect(sidecar.database.sql.dialect).toBe('postgres');
    const published = await watchTopics(platform, ['loyalty.points']);
    const order = uniqueName('o');
    const send = (method: 'POST' | 'PUT' | 'GET', path: string, body?: unknown, type = 'application/cloudevents+json') =>
      host.app.inject({ method, url: path, ...(body === undefined ? {} : { headers: { 'content-type': type }, payload: JSON.stringify(body) }) });
    expect((await send('POST', '/v1/events', points(order, `id-${order}`))).statusCode).toBe(202);
    expect((await send('POST', '/v1/events', points(order, `id-${order}`))).json()).toMatchObject({ duplicate: true });
    const [event] = await published.waitFor('shoal.loyalty.PointsAwarded', { subject: order });
    expect(event!.id).toBe(`id-${order}`);
    expect((await send('PUT', '/v1/state/customer/c1', { points: 1 }, 'application/json')).headers.etag).toBe('"1"');
    expect((await send('GET', '/v1/state/customer/c1')).json()).toEqual({ points: 1 });
    expect(await sidecar.database.sql.get<{ n: number }>('SELECT COUNT(*)::int AS n FROM sidecar_state')).toEqual({ n: 1 });
  });
});
