import { describe, expect, it } from 'vitest';
import { avroRecord, registryCaller, testRegistryApp, testSchemas } from '../testing/registry.js';

const { money } = testSchemas;
const event = avroRecord('shoal.orders.OrderCancelled', [{ name: 'orderId', type: 'string' }]);

async function setUp() {
  const { app } = await testRegistryApp();
  return registryCaller(app);
}

describe('schemas by id', () => {
  it('serves the schema, its subjects and its subject versions', async () => {
    const call = await setUp();
    await call('POST', '/subjects/a/versions', { schema: money });
    await call('POST', '/subjects/b/versions', { schema: event });
    // Several event types share a subject only without a compatibility check between them.
    await call('PUT', '/config/b', { compatibility: 'NONE' });
    expect((await call('POST', '/subjects/b/versions', { schema: money })).body).toEqual({ id: 1 });
    const byId = await call('GET', '/schemas/ids/1');
    expect(byId).toMatchObject({ status: 200, contentType: 'application/vnd.schemaregistry.v1+json' });
    expect(byId.body).toEqual({ schema: (await call('GET', '/subjects/a/versions/1')).body.schema });
    expect((await call('GET', '/schemas/ids/1?subject=a&format=')).body).toEqual(byId.body);
    expect((await call('GET', '/schemas/ids/1/schema')).body).toEqual(JSON.parse(byId.body.schema));
    expect((await call('GET', '/schemas/ids/1/subjects')).body).toEqual(['a', 'b']);
    expect((await call('GET', '/schemas/ids/1/versions')).body).toEqual([
      { subject: 'a', version: 1 },
      { subject: 'b', version: 2 },
    ]);
    expect((await call('GET', '/schemas/ids/2/versions')).body).toEqual([{ subject: 'b', version: 1 }]);
  });

  it('hides soft-deleted versions unless ?deleted=true, and keeps serving the schema', async () => {
    const call = await setUp();
    await call('POST', '/subjects/a/versions', { schema: money });
    await call('POST', '/subjects/b/versions', { schema: money });
    await call('DELETE', '/subjects/a');
    expect((await call('GET', '/schemas/ids/1/subjects')).body).toEqual(['b']);
    expect((await call('GET', '/schemas/ids/1/subjects?deleted=true')).body).toEqual(['a', 'b']);
    expect((await call('GET', '/schemas/ids/1/versions?deleted=true')).body).toHaveLength(2);
    expect((await call('GET', '/schemas/ids/1')).status).toBe(200);
  });

  it('answers 40403 for ids that do not exist or are not numbers', async () => {
    const call = await setUp();
    await call('POST', '/subjects/a/versions', { schema: money });
    for (const id of ['2', '0', '-1', 'abc', '99999999999']) {
      for (const suffix of ['', '/schema', '/subjects', '/versions']) {
        const answer = await call('GET', `/schemas/ids/${id}${suffix}`);
        expect(answer.status, `${id}${suffix}`).toBe(404);
        expect(answer.body.error_code, `${id}${suffix}`).toBe(40403);
      }
    }
    expect((await call('GET', '/schemas/ids/2')).body.message).toBe('Schema 2 not found');
  });

  it('lists AVRO as the only schema type', async () => {
    const call = await setUp();
    expect((await call('GET', '/schemas/types')).body).toEqual(['AVRO']);
  });
});
