import { describe, expect, it, onTestFinished } from 'vitest';
import { buildRegistryApp } from './app.js';
import { Registry } from './registry.js';
import { RegistryStore } from './registry-store.js';
import { avroRecord, registryCaller, testRegistryApp } from './testing/registry.js';

const money = avroRecord('shoal.common.Money', [{ name: 'amount', type: 'long' }]);

describe('the HTTP surface', () => {
  it('answers the root resource with {} and every route with the registry content type', async () => {
    const { app } = await testRegistryApp();
    const call = registryCaller(app);
    expect(await call('GET', '/')).toEqual({ status: 200, contentType: 'application/vnd.schemaregistry.v1+json', body: {} });
    expect((await call('POST', '/', {})).body).toEqual({});
    expect((await call('GET', '/subjects')).contentType).toBe('application/vnd.schemaregistry.v1+json');
    expect((await call('GET', '/subjects/nope/versions')).contentType).toBe('application/vnd.schemaregistry.v1+json');
  });

  it('answers unknown routes and methods with 404 in the error shape', async () => {
    const { app } = await testRegistryApp();
    const call = registryCaller(app);
    for (const [method, url] of [
      ['GET', '/nope'],
      ['PUT', '/subjects'],
      ['GET', '/subjects/a/versions/1/nope'],
      ['DELETE', '/schemas/ids/1'],
    ] as const) {
      const answer = await call(method, url);
      expect(answer.status, url).toBe(404);
      expect(answer.body.error_code, url).toBe(404);
      expect(answer.body.message, url).toContain(url);
    }
  });

  it('accepts bodyless DELETE and GET requests that still carry a JSON content type', async () => {
    const { app } = await testRegistryApp();
    const call = registryCaller(app);
    await call('POST', '/subjects/a/versions', { schema: money });
    expect((await call('DELETE', '/subjects/a/versions/1', '')).body).toBe(1);
    expect((await call('GET', '/subjects', '')).body).toEqual([]);
  });

  it('turns hostile input into clear 4xx errors and keeps serving', async () => {
    const { app } = await testRegistryApp({ bodyLimit: 1024 * 1024 });
    const call = registryCaller(app);
    const malformed = await call('POST', '/subjects/a/versions', '{"schema": ');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error_code).toBe(400);
    expect(malformed.body.message).toMatch(/^Malformed JSON request body: /);

    const plain = await call('POST', '/subjects/a/versions', money, 'text/plain');
    expect(plain).toMatchObject({ status: 415, body: { error_code: 415 } });
    expect(plain.body.message).toContain("'text/plain'");
    expect((await call('POST', '/subjects/a/versions', 'schema=x', 'application/x-www-form-urlencoded')).status).toBe(415);

    const huge = await call('POST', '/subjects/a/versions', JSON.stringify({ schema: 'x'.repeat(10 * 1024 * 1024) }));
    expect(huge).toMatchObject({ status: 413, body: { error_code: 413, message: 'Request body is larger than the limit of 1048576 bytes' } });

    for (const body of ['null', '[]', '"schema"', '17', '{"__proto__": {"schema": "\\"string\\""}}']) {
      const answer = await call('POST', '/subjects/a/versions', body);
      expect(answer.status, body).toBe(422);
      expect(answer.body.error_code, body).toBe(42201);
    }
    const deep = '{"type":"array","items":'.repeat(20_000) + '"int"' + '}'.repeat(20_000);
    const tooDeep = await call('POST', '/subjects/a/versions', { schema: deep });
    expect(tooDeep).toMatchObject({ status: 422, body: { error_code: 42201 } });
    expect(tooDeep.body.message).toContain('nests too deeply');

    expect((await call('POST', '/subjects/a/versions', { schema: money })).body).toEqual({ id: 1 });
    expect((await call('GET', '/subjects')).body).toEqual(['a']);
  });

  it('answers 50001 when the store fails', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'shoal-registry-broken-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const store = new RegistryStore(dir);
    const app = buildRegistryApp({ registry: new Registry({ store, defaultCompatibility: 'BACKWARD' }) });
    onTestFinished(async () => {
      await app.close();
      store.close();
    });
    // A store that lost a table: every statement on it fails inside SQLite.
    store.db.exec('DROP TABLE subject_versions');
    const answer = await registryCaller(app)('GET', '/subjects');
    expect(answer.status).toBe(500);
    expect(answer.body.error_code).toBe(50001);
    expect(answer.body.message).toMatch(/^Error in the backend data store: /);
  });
});
