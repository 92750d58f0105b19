import { describe, expect, it } from 'vitest';
import { startTestRegistry } from '@shoal/schema-registry/testing';
import { loadSchemaCatalog } from './catalog/index.js';
import { checkCatalog, findCatalogSchema, registerCatalog } from './catalog-registration.js';
import { catalogWithSchema } from './event-fixtures.js';
import { countingClient, registryWithCatalog } from './registry-fixtures.js';

describe('registerCatalog', () => {
  it('registers every schema after the ones it references, at the catalog level, with references to their versions', async () => {
    const registry = await startTestRegistry();
    const { client } = countingClient(registry.url);
    const catalog = loadSchemaCatalog();
    const registered = await registerCatalog(client, catalog);

    expect(registered.map((schema) => schema.name)).toEqual(catalog.registrationOrder().map((file) => file.name));
    expect(registered.map((schema) => schema.subject)).toEqual(catalog.registrationOrder().map((file) => file.subject));
    expect(new Set(registered.map((schema) => schema.id)).size).toBe(registered.length);
    expect(registered.every((schema) => schema.version === 1)).toBe(true);
    expect(await client.compatibility('orders.order-shoal.orders.OrderPlaced')).toBe(catalog.compatibility);

    const placed = await client.latestVersion('orders.order-shoal.orders.OrderPlaced');
    const byName = [...(placed?.references ?? [])].sort((a, b) => a.name.localeCompare(b.name));
    expect(byName).toEqual(
      ['shoal.common.Address', 'shoal.common.LineItem', 'shoal.common.Money'].map((name) => ({ name, subject: name, version: 1 })),
    );
  });

  it('is idempotent: a second run answers the same ids and versions and adds no version', async () => {
    const { client, catalog, registered } = await registryWithCatalog();
    expect(await registerCatalog(client, catalog)).toEqual(registered);
    for (const schema of registered) expect(await client.versions(schema.subject)).toEqual([1]);
  });

  it('gives a changed common type a new version, and the schemas using it new versions referencing it', async () => {
    const { client, registered } = await registryWithCatalog();
    const evolved = catalogWithSchema('common/Money.avsc', (money) => money.fields.push({ name: 'scale', type: 'int', default: 2 }));
    const again = await registerCatalog(client, evolved);
    const version = (name: string) => again.find((schema) => schema.name === name)!.version;
    expect(version('shoal.common.Money')).toBe(2);
    expect(version('shoal.common.LineItem')).toBe(2);
    expect(version('shoal.orders.OrderPlaced')).toBe(2);
    expect(version('shoal.common.Address')).toBe(1);
    expect(again.find((schema) => schema.name === 'shoal.common.Address')).toEqual(registered.find((schema) => schema.name === 'shoal.common.Address'));
    expect((await client.latestVersion('shoal.common.LineItem'))?.references).toEqual([{ name: 'shoal.common.Money', subject: 'shoal.common.Money', version: 2 }]);
  });
});

describe('checkCatalog', () => {
  it('finds every schema of a fresh registry new, hence compatible', async () => {
    const registry = await startTestRegistry();
    const { client, requests } = countingClient(registry.url);
    const checks = await checkCatalog(client, loadSchemaCatalog());
    expect(checks.every((check) => check.isNew && check.compatible && check.messages.length === 0)).toBe(true);
    expect(requests.every((request) => request.method === 'GET')).toBe(true);
    expect(await client.subjects()).toEqual([]);
  });

  it('accepts a field added with a default and explains a field added without one', async () => {
    const { client } = await registryWithCatalog();
    const compatible = catalogWithSchema('orders/OrderPlaced.avsc', (schema) => schema.fields.push({ name: 'channel', type: 'string', default: 'web' }));
    const checks = await checkCatalog(client, compatible);
    expect(checks.every((check) => !check.isNew && check.compatible)).toBe(true);

    const breaking = catalogWithSchema('orders/OrderPlaced.avsc', (schema) => schema.fields.push({ name: 'channel', type: 'string' }));
    const verdicts = await checkCatalog(client, breaking);
    const placed = verdicts.find((check) => check.name === 'shoal.orders.OrderPlaced')!;
    expect(placed.compatible).toBe(false);
    expect(placed.messages.join('\n')).toContain('channel');
    expect(verdicts.filter((check) => !check.compatible)).toHaveLength(1);
  });

  it('checks a schema that uses a changed common type against the referenced type as registered', async () => {
    const { client } = await registryWithCatalog();
    const evolved = catalogWithSchema('common/Money.avsc', (money) => money.fields.push({ name: 'scale', type: 'int' }));
    const checks = await checkCatalog(client, evolved);
    expect(checks.find((check) => check.name === 'shoal.common.Money')).toMatchObject({ compatible: false });
    expect(checks.find((check) => check.name === 'shoal.orders.OrderPlaced')).toMatchObject({ compatible: true });
  });
});

describe('findCatalogSchema', () => {
  it('finds the version holding the catalog text, and nothing for a text the registry does not hold', async () => {
    const { client, catalog, registered } = await registryWithCatalog();
    const placed = registered.find((schema) => schema.name === 'shoal.orders.OrderPlaced')!;
    expect(await findCatalogSchema(client, catalog, 'shoal.orders.OrderPlaced')).toMatchObject({ id: placed.id, version: placed.version });
    const changed = catalogWithSchema('common/Address.avsc', (address) => address.fields.push({ name: 'region', type: ['null', 'string'], default: null }));
    expect(await findCatalogSchema(client, changed, 'shoal.orders.OrderPlaced')).toBeUndefined();
    expect(await findCatalogSchema(client, changed, 'shoal.orders.OrderConfirmed')).toBeDefined();
  });
});
