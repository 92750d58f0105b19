import { describe, expect, it } from 'vitest';
import { avroRecord, registryCaller, testRegistryApp } from '../testing/registry.js';

const v1 = avroRecord('t.R', [{ name: 'a', type: 'string' }]);
const v2 = avroRecord('t.R', [{ name: 'a', type: 'string' }, { name: 'b', type: 'int', default: 0 }]);

async function setUp(defaultCompatibility?: 'BACKWARD' | 'BACKWARD_TRANSITIVE') {
  const { app } = await testRegistryApp(defaultCompatibility ? { defaultCompatibility } : {});
  return registryCaller(app);
}

describe('compatibility config', () => {
  it('starts at the configured default, changes with PUT and goes back with DELETE', async () => {
    const call = await setUp('BACKWARD_TRANSITIVE');
    expect((await call('GET', '/config')).body).toEqual({ compatibilityLevel: 'BACKWARD_TRANSITIVE' });
    expect((await call('PUT', '/config', { compatibility: 'full' })).body).toEqual({ compatibility: 'FULL' });
    expect((await call('GET', '/config')).body).toEqual({ compatibilityLevel: 'FULL' });
    expect((await call('DELETE', '/config')).body).toEqual({ compatibilityLevel: 'FULL' });
    expect((await call('GET', '/config')).body).toEqual({ compatibilityLevel: 'BACKWARD_TRANSITIVE' });
  });

  it('answers 40408 for a subject without its own level unless ?defaultToGlobal=true', async () => {
    const call = await setUp();
    expect(await call('GET', '/config/a')).toMatchObject({
      status: 404,
      body: { error_code: 40408, message: "Subject 'a' does not have subject-level compatibility configured" },
    });
    expect((await call('GET', '/config/a?defaultToGlobal=true')).body).toEqual({ compatibilityLevel: 'BACKWARD' });
    expect((await call('PUT', '/config/a', { compatibility: 'NONE' })).body).toEqual({ compatibility: 'NONE' });
    expect((await call('GET', '/config/a')).body).toEqual({ compatibilityLevel: 'NONE' });
    expect((await call('GET', '/config')).body).toEqual({ compatibilityLevel: 'BACKWARD' });
    expect((await call('DELETE', '/config/a')).body).toEqual({ compatibilityLevel: 'NONE' });
    expect(await call('DELETE', '/config/a')).toMatchObject({ status: 404, body: { error_code: 40401 } });
    expect((await call('GET', '/config/a')).body.error_code).toBe(40408);
  });

  it('rejects unknown levels and malformed bodies with 42203', async () => {
    const call = await setUp();
    for (const body of [{ compatibility: 'SIDEWAYS' }, { compatibility: 3 }, {}, ['FULL'], { compatibilityLevel: 'FULL' }]) {
      for (const url of ['/config', '/config/a']) {
        const answer = await call('PUT', url, body);
        expect(answer.status, JSON.stringify(body)).toBe(422);
        expect(answer.body.error_code, JSON.stringify(body)).toBe(42203);
      }
    }
    expect((await call('GET', '/config')).body).toEqual({ compatibilityLevel: 'BACKWARD' });
  });
});

describe('modes', () => {
  it('reads, sets and resets the global and subject modes', async () => {
    const call = await setUp();
    expect((await call('GET', '/mode')).body).toEqual({ mode: 'READWRITE' });
    expect(await call('GET', '/mode/a')).toMatchObject({
      status: 404,
      body: { error_code: 40409, message: "Subject 'a' does not have subject-level mode configured" },
    });
    expect((await call('GET', '/mode/a?defaultToGlobal=true')).body).toEqual({ mode: 'READWRITE' });
    expect((await call('PUT', '/mode/a', { mode: 'readonly' })).body).toEqual({ mode: 'READONLY' });
    expect((await call('GET', '/mode/a')).body).toEqual({ mode: 'READONLY' });
    expect((await call('DELETE', '/mode/a')).body).toEqual({ mode: 'READONLY' });
    expect((await call('DELETE', '/mode/a')).body.error_code).toBe(40401);
    expect((await call('PUT', '/mode', { mode: 'READONLY' })).body).toEqual({ mode: 'READONLY' });
    expect((await call('DELETE', '/mode')).body).toEqual({ mode: 'READONLY' });
    expect((await call('GET', '/mode')).body).toEqual({ mode: 'READWRITE' });
    for (const body of [{ mode: 'WRITEONLY' }, { mode: 1 }, {}]) expect((await call('PUT', '/mode', body)).body.error_code).toBe(42204);
  });

  it('READONLY refuses registrations and deletes with 42205 and still serves reads', async () => {
    const call = await setUp();
    await call('POST', '/subjects/a/versions', { schema: v1 });
    await call('PUT', '/mode/a', { mode: 'READONLY' });
    const refused = await call('POST', '/subjects/a/versions', { schema: v2 });
    expect(refused).toMatchObject({ status: 422, body: { error_code: 42205, message: 'Subject a is in read-only mode' } });
    expect((await call('DELETE', '/subjects/a/versions/1')).body.error_code).toBe(42205);
    expect((await call('DELETE', '/subjects/a')).body.error_code).toBe(42205);
    expect((await call('GET', '/subjects/a/versions/1')).status).toBe(200);
    // Other subjects follow the global mode.
    expect((await call('POST', '/subjects/b/versions', { schema: v2 })).status).toBe(200);
    await call('PUT', '/mode', { mode: 'READONLY' });
    expect((await call('POST', '/subjects/c/versions', { schema: v2 })).body.error_code).toBe(42205);
  });

  it('IMPORT needs an empty scope (or ?force=true) and takes explicit ids and versions', async () => {
    const call = await setUp();
    await call('POST', '/subjects/existing/versions', { schema: v1 });
    expect(await call('PUT', '/mode', { mode: 'IMPORT' })).toMatchObject({
      status: 422,
      body: { error_code: 42205, message: 'Cannot import since found existing subjects' },
    });
    expect((await call('PUT', '/mode/imported', { mode: 'IMPORT' })).body).toEqual({ mode: 'IMPORT' });
    // Without an id, registration is refused in IMPORT mode; with one, it is taken as given, unchecked.
    expect((await call('POST', '/subjects/imported/versions', { schema: v2 })).body.error_code).toBe(42205);
    expect((await call('POST', '/subjects/imported/versions', { schema: v2, id: 100, version: 7 })).body).toEqual({ id: 100 });
    expect((await call('POST', '/subjects/imported/versions', { schema: v2, id: 100, version: 7 })).body).toEqual({ id: 100 });
    expect((await call('GET', '/subjects/imported/versions/7')).body).toMatchObject({ id: 100, version: 7 });
    expect((await call('GET', '/schemas/ids/100')).status).toBe(200);
    // An id that holds another schema, or a schema that already has another id, is not overwritten.
    expect((await call('POST', '/subjects/imported/versions', { schema: v1, id: 100 })).body.error_code).toBe(42205);
    expect((await call('POST', '/subjects/imported/versions', { schema: v1, id: 5 })).body.error_code).toBe(42205);
    // An explicit id outside IMPORT mode is refused.
    expect((await call('POST', '/subjects/existing/versions', { schema: v2, id: 101 })).body.error_code).toBe(42205);
    // Back in READWRITE, new ids continue after the imported ones.
    await call('DELETE', '/mode/imported');
    const next = await call('POST', '/subjects/fresh/versions', { schema: avroRecord('t.Other', [{ name: 'x', type: 'int' }]) });
    expect(next.body).toEqual({ id: 101 });
    expect((await call('PUT', '/mode?force=true', { mode: 'IMPORT' })).body).toEqual({ mode: 'IMPORT' });
  });
});
