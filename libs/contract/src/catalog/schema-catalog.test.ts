import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type avsc from 'avsc';
import { describe, expect, it } from 'vitest';
import { isShoalError } from '@shoal/core';
import { tempDir } from '@shoal/testing';
import { loadSchemaCatalog, schemaCatalogFromFiles } from './index.js';
import { fixtureSchemaFiles, writeSchemaFolder } from '../testing/schema-folder.js';

function schemasFolder(files: ReadonlyMap<string, string>): string {
  const dir = tempDir('schemas');
  writeSchemaFolder(dir, files);
  return dir;
}

function json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

/** The fixture with one file replaced (or removed, with `undefined`). */
function fixtureWith(changes: Record<string, string | undefined>): Map<string, string> {
  const files = fixtureSchemaFiles();
  for (const [path, text] of Object.entries(changes)) {
    if (text === undefined) files.delete(path);
    else files.set(path, text);
  }
  return files;
}

function fixtureJson(path: string): Record<string, any> {
  return JSON.parse(fixtureSchemaFiles().get(path) ?? '{}');
}

function manifestWith(edit: (manifest: Record<string, any>) => void): string {
  const manifest = fixtureJson('manifest.json');
  edit(manifest);
  return json(manifest);
}

function schemaWith(path: string, edit: (schema: Record<string, any>) => void): string {
  const schema = fixtureJson(path);
  edit(schema);
  return json(schema);
}

function loadError(dir: string): unknown {
  try {
    loadSchemaCatalog(dir);
  } catch (error) {
    return error;
  }
  throw new Error('the catalog loaded');
}

describe('loadSchemaCatalog', () => {
  it('loads a folder: subjects, references, topics and registration order', () => {
    const dir = schemasFolder(fixtureSchemaFiles().set('README.md', '# not a schema\n'));
    const catalog = loadSchemaCatalog(dir);

    expect(catalog.dir).toBe(dir);
    expect(catalog.compatibility).toBe('BACKWARD_TRANSITIVE');
    expect(catalog.topics.get('shop.cart')).toEqual({
      name: 'shop.cart',
      owner: 'shop',
      partitions: 2,
      key: 'cartId',
      events: ['shoal.shop.CartOpened', 'shoal.shop.CartPaid'],
    });
    expect(catalog.registrationOrder().map(({ name, subject, file, references }) => ({ name, subject, file, references }))).toEqual([
      { name: 'shoal.common.Price', subject: 'shoal.common.Price', file: 'common/Price.avsc', references: [] },
      { name: 'shoal.common.Item', subject: 'shoal.common.Item', file: 'common/Item.avsc', references: ['shoal.common.Price'] },
      {
        name: 'shoal.shop.CartOpened',
        subject: 'shop.cart-shoal.shop.CartOpened',
        file: 'shop/CartOpened.avsc',
        references: ['shoal.common.Item'],
      },
      {
        name: 'shoal.shop.CartPaid',
        subject: 'shop.cart-shoal.shop.CartPaid',
        file: 'shop/CartPaid.avsc',
        references: ['shoal.common.Price'],
      },
    ]);
    expect([...catalog.common.keys()]).toEqual(['shoal.common.Price', 'shoal.common.Item']);
    expect(catalog.event('shoal.shop.CartPaid')).toMatchObject({ type: 'shoal.shop.CartPaid', service: 'shop', topic: 'shop.cart' });
  });

  it('registers the file JSON without insignificant whitespace', () => {
    const catalog = loadSchemaCatalog(schemasFolder(fixtureSchemaFiles()));
    const schema = catalog.common.get('shoal.common.Price')?.schema;
    expect(schema).toBe(JSON.stringify(fixtureJson('common/Price.avsc')));
    expect(schema).not.toMatch(/\n/);
  });

  it('parses each schema once, resolving references transitively', () => {
    const catalog = loadSchemaCatalog(schemasFolder(fixtureSchemaFiles()));
    // CartOpened names only Item; Item's own reference to Price must be resolved for it to parse.
    const opened = catalog.avroType('shoal.shop.CartOpened');
    expect(opened).toBe(catalog.avroType('shoal.shop.CartOpened'));
    const value = { cartId: 'c-1', items: [{ sku: 'A', price: { amount: 5, currency: 'EUR' } }], openedAt: 1_700_000_000_000 };
    expect(opened.fromBuffer(opened.toBuffer(value))).toEqual(value);
    // The referenced types are the catalog's own parsed instances, not copies.
    const items = (opened as avsc.types.RecordType).field('items')?.type as avsc.types.ArrayType;
    expect(items.itemsType).toBe(catalog.avroType('shoal.common.Item'));
  });

  it('rejects an unknown event type or schema name, saying what it knows', () => {
    const catalog = schemaCatalogFromFiles(fixtureSchemaFiles());
    expect(catalog.dir).toBeUndefined();
    expect(() => catalog.event('shoal.shop.CartLost')).toThrow(
      'Unknown event type "shoal.shop.CartLost": the schema catalog built from files has 2 event types',
    );
    try {
      catalog.event('shoal.common.Price');
    } catch (error) {
      expect(isShoalError(error, 'SHOAL_SCHEMA_UNKNOWN_TYPE')).toBe(true);
      expect((error as { details: unknown }).details).toEqual({
        type: 'shoal.common.Price',
        known: ['shoal.shop.CartOpened', 'shoal.shop.CartPaid'],
      });
    }
    expect(() => catalog.avroType('shoal.shop.PaymentMethod')).toThrow(/No schema named "shoal.shop.PaymentMethod"/);
  });

  it('says which folder it cannot read', () => {
    const missing = join(tempDir('schemas'), 'absent');
    const error = loadError(missing);
    expect(isShoalError(error, 'SHOAL_SCHEMA_INVALID')).toBe(true);
    expect((error as Error).message).toContain(`Cannot read the schemas folder ${missing}`);
  });

  const record = (namespace: string, name: string, fields: unknown[]) => json({ type: 'record', name, namespace, doc: 'x', fields });
  const invalid: [string, Record<string, string | undefined>, string, RegExp][] = [
    ['no manifest', { 'manifest.json': undefined }, 'manifest.json', /missing/],
    ['a manifest that is not JSON', { 'manifest.json': '{"topics": ' }, 'manifest.json', /not valid JSON/],
    ['an unknown compatibility level', { 'manifest.json': manifestWith((m) => (m.compatibility = 'SOMETIMES')) }, 'manifest.json', /"compatibility" must be one of NONE, BACKWARD,/],
    ['no topics', { 'manifest.json': manifestWith((m) => delete m.topics) }, 'manifest.json', /"topics" must be an object/],
    ['a topic not named after its owner', { 'manifest.json': manifestWith((m) => (m.topics['shop.cart'].owner = 'orders')) }, 'manifest.json', /topic "shop.cart": topic names are <owner>.<aggregate>/],
    ['zero partitions', { 'manifest.json': manifestWith((m) => (m.topics['shop.cart'].partitions = 0)) }, 'manifest.json', /"partitions" must be a positive integer/],
    ['a topic without key', { 'manifest.json': manifestWith((m) => delete m.topics['shop.cart'].key) }, 'manifest.json', /"key" must name the field/],
    ['a topic without events', { 'manifest.json': manifestWith((m) => (m.topics['shop.cart'].events = [])) }, 'manifest.json', /"events" must be a non-empty array/],
    [
      'a type on two topics',
      { 'manifest.json': manifestWith((m) => (m.topics['shop.order'] = { owner: 'shop', partitions: 1, key: 'cartId', events: ['shoal.shop.CartPaid'] })) },
      'manifest.json',
      /"shoal.shop.CartPaid" is listed on two topics, "shop.cart" and "shop.order"/,
    ],
    ['a type twice on one topic', { 'manifest.json': manifestWith((m) => m.topics['shop.cart'].events.push('shoal.shop.CartPaid')) }, 'manifest.json', /lists "shoal.shop.CartPaid" twice/],
    ['a listed type without a schema file', { 'shop/CartPaid.avsc': undefined }, 'manifest.json', /lists "shoal.shop.CartPaid", but there is no schema file shop\/CartPaid.avsc/],
    ['a listed type outside the naming scheme', { 'manifest.json': manifestWith((m) => m.topics['shop.cart'].events.push('CartLost')) }, 'manifest.json', /lists "CartLost", but event types are named shoal.<service>.<EventName>/],
    ['a common type listed as an event', { 'manifest.json': manifestWith((m) => m.topics['shop.cart'].events.push('shoal.common.Price')) }, 'manifest.json', /lists the common type "shoal.common.Price" as an event/],
    ['an event missing from the manifest', { 'shop/CartLost.avsc': record('shoal.shop', 'CartLost', [{ name: 'cartId', type: 'string' }]) }, 'shop/CartLost.avsc', /"shoal.shop.CartLost" is not listed on any topic in manifest.json/],
    ['a schema that is not JSON', { 'shop/CartPaid.avsc': '{"type": "record",' }, 'shop/CartPaid.avsc', /not valid JSON/],
    ['a schema that is not a record', { 'common/Price.avsc': json({ type: 'enum', name: 'Price', namespace: 'shoal.common', symbols: ['A'] }) }, 'common/Price.avsc', /the top-level type must be a record/],
    ['a namespace that is not shoal.<folder>', { 'shop/CartPaid.avsc': schemaWith('shop/CartPaid.avsc', (s) => (s.namespace = 'shoal.orders')) }, 'shop/CartPaid.avsc', /namespace is "shoal.orders" but files in shop\/ use "shoal.shop"/],
    ['a full record name in another namespace', { 'common/Price.avsc': schemaWith('common/Price.avsc', (s) => (s.name = 'com.example.Price')) }, 'common/Price.avsc', /namespace is "com.example"/],
    ['a record name that differs from the file name', { 'shop/CartPaid.avsc': schemaWith('shop/CartPaid.avsc', (s) => (s.name = 'CartSettled')) }, 'shop/CartPaid.avsc', /record name "CartSettled" differs from the file name "CartPaid"/],
    ['a schema outside <folder>/<Name>.avsc', { 'shop/old/CartPaid.avsc': fixtureSchemaFiles().get('shop/CartPaid.avsc') }, 'shop/old/CartPaid.avsc', /schema files live at <service>\/<RecordName>.avsc/],
    ['a schema at the top level', { 'Price.avsc': fixtureSchemaFiles().get('common/Price.avsc') }, 'Price.avsc', /schema files live at/],
    ['an unknown reference', { 'shop/CartPaid.avsc': schemaWith('shop/CartPaid.avsc', (s) => (s.fields[1].type = 'shoal.common.Amount')) }, 'shop/CartPaid.avsc', /uses "shoal.common.Amount", which is neither defined in the file nor a catalog schema/],
    ['a simple name resolved in the schema namespace', { 'shop/CartPaid.avsc': schemaWith('shop/CartPaid.avsc', (s) => (s.fields[1].type = 'Price')) }, 'shop/CartPaid.avsc', /uses "shoal.shop.Price"/],
    [
      'a common type copied inline',
      { 'shop/CartPaid.avsc': schemaWith('shop/CartPaid.avsc', (s) => (s.fields[1].type = fixtureJson('common/Price.avsc'))) },
      'shop/CartPaid.avsc',
      /defines "shoal.common.Price" inline, but it is a catalog schema: use it by its full name/,
    ],
    [
      'a reference cycle',
      { 'common/Price.avsc': schemaWith('common/Price.avsc', (s) => s.fields.push({ name: 'item', type: ['null', 'shoal.common.Item'], default: null })) },
      'common/Item.avsc',
      /reference cycle: shoal.common.Item -> shoal.common.Price -> shoal.common.Item/,
    ],
    ['an event without its key field', { 'shop/CartPaid.avsc': schemaWith('shop/CartPaid.avsc', (s) => (s.fields[0].name = 'basketId')) }, 'shop/CartPaid.avsc', /has no string field "cartId", the key of topic "shop.cart"/],
    ['a key field that is not a string', { 'shop/CartPaid.avsc': schemaWith('shop/CartPaid.avsc', (s) => (s.fields[0].type = 'long')) }, 'shop/CartPaid.avsc', /has no string field "cartId"/],
    [
      "an event outside its topic owner's folder",
      {
        'billing/CartPaid.avsc': schemaWith('shop/CartPaid.avsc', (s) => (s.namespace = 'shoal.billing')),
        'manifest.json': manifestWith((m) => (m.topics['shop.cart'].events[1] = 'shoal.billing.CartPaid')),
        'shop/CartPaid.avsc': undefined,
      },
      'billing/CartPaid.avsc',
      /is on topic "shop.cart" owned by "shop", but an event's schema lives in its emitter's folder shop\//,
    ],
    ['invalid Avro', { 'common/Price.avsc': schemaWith('common/Price.avsc', (s) => (s.fields[0].type = { type: 'enum', name: 'Unit', symbols: [] })) }, 'common/Price.avsc', /invalid Avro: invalid enum symbols/],
    ['an invalid default', { 'shop/CartPaid.avsc': schemaWith('shop/CartPaid.avsc', (s) => (s.fields[2].default = 'CHEQUE')) }, 'shop/CartPaid.avsc', /invalid Avro/],
  ];

  it.each(invalid)('rejects %s, naming the file', (_, changes, file, problem) => {
    const error = loadError(schemasFolder(fixtureWith(changes)));
    expect(isShoalError(error, 'SHOAL_SCHEMA_INVALID')).toBe(true);
    expect((error as Error).message.startsWith(`${file}: `)).toBe(true);
    expect((error as Error).message).toMatch(problem);
    expect((error as { details: unknown }).details).toEqual({ file });
  });

  it('parses a union of records, wrapped, and other unions unwrapped', () => {
    const paid = schemaWith('shop/CartPaid.avsc', (s) =>
      s.fields.push(
        { name: 'either', type: ['null', 'shoal.common.Price', 'shoal.common.Item'], default: null },
        { name: 'note', type: ['null', 'string'], default: null },
      ),
    );
    const type = schemaCatalogFromFiles(fixtureWith({ 'shop/CartPaid.avsc': paid })).avroType('shoal.shop.CartPaid') as avsc.types.RecordType;
    expect(type.field('either')?.type.typeName).toBe('union:wrapped');
    expect(type.field('note')?.type.typeName).toBe('union:unwrapped');
    const value = { cartId: 'c-1', amount: { amount: 5, currency: 'EUR' }, method: 'CARD', either: { 'shoal.common.Price': { amount: 5, currency: 'EUR' } }, note: 'hi' };
    expect(type.fromBuffer(type.toBuffer(value))).toEqual(value);
  });

  it('validates files given in memory the same way', () => {
    expect(() => schemaCatalogFromFiles(fixtureWith({ 'shop/CartPaid.avsc': undefined }))).toThrow(/^manifest.json: topic "shop.cart" lists "shoal.shop.CartPaid"/);
  });

  it('loads a folder whose only content is the manifest of an empty catalog', () => {
    const dir = tempDir('schemas');
    mkdirSync(join(dir, 'common'));
    writeSchemaFolder(dir, new Map([['manifest.json', json({ compatibility: 'FULL', topics: {} })]]));
    const catalog = loadSchemaCatalog(dir);
    expect([catalog.compatibility, catalog.events.size, catalog.registrationOrder()]).toEqual(['FULL', 0, []]);
  });
});
