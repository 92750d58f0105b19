import avsc from 'avsc';
import { describe, expect, it } from 'vitest';
import { startTestRegistry } from '@shoal/schema-registry/testing';
import { orderPlacedData, refusal } from './event-fixtures.js';
import { countingClient, registryWithCatalog } from './registry-fixtures.js';
import type { RegistrySchema } from './registry-client.js';


const note = (fields: object[]): RegistrySchema => ({
  schema: JSON.stringify({ type: 'record', name: 'Note', namespace: 'shoal.test', fields: [{ name: 'id', type: 'string' }, ...fields] }),
});

describe('RegistryClient against a real registry', () => {
  it('registers idempotently, looks schemas up with their version, and lists subjects and versions', async () => {
    const registry = await startTestRegistry();
    const { client } = countingClient(registry.url);
    const first = await client.register('notes-shoal.test.Note', note([]), 'BACKWARD');
    expect(await client.register('notes-shoal.test.Note', note([]), 'BACKWARD')).toBe(first);
    const second = await client.register('notes-shoal.test.Note', note([{ name: 'text', type: 'string', default: '' }]), 'BACKWARD');
    expect(second).not.toBe(first);

    expect(await client.lookup('notes-shoal.test.Note', note([]))).toMatchObject({ subject: 'notes-shoal.test.Note', id: first, version: 1, references: [] });
    expect(await client.lookup('notes-shoal.test.Note', note([{ name: 'other', type: 'int', default: 0 }]))).toBeUndefined();
    expect(await client.lookup('no-such-subject', note([]))).toBeUndefined();
    expect(await client.subjects()).toEqual(['notes-shoal.test.Note']);
    expect(await client.versions('notes-shoal.test.Note')).toEqual([1, 2]);
    expect(await client.versions('no-such-subject')).toEqual([]);
    expect(await client.latestVersion('notes-shoal.test.Note')).toMatchObject({ version: 2, id: second });
    expect(await client.latestVersion('no-such-subject')).toBeUndefined();
  });

  it('reads and sets compatibility levels; registration gives a new subject the level it asks for', async () => {
    const registry = await startTestRegistry();
    const { client } = countingClient(registry.url);
    expect(await client.compatibility()).toBe('BACKWARD');
    await client.register('notes-shoal.test.Note', note([]), 'FULL_TRANSITIVE');
    expect(await client.compatibility('notes-shoal.test.Note')).toBe('FULL_TRANSITIVE');
    expect(await client.compatibility('other-subject')).toBe('BACKWARD');
    await client.setCompatibility('NONE');
    expect(await client.compatibility('other-subject')).toBe('NONE');
    await client.setCompatibility('FORWARD', 'notes-shoal.test.Note');
    expect(await client.compatibility('notes-shoal.test.Note')).toBe('FORWARD');
    expect((await refusal(() => client.setCompatibility('SIDEWAYS' as never))).code).toBe('SHOAL_CONFIG_INVALID');
  });

  it('asks the registry for a compatibility verdict with its reasons', async () => {
    const registry = await startTestRegistry();
    const { client } = countingClient(registry.url);
    await client.register('notes-shoal.test.Note', note([]), 'BACKWARD_TRANSITIVE');
    expect(await client.checkCompatibility('notes-shoal.test.Note', note([{ name: 'text', type: 'string', default: '' }]))).toEqual({ compatible: true, messages: [] });
    const verdict = await client.checkCompatibility('notes-shoal.test.Note', note([{ name: 'text', type: 'string' }]));
    expect(verdict.compatible).toBe(false);
    expect(verdict.messages.join('\n')).toContain('text');
    expect(await client.checkCompatibility('new-subject', note([{ name: 'text', type: 'string' }]))).toEqual({ compatible: true, messages: [] });
  });

  it('fetches a schema with references as an avsc type that resolves against the catalog types', async () => {
    const { client, catalog, registered } = await registryWithCatalog();
    const placed = registered.find((schema) => schema.name === 'shoal.orders.OrderPlaced')!;
    const writer = await client.schemaType(placed.id);
    const reader = catalog.avroType('shoal.orders.OrderPlaced');
    expect(writer.equals(reader)).toBe(true);
    const data = orderPlacedData();
    expect(reader.fromBuffer(writer.toBuffer(data), reader.createResolver(writer))).toEqual(data);
    expect(writer).toBeInstanceOf(avsc.Type);
  });

  it('maps refusals to ShoalErrors: unknown id, incompatible schema, invalid schema', async () => {
    const registry = await startTestRegistry();
    const { client } = countingClient(registry.url);
    const unknown = await refusal(() => client.schemaType(4242));
    expect(unknown).toMatchObject({ code: 'SHOAL_SCHEMA_UNKNOWN_ID', retriable: false, details: { status: 404, errorCode: 40403 } });
    expect(unknown.message).toContain('Schema 4242 not found');

    await client.register('notes-shoal.test.Note', note([]), 'BACKWARD');
    const incompatible = await refusal(() => client.register('notes-shoal.test.Note', note([{ name: 'text', type: 'string' }]), 'BACKWARD'));
    expect(incompatible).toMatchObject({ code: 'SHOAL_SCHEMA_INCOMPATIBLE', retriable: false });
    expect(incompatible.message).toContain('notes-shoal.test.Note');

    const invalid = await refusal(() => client.register('bad', { schema: '{"type":"record","name":"Bad","fields":[{"name":"x","type":"nope"}]}' }, 'BACKWARD'));
    expect(invalid.code).toBe('SHOAL_SCHEMA_INVALID');
  });

  it('reports an unreachable registry as retriable SHOAL_REGISTRY_UNAVAILABLE after its retries', async () => {
    const registry = await startTestRegistry();
    await registry.close();
    const { client, requests } = countingClient(registry.url, { retries: 2, initialRetryDelayMs: 1 });
    const viaLibrary = await refusal(() => client.schemaType(1));
    expect(viaLibrary).toMatchObject({ code: 'SHOAL_REGISTRY_UNAVAILABLE', retriable: true });
    expect(viaLibrary.message).toMatch(/is unreachable \(fetch schema 1\): connect ECONNREFUSED/);
    expect(requests).toHaveLength(3);

    requests.length = 0;
    const viaFetch = await refusal(() => client.subjects());
    expect(viaFetch).toMatchObject({ code: 'SHOAL_REGISTRY_UNAVAILABLE', retriable: true });
    expect(viaFetch.message).toContain('ECONNREFUSED');
    expect(requests).toEqual([1, 2, 3].map(() => ({ method: 'GET', path: '/subjects' })));
  });
});
