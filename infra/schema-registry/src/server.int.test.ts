import { createServer } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { isShoalError } from '@shoal/core';
import { startRegistry } from './server.js';
import { avroRecord, startTestRegistry, testSchemas } from './testing/registry.js';

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

/** One HTTP request to a running registry; the body is sent as JSON unless it is already a string. */
async function request(baseUrl: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { 'content-type': CONTENT_TYPE, accept: CONTENT_TYPE },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
}

const { money, moneyWithNote, orderPlaced, moneyReference: moneyRef } = testSchemas;

describe('a running registry', () => {
  it('keeps every id, version, deletion and setting across a restart, and continues the ids', async () => {
    const first = await startTestRegistry();
    const call = (method: string, path: string, body?: unknown) => request(first.url, method, path, body);
    expect((await call('POST', '/subjects/shoal.common.Money/versions', { schema: money })).body).toEqual({ id: 1 });
    expect((await call('POST', '/subjects/shoal.common.Money/versions', { schema: moneyWithNote })).body).toEqual({ id: 2 });
    expect((await call('POST', '/subjects/orders.order-x/versions', { schema: orderPlaced, references: [moneyRef] })).body).toEqual({ id: 3 });
    await call('DELETE', '/subjects/shoal.common.Money/versions/2');
    await call('PUT', '/config', { compatibility: 'FULL' });
    await call('PUT', '/config/orders.order-x', { compatibility: 'NONE' });
    await call('PUT', '/mode/frozen', { mode: 'READONLY' });
    const before = {
      subjects: (await call('GET', '/subjects?deleted=true')).body,
      versions: (await call('GET', '/subjects/shoal.common.Money/versions?deleted=true')).body,
      order: (await call('GET', '/subjects/orders.order-x/versions/1')).body,
      byId: (await call('GET', '/schemas/ids/3')).body,
    };
    await first.close();

    const second = await startTestRegistry({ dataDir: first.dataDir });
    const again = (method: string, path: string, body?: unknown) => request(second.url, method, path, body);
    expect((await again('GET', '/subjects?deleted=true')).body).toEqual(before.subjects);
    expect((await again('GET', '/subjects/shoal.common.Money/versions?deleted=true')).body).toEqual(before.versions);
    expect((await again('GET', '/subjects/shoal.common.Money/versions')).body).toEqual([1]);
    expect((await again('GET', '/subjects/orders.order-x/versions/1')).body).toEqual(before.order);
    expect((await again('GET', '/schemas/ids/3')).body).toEqual(before.byId);
    expect((await again('GET', '/subjects/shoal.common.Money/versions/1/referencedby')).body).toEqual([3]);
    expect((await again('GET', '/config')).body).toEqual({ compatibilityLevel: 'FULL' });
    expect((await again('GET', '/config/orders.order-x')).body).toEqual({ compatibilityLevel: 'NONE' });
    expect((await again('GET', '/mode/frozen')).body).toEqual({ mode: 'READONLY' });
    // Re-registration answers the old id; a new schema gets the next one.
    expect((await again('POST', '/subjects/shoal.common.Money/versions', { schema: money })).body).toEqual({ id: 1 });
    expect((await again('POST', '/subjects/other/versions', { schema: avroRecord('t.Other', [{ name: 'x', type: 'int' }]) })).body).toEqual({ id: 4 });
  });

  it('gives concurrent registrations of one schema one id, and of different schemas different ids', async () => {
    const registry = await startTestRegistry();
    const same = await Promise.all(
      Array.from({ length: 40 }, (_, i) => request(registry.url, 'POST', `/subjects/s-${i % 8}/versions`, { schema: money })),
    );
    expect(new Set(same.map((r) => `${r.status} ${JSON.stringify(r.body)}`))).toEqual(new Set(['200 {"id":1}']));
    for (let i = 0; i < 8; i++) expect((await request(registry.url, 'GET', `/subjects/s-${i}/versions`)).body).toEqual([1]);

    const different = await Promise.all(
      Array.from({ length: 30 }, (_, i) => request(registry.url, 'POST', `/subjects/d-${i}/versions`, { schema: avroRecord(`t.R${i}`, [{ name: 'x', type: 'int' }]) })),
    );
    const ids = different.map((r) => r.body.id as number);
    expect(new Set(ids).size).toBe(30);
    expect([...ids].sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i + 2));
  });

  it('answers hostile requests with 4xx errors over a real socket and keeps serving', async () => {
    const registry = await startTestRegistry();
    const tenMegabytes = JSON.stringify({ schema: JSON.stringify({ type: 'record', name: 'Big', fields: [], doc: 'x'.repeat(10 * 1024 * 1024) }) });
    const huge = await request(registry.url, 'POST', '/subjects/a/versions', tenMegabytes);
    expect(huge.status).toBe(413);
    expect(huge.body.error_code).toBe(413);
    expect((await request(registry.url, 'POST', '/subjects/a/versions', '{"schema": [')).body.error_code).toBe(400);
    expect((await request(registry.url, 'GET', '/no/such/route')).body.error_code).toBe(404);
    expect((await request(registry.url, 'POST', '/subjects/a%2Fb/versions', { schema: money })).body).toEqual({ id: 1 });
    expect((await request(registry.url, 'GET', '/subjects/a%2Fb/versions/1')).body.subject).toBe('a/b');
    expect((await request(registry.url, 'GET', '/subjects')).body).toEqual(['a/b']);
  });

  it('applies the configured default compatibility', async () => {
    const registry = await startTestRegistry({ defaultCompatibility: 'BACKWARD_TRANSITIVE' });
    expect((await request(registry.url, 'GET', '/config')).body).toEqual({ compatibilityLevel: 'BACKWARD_TRANSITIVE' });
  });

  it('names the port and the --port flag when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => void blocker.close());
    const port = (blocker.address() as { port: number }).port;
    const taken = await startTestRegistry({ port }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(isShoalError(taken, 'SHOAL_PORT_IN_USE')).toBe(true);
    expect((taken as Error).message).toBe(`port ${port} on 127.0.0.1 is already in use: stop what holds it or choose another with --port`);
  });

  it('refuses an unknown default compatibility level', async () => {
    const refused = await startRegistry({ dataDir: '/nonexistent', port: 0, defaultCompatibility: 'SIDEWAYS' as never }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(isShoalError(refused, 'SHOAL_CONFIG_INVALID')).toBe(true);
  });
});
