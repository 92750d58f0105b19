import { describe, expect, it } from 'vitest';
import { avroRecord, registryCaller, testRegistryApp, testSchemas } from '../testing/registry.js';

const { money, moneyWithNote, moneyAsString, orderPlaced, moneyReference: moneyRef } = testSchemas;

async function setUp() {
  const { app } = await testRegistryApp();
  return registryCaller(app);
}

describe('registration', () => {
  it('gives one global id per schema, a new version per subject, and the existing id on re-registration', async () => {
    const call = await setUp();
    const first = await call('POST', '/subjects/a-value/versions', { schema: money });
    expect(first).toMatchObject({ status: 200, contentType: 'application/vnd.schemaregistry.v1+json', body: { id: 1 } });
    // The same schema written differently (whitespace, key order) is the same schema.
    const reordered = JSON.stringify({ fields: JSON.parse(money).fields, namespace: 'shoal.common', name: 'Money', type: 'record' });
    expect((await call('POST', '/subjects/a-value/versions', { schema: `  ${reordered}\n` })).body).toEqual({ id: 1 });
    expect((await call('GET', '/subjects/a-value/versions')).body).toEqual([1]);
    // Another subject: same id, its own version 1.
    expect((await call('POST', '/subjects/b-value/versions', { schema: money, schemaType: 'AVRO' })).body).toEqual({ id: 1 });
    expect((await call('GET', '/subjects/b-value/versions/1')).body).toMatchObject({ subject: 'b-value', version: 1, id: 1 });
    // A compatible evolution: a new id and version 2.
    expect((await call('POST', '/subjects/a-value/versions', { schema: moneyWithNote })).body).toEqual({ id: 2 });
    expect((await call('GET', '/subjects/a-value/versions')).body).toEqual([1, 2]);
    expect((await call('GET', '/subjects')).body).toEqual(['a-value', 'b-value']);
  });

  it('answers a version with subject, version, id and the normalized schema, and no schemaType for AVRO', async () => {
    const call = await setUp();
    await call('POST', '/subjects/a/versions', { schema: money });
    await call('POST', '/subjects/a/versions', { schema: moneyWithNote });
    const latest = await call('GET', '/subjects/a/versions/latest');
    expect(latest.status).toBe(200);
    expect(Object.keys(latest.body)).toEqual(['subject', 'version', 'id', 'schema']);
    expect(latest.body).toMatchObject({ subject: 'a', version: 2, id: 2 });
    expect(JSON.parse(latest.body.schema)).toMatchObject({ type: 'record', name: 'shoal.common.Money' });
    expect((await call('GET', '/subjects/a/versions/-1')).body).toEqual(latest.body);
    expect((await call('GET', '/subjects/a/versions/1')).body).toMatchObject({ version: 1, id: 1 });
    const raw = await call('GET', '/subjects/a/versions/1/schema');
    expect(raw.body).toEqual(JSON.parse((await call('GET', '/subjects/a/versions/1')).body.schema));
  });

  it('refuses an incompatible schema with 409 and the reasons, and registers it once the level allows', async () => {
    const call = await setUp();
    await call('POST', '/subjects/a/versions', { schema: money });
    const refused = await call('POST', '/subjects/a/versions', { schema: moneyAsString });
    expect(refused.status).toBe(409);
    expect(refused.body.error_code).toBe(409);
    expect(refused.body.message).toMatch(/^Schema being registered is incompatible with an earlier schema for subject "a", details: \[version 1 .*\]$/);
    expect((await call('GET', '/subjects/a/versions')).body).toEqual([1]);
    expect((await call('PUT', '/config/a', { compatibility: 'NONE' })).body).toEqual({ compatibility: 'NONE' });
    expect((await call('POST', '/subjects/a/versions', { schema: moneyAsString })).body).toEqual({ id: 2 });
  });

  it('checks only the latest version under BACKWARD and every version under BACKWARD_TRANSITIVE', async () => {
    const call = await setUp();
    const v1 = avroRecord('t.R', [{ name: 'a', type: 'string' }]);
    const v2 = avroRecord('t.R', [{ name: 'a', type: 'string' }, { name: 'b', type: 'int', default: 0 }]);
    // Reads v2 data (b is ignored) but not v1 data: b has no default any more.
    const v3 = avroRecord('t.R', [{ name: 'a', type: 'string' }, { name: 'b', type: 'int' }]);
    for (const subject of ['plain', 'transitive']) {
      await call('POST', `/subjects/${subject}/versions`, { schema: v1 });
      await call('POST', `/subjects/${subject}/versions`, { schema: v2 });
    }
    await call('PUT', '/config/transitive', { compatibility: 'BACKWARD_TRANSITIVE' });
    expect((await call('POST', '/subjects/transitive/versions', { schema: v3 })).status).toBe(409);
    expect((await call('POST', '/subjects/plain/versions', { schema: v3 })).status).toBe(200);
  });

  it('rejects invalid schemas, other schema types and malformed bodies with 42201', async () => {
    const call = await setUp();
    const cases: [unknown, RegExp][] = [
      [{ schema: '{"type":"record","name":"R"}' }, /^Invalid schema of type AVRO, details: /],
      [{ schema: '{not json' }, /^Invalid schema of type AVRO, details: /],
      [{ schema: 'syntax = "proto3";', schemaType: 'PROTOBUF' }, /^Invalid schema type PROTOBUF$/],
      [{ schema: '{}', schemaType: 'JSON' }, /^Invalid schema type JSON$/],
      [{ schema: 42 }, /"schema" must be a string/],
      [{ schema: { type: 'string' } }, /"schema" must be a string/],
      [{ schema: '' }, /^Empty schema$/],
      [{}, /^Empty schema$/],
      [[money], /must be a JSON object/],
      [{ schema: money, references: 'shoal.common.Money' }, /"references" must be an array/],
      [{ schema: money, references: [{ name: 'x', subject: 'y' }] }, /^Invalid reference/],
    ];
    for (const [body, message] of cases) {
      const answer = await call('POST', '/subjects/a/versions', body);
      expect(answer.status, JSON.stringify(body)).toBe(422);
      expect(answer.body.error_code, JSON.stringify(body)).toBe(42201);
      expect(answer.body.message, JSON.stringify(body)).toMatch(message);
    }
    expect((await call('GET', '/subjects')).body).toEqual([]);
  });

  it('accepts ?normalize=true and the other request content types', async () => {
    const call = await setUp();
    for (const type of ['application/vnd.schemaregistry.v1+json', 'application/vnd.schemaregistry+json', 'application/json', 'application/octet-stream']) {
      expect((await call('POST', '/subjects/a/versions?normalize=true', JSON.stringify({ schema: money }), type)).body).toEqual({ id: 1 });
    }
  });
});

describe('lookup', () => {
  it('finds the version holding a schema, 40403 for an unknown schema, 40401 for an unknown subject', async () => {
    const call = await setUp();
    await call('POST', '/subjects/a/versions', { schema: money });
    await call('POST', '/subjects/a/versions', { schema: moneyWithNote });
    const found = await call('POST', '/subjects/a', { schema: money });
    expect(found.status).toBe(200);
    expect(found.body).toEqual({ subject: 'a', version: 1, id: 1, schema: (await call('GET', '/subjects/a/versions/1')).body.schema });
    expect(await call('POST', '/subjects/a', { schema: moneyAsString })).toMatchObject({ status: 404, body: { error_code: 40403, message: 'Schema not found' } });
    expect(await call('POST', '/subjects/nope', { schema: money })).toMatchObject({ status: 404, body: { error_code: 40401, message: "Subject 'nope' not found." } });
    expect((await call('POST', '/subjects/a', { schema: '{"type":"nope"}' })).body.error_code).toBe(42201);
  });

  it('finds soft-deleted versions only with ?deleted=true', async () => {
    const call = await setUp();
    await call('POST', '/subjects/a/versions', { schema: money });
    await call('POST', '/subjects/a/versions', { schema: moneyWithNote });
    await call('DELETE', '/subjects/a/versions/1');
    expect((await call('POST', '/subjects/a', { schema: money })).body.error_code).toBe(40403);
    expect((await call('POST', '/subjects/a?deleted=true', { schema: money })).body).toMatchObject({ version: 1, id: 1 });
  });
});

describe('versions', () => {
  it('rejects versions that are not positive integers, latest or -1 with 42202', async () => {
    const call = await setUp();
    await call('POST', '/subjects/a/versions', { schema: money });
    for (const version of ['0', '-2', 'abc', '1.5', '2147483648', 'LATEST']) {
      const answer = await call('GET', `/subjects/a/versions/${version}`);
      expect(answer.status, version).toBe(422);
      expect(answer.body.error_code, version).toBe(42202);
    }
    expect((await call('GET', '/subjects/a/versions/abc')).body.message).toBe(
      `The specified version 'abc' is not a valid version id. Allowed values are between [1, 2^31-1] and the string "latest"`,
    );
    expect((await call('DELETE', '/subjects/a/versions/0')).body.error_code).toBe(42202);
    expect((await call('GET', '/subjects/a/versions/0/referencedby')).body.error_code).toBe(42202);
  });

  it('answers 40401 for an unknown subject and 40402 for an unknown version', async () => {
    const call = await setUp();
    await call('POST', '/subjects/a/versions', { schema: money });
    expect(await call('GET', '/subjects/nope/versions')).toMatchObject({ status: 404, body: { error_code: 40401, message: "Subject 'nope' not found." } });
    expect(await call('GET', '/subjects/nope/versions/1')).toMatchObject({ status: 404, body: { error_code: 40401 } });
    expect(await call('GET', '/subjects/nope/versions/latest')).toMatchObject({ status: 404, body: { error_code: 40401 } });
    expect(await call('GET', '/subjects/a/versions/7')).toMatchObject({ status: 404, body: { error_code: 40402, message: 'Version 7 not found.' } });
    expect((await call('GET', '/subjects/a/versions/7/schema')).body.error_code).toBe(40402);
  });

  it('keeps subjects with any characters apart, slashes and dots included', async () => {
    const call = await setUp();
    const subjects = ['orders.order-shoal.orders.OrderPlaced', 'a/b', 'a b', 'ünï-🐟', 'x'.repeat(300)];
    for (const subject of subjects) expect((await call('POST', `/subjects/${encodeURIComponent(subject)}/versions`, { schema: money })).status).toBe(200);
    expect((await call('GET', '/subjects')).body).toEqual([...subjects].sort());
    for (const subject of subjects) {
      expect((await call('GET', `/subjects/${encodeURIComponent(subject)}/versions/latest`)).body.subject).toBe(subject);
    }
    expect((await call('GET', '/subjects?subjectPrefix=a')).body).toEqual(['a b', 'a/b']);
  });
});

describe('deletes', () => {
  it('soft-deletes versions: hidden, unused for compatibility, listed with ?deleted=true', async () => {
    const call = await setUp();
    await call('POST', '/subjects/a/versions', { schema: money });
    expect((await call('DELETE', '/subjects/a/versions/1')).body).toBe(1);
    expect((await call('GET', '/subjects/a/versions')).body.error_code).toBe(40401);
    expect((await call('GET', '/subjects/a/versions?deleted=true')).body).toEqual([1]);
    expect((await call('GET', '/subjects')).body).toEqual([]);
    expect((await call('GET', '/subjects?deleted=true')).body).toEqual(['a']);
    expect((await call('GET', '/subjects?deletedOnly=true')).body).toEqual(['a']);
    expect((await call('GET', '/subjects/a/versions/1')).body.error_code).toBe(40401);
    expect((await call('GET', '/subjects/a/versions/1?deleted=true')).body).toMatchObject({ version: 1, id: 1 });
    // The id still serves readers of old data.
    expect((await call('GET', '/schemas/ids/1')).status).toBe(200);
    // An incompatible schema now registers: the deleted version is not compared with.
    expect((await call('POST', '/subjects/a/versions', { schema: moneyAsString })).body).toEqual({ id: 2 });
    expect((await call('GET', '/subjects/a/versions')).body).toEqual([2]);
  });

  it('gives a re-registered soft-deleted schema a new version with the same id', async () => {
    const call = await setUp();
    await call('POST', '/subjects/a/versions', { schema: money });
    await call('POST', '/subjects/a/versions', { schema: moneyWithNote });
    await call('DELETE', '/subjects/a/versions/1');
    expect((await call('POST', '/subjects/a/versions', { schema: money })).body).toEqual({ id: 1 });
    expect((await call('GET', '/subjects/a/versions')).body).toEqual([2, 3]);
    expect((await call('GET', '/subjects/a/versions/3')).body).toMatchObject({ id: 1 });
  });

  it('answers 40406 for a second soft delete and 40407 for a permanent delete without a soft one', async () => {
    const call = await setUp();
    await call('POST', '/subjects/a/versions', { schema: money });
    expect(await call('DELETE', '/subjects/a/versions/1?permanent=true')).toMatchObject({
      status: 404,
      body: { error_code: 40407, message: "Subject 'a' Version 1 was not deleted first before being permanently deleted" },
    });
    await call('DELETE', '/subjects/a/versions/1');
    expect(await call('DELETE', '/subjects/a/versions/1')).toMatchObject({
      status: 404,
      body: { error_code: 40406, message: "Subject 'a' Version 1 was soft deleted.Set permanent=true to delete permanently" },
    });
    expect((await call('DELETE', '/subjects/a/versions/1?permanent=true')).body).toBe(1);
    expect((await call('GET', '/subjects/a/versions?deleted=true')).body.error_code).toBe(40401);
    // No version uses id 1 any more.
    expect((await call('GET', '/schemas/ids/1')).body).toEqual({ error_code: 40403, message: 'Schema 1 not found' });
    expect((await call('DELETE', '/subjects/a/versions/1')).body.error_code).toBe(40401);
  });

  it('soft-deletes a whole subject, then permanently; ids are never reused', async () => {
    const call = await setUp();
    await call('POST', '/subjects/a/versions', { schema: money });
    await call('POST', '/subjects/a/versions', { schema: moneyWithNote });
    await call('PUT', '/config/a', { compatibility: 'FULL' });
    expect(await call('DELETE', '/subjects/a?permanent=true')).toMatchObject({
      status: 404,
      body: { error_code: 40405, message: "Subject 'a' was not deleted first before being permanently deleted" },
    });
    expect((await call('DELETE', '/subjects/a')).body).toEqual([1, 2]);
    expect(await call('DELETE', '/subjects/a')).toMatchObject({
      status: 404,
      body: { error_code: 40404, message: "Subject 'a' was soft deleted.Set permanent=true to delete permanently" },
    });
    // Soft delete keeps the subject's settings; the permanent one removes them.
    expect((await call('GET', '/config/a')).body).toEqual({ compatibilityLevel: 'FULL' });
    expect((await call('DELETE', '/subjects/a?permanent=true')).body).toEqual([1, 2]);
    expect((await call('GET', '/config/a')).body.error_code).toBe(40408);
    expect((await call('GET', '/subjects?deleted=true')).body).toEqual([]);
    expect((await call('DELETE', '/subjects/a')).body.error_code).toBe(40401);
    // Versions start again at 1; the same schema gets its old id back, a new one the next id.
    expect((await call('POST', '/subjects/a/versions', { schema: moneyAsString })).body).toEqual({ id: 3 });
    expect((await call('POST', '/subjects/a/versions', { schema: money, schemaType: null })).status).toBe(409);
    await call('PUT', '/config/a', { compatibility: 'NONE' });
    expect((await call('POST', '/subjects/a/versions', { schema: money })).body).toEqual({ id: 1 });
    expect((await call('GET', '/subjects/a/versions')).body).toEqual([1, 2]);
  });
});

describe('references', () => {
  it('registers a record that uses shoal.common.Money by reference and serves the reference back', async () => {
    const call = await setUp();
    expect((await call('POST', '/subjects/shoal.common.Money/versions', { schema: money })).body).toEqual({ id: 1 });
    const registered = await call('POST', '/subjects/orders.order-shoal.orders.OrderPlaced/versions', { schema: orderPlaced, references: [moneyRef] });
    expect(registered.body).toEqual({ id: 2 });
    const version = (await call('GET', '/subjects/orders.order-shoal.orders.OrderPlaced/versions/1')).body;
    expect(Object.keys(version)).toEqual(['subject', 'version', 'id', 'references', 'schema']);
    expect(version.references).toEqual([moneyRef]);
    expect((await call('GET', '/schemas/ids/2')).body).toEqual({ schema: version.schema, references: [moneyRef] });
    expect((await call('GET', '/subjects/shoal.common.Money/versions/1/referencedby')).body).toEqual([2]);
    expect((await call('GET', '/subjects/shoal.common.Money/versions/latest/referencedby')).body).toEqual([2]);
    // Lookup needs the references too; the same text with them is the same schema.
    expect((await call('POST', '/subjects/orders.order-shoal.orders.OrderPlaced', { schema: orderPlaced, references: [moneyRef] })).body).toMatchObject({ id: 2, version: 1 });
    // Without the reference the schema does not parse: shoal.common.Money is unknown.
    expect((await call('POST', '/subjects/other/versions', { schema: orderPlaced })).body.error_code).toBe(42201);
  });

  it('resolves version -1 to the latest version and stores the number', async () => {
    const call = await setUp();
    await call('POST', '/subjects/shoal.common.Money/versions', { schema: money });
    await call('POST', '/subjects/shoal.common.Money/versions', { schema: moneyWithNote });
    await call('POST', '/subjects/o/versions', { schema: orderPlaced, references: [{ ...moneyRef, version: -1 }] });
    expect((await call('GET', '/subjects/o/versions/1')).body.references).toEqual([{ ...moneyRef, version: 2 }]);
    expect((await call('GET', '/subjects/shoal.common.Money/versions/2/referencedby')).body).toEqual([3]);
    expect((await call('GET', '/subjects/shoal.common.Money/versions/1/referencedby')).body).toEqual([]);
  });

  it('answers 42201 when a reference names a subject or version that does not exist', async () => {
    const call = await setUp();
    await call('POST', '/subjects/shoal.common.Money/versions', { schema: money });
    const missingVersion = await call('POST', '/subjects/o/versions', { schema: orderPlaced, references: [{ ...moneyRef, version: 9 }] });
    expect(missingVersion).toMatchObject({ status: 422, body: { error_code: 42201 } });
    expect(missingVersion.body.message).toContain('No schema reference found for subject "shoal.common.Money" and version 9');
    const missingSubject = await call('POST', '/subjects/o/versions', { schema: orderPlaced, references: [{ ...moneyRef, subject: 'nope' }] });
    expect(missingSubject.body.error_code).toBe(42201);
  });

  it('refuses to delete a referenced version or subject with 42206 until the referrer is gone', async () => {
    const call = await setUp();
    await call('POST', '/subjects/shoal.common.Money/versions', { schema: money });
    await call('POST', '/subjects/o/versions', { schema: orderPlaced, references: [moneyRef] });
    const refused = await call('DELETE', '/subjects/shoal.common.Money/versions/1');
    expect(refused).toMatchObject({
      status: 422,
      body: { error_code: 42206, message: 'One or more references exist to the schema {magic=1,keytype=SCHEMA,subject=shoal.common.Money,version=1}.' },
    });
    expect((await call('DELETE', '/subjects/shoal.common.Money')).body.error_code).toBe(42206);
    // A soft-deleted referrer no longer blocks a soft delete, but still blocks the permanent one.
    await call('DELETE', '/subjects/o/versions/1');
    expect((await call('GET', '/subjects/shoal.common.Money/versions/1/referencedby')).body).toEqual([]);
    expect((await call('GET', '/subjects/shoal.common.Money/versions/1/referencedby?deleted=true')).body).toEqual([2]);
    expect((await call('DELETE', '/subjects/shoal.common.Money/versions/1')).body).toBe(1);
    expect((await call('DELETE', '/subjects/shoal.common.Money/versions/1?permanent=true')).body.error_code).toBe(42206);
    await call('DELETE', '/subjects/o/versions/1?permanent=true');
    expect((await call('DELETE', '/subjects/shoal.common.Money/versions/1?permanent=true')).body).toBe(1);
  });
});
