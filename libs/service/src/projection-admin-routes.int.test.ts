import { describe, expect, it, onTestFinished } from 'vitest';
import { tempDir, eventually } from '@shoal/testing';
import type { Projector } from '@shoal/projections';
import { orderProjection, publishOrders, startProjectionPlatform } from '@shoal/projections/testing';
import { createServiceLogger } from './logging.js';
import { projectionAdminRoutes } from './projection-admin-routes.js';
import { createServiceApp } from './service-app.js';

async function adminApp(projectors: Projector[]) {
  const app = createServiceApp({ logger: createServiceLogger('test', 'silent') });
  await app.register(projectionAdminRoutes, { projectors });
  onTestFinished(() => app.close());
  return app;
}

describe('projection admin routes', () => {
  it('lists projections, shows one, starts a rebuild and refuses a second one or an unknown name as problem+json', async () => {
    const platform = await startProjectionPlatform();
    await publishOrders(platform.publisher, 0, 6000);
    const projector = platform.projector({ projection: orderProjection(), dataDir: tempDir('projection') });
    await projector.start();
    await projector.whenCaughtUp();
    const app = await adminApp([projector]);

    const list = await app.inject({ method: 'GET', url: '/admin/projections' });
    expect(list.statusCode).toBe(200);
    const [listed] = list.json().projections;
    expect(listed).toMatchObject({ name: 'order-counts', version: 1, state: 'running', stale: false, lag: 0, applied: 6000, rebuilding: false, rebuild: null, error: null });
    expect(listed.model).toMatchObject({ file: 'order-counts.v1.g1.db', generation: 1, builtFrom: 'beginning' });
    expect(listed.partitions.map((p: { partition: number }) => p.partition)).toEqual([0, 1, 2]);
    expect(listed.partitions.reduce((sum: number, p: { nextOffset: number }) => sum + p.nextOffset, 0)).toBe(6000);

    const started = await app.inject({ method: 'POST', url: '/admin/projections/order-counts/rebuild', payload: { from: 'beginning' } });
    expect(started.statusCode).toBe(202);
    expect(started.headers.location).toBe('/admin/projections/order-counts');
    expect(started.json()).toMatchObject({ projection: 'order-counts', state: 'building', generation: 2, reason: 'requested', from: 'beginning', total: 6000 });
    expect(started.json().partitions).toHaveLength(3);

    const again = await app.inject({ method: 'POST', url: '/admin/projections/order-counts/rebuild' });
    expect(again.statusCode).toBe(409);
    expect(again.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(again.json()).toMatchObject({ type: 'urn:shoal:error:SHOAL_PROJECTION_REBUILDING', title: 'Conflict', status: 409, code: 'SHOAL_PROJECTION_REBUILDING' });

    const finished = await eventually(async () => {
      const shown = (await app.inject({ method: 'GET', url: '/admin/projections/order-counts' })).json();
      expect(shown.rebuild.state).toBe('swapped');
      return shown;
    });
    expect(finished).toMatchObject({ rebuilding: false, model: { generation: 2 }, rebuild: { done: 6000, total: 6000, etaSeconds: 0 } });
    expect(finished.rebuild.partitions.every((p: { caughtUp: boolean }) => p.caughtUp)).toBe(true);

    const missing = await app.inject({ method: 'GET', url: '/admin/projections/nope' });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(missing.json()).toEqual({
      type: 'urn:shoal:error:SHOAL_PROJECTION_NOT_FOUND',
      title: 'Not Found',
      status: 404,
      detail: "No projection named 'nope' here (known: order-counts)",
      code: 'SHOAL_PROJECTION_NOT_FOUND',
      instance: '/admin/projections/nope',
      projection: 'nope',
      known: ['order-counts'],
    });
    expect((await app.inject({ method: 'POST', url: '/admin/projections/nope/rebuild', payload: {} })).statusCode).toBe(404);
  });

  it('rebuilds from a timestamp given as RFC 3339 or milliseconds, and refuses bodies it cannot read', async () => {
    const platform = await startProjectionPlatform();
    await publishOrders(platform.publisher, 0, 300);
    const projector = platform.projector({ projection: orderProjection(), dataDir: tempDir('projection') });
    await projector.start();
    const now = Date.parse('2030-01-01T00:00:00Z');
    const app = createServiceApp({ logger: createServiceLogger('test', 'silent') });
    await app.register(projectionAdminRoutes, { projectors: [projector], now: () => now });
    onTestFinished(() => app.close());

    const bad = async (payload: unknown) => {
      const response = await app.inject({ method: 'POST', url: '/admin/projections/order-counts/rebuild', payload: payload as object });
      expect(response.statusCode, response.body).toBe(400);
      expect(response.json().code).toBe('SHOAL_REQUEST_INVALID');
      return response.json().detail as string;
    };
    expect(await bad({ fromTimestamp: 'yesterday' })).toContain('RFC 3339');
    expect(await bad({ fromTimestamp: '2029-12-31T00:00:00' })).toContain('RFC 3339');
    expect(await bad({ fromTimestamp: '2031-01-01T00:00:00Z' })).toContain('in the future');
    expect(await bad({ from: 'end' })).toContain('Invalid request');
    expect(await bad({ from: 'beginning', fromTimestamp: 5 })).toContain('not both');

    const byDate = await app.inject({ method: 'POST', url: '/admin/projections/order-counts/rebuild', payload: { fromTimestamp: '2029-12-31T23:00:00+01:00' } });
    expect(byDate.statusCode, byDate.body).toBe(202);
    expect(byDate.json()).toMatchObject({ from: { timestamp: Date.parse('2029-12-31T22:00:00Z') }, total: 0 });
    await projector.rebuilding()?.done;
    const byMs = await app.inject({ method: 'POST', url: '/admin/projections/order-counts/rebuild', payload: { fromTimestamp: 0 } });
    expect(byMs.statusCode, byMs.body).toBe(202);
    expect(byMs.json()).toMatchObject({ from: { timestamp: 0 }, total: 300 });
  });
});
