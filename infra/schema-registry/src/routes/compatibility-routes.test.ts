import { describe, expect, it } from 'vitest';
import { avroRecord, registryCaller, testRegistryApp } from '../testing/registry.js';

const v1 = avroRecord('t.R', [{ name: 'a', type: 'string' }]);
const v2 = avroRecord('t.R', [{ name: 'a', type: 'string' }, { name: 'b', type: 'int', default: 0 }]);
const noDefault = avroRecord('t.R', [{ name: 'a', type: 'string' }, { name: 'b', type: 'int' }]);
const aAsInt = avroRecord('t.R', [{ name: 'a', type: 'int' }]);

async function setUp() {
  const { app } = await testRegistryApp();
  const call = registryCaller(app);
  await call('POST', '/subjects/s/versions', { schema: v1 });
  await call('POST', '/subjects/s/versions', { schema: v2 });
  return call;
}

describe('compatibility checks', () => {
  it('checks against one version, latest or -1, and changes nothing', async () => {
    const call = await setUp();
    expect((await call('POST', '/compatibility/subjects/s/versions/latest', { schema: noDefault })).body).toEqual({ is_compatible: true });
    expect((await call('POST', '/compatibility/subjects/s/versions/-1', { schema: noDefault })).body).toEqual({ is_compatible: true });
    expect((await call('POST', '/compatibility/subjects/s/versions/1', { schema: noDefault })).body).toEqual({ is_compatible: false });
    expect((await call('POST', '/compatibility/subjects/s/versions/2', { schema: aAsInt })).body).toEqual({ is_compatible: false });
    expect((await call('GET', '/subjects/s/versions')).body).toEqual([1, 2]);
  });

  it('checks against the versions the level looks at when no version is given', async () => {
    const call = await setUp();
    expect((await call('POST', '/compatibility/subjects/s/versions', { schema: noDefault })).body).toEqual({ is_compatible: true });
    await call('PUT', '/config/s', { compatibility: 'BACKWARD_TRANSITIVE' });
    expect((await call('POST', '/compatibility/subjects/s/versions', { schema: noDefault })).body).toEqual({ is_compatible: false });
    await call('PUT', '/config/s', { compatibility: 'NONE' });
    expect((await call('POST', '/compatibility/subjects/s/versions', { schema: aAsInt })).body).toEqual({ is_compatible: true });
  });

  it('explains itself with ?verbose=true, naming the subject version', async () => {
    const call = await setUp();
    await call('DELETE', '/subjects/s/versions/1');
    await call('POST', '/subjects/s/versions', { schema: v1 });
    // Live versions are now 2 and 3; a message about version 3 must say 3, not its position.
    const answer = await call('POST', '/compatibility/subjects/s/versions/3?verbose=true', { schema: aAsInt });
    expect(answer.body.is_compatible).toBe(false);
    expect(answer.body.messages).toHaveLength(1);
    expect(answer.body.messages[0]).toMatch(/^version 3 /);
    expect((await call('POST', '/compatibility/subjects/s/versions/3?verbose=true', { schema: v1 })).body).toEqual({ is_compatible: true, messages: [] });
  });

  it('finds any schema compatible with a subject that has no versions; 40402 for a missing version', async () => {
    const call = await setUp();
    expect((await call('POST', '/compatibility/subjects/empty/versions/latest', { schema: aAsInt })).body).toEqual({ is_compatible: true });
    expect((await call('POST', '/compatibility/subjects/empty/versions', { schema: aAsInt })).body).toEqual({ is_compatible: true });
    expect(await call('POST', '/compatibility/subjects/s/versions/9', { schema: aAsInt })).toMatchObject({ status: 404, body: { error_code: 40402 } });
    expect((await call('POST', '/compatibility/subjects/s/versions/nine', { schema: aAsInt })).body.error_code).toBe(42202);
  });

  it('answers 42201 for an invalid schema, or says so in the messages with ?verbose=true', async () => {
    const call = await setUp();
    expect((await call('POST', '/compatibility/subjects/s/versions/latest', { schema: '{"type":"bogus"}' })).body.error_code).toBe(42201);
    expect((await call('POST', '/compatibility/subjects/s/versions/latest', { schema: 7 })).body.error_code).toBe(42201);
    const verbose = await call('POST', '/compatibility/subjects/s/versions/latest?verbose=true', { schema: '{"type":"bogus"}' });
    expect(verbose.body.is_compatible).toBe(false);
    expect(verbose.body.messages[0]).toMatch(/^Invalid schema of type AVRO, details: /);
  });
});
