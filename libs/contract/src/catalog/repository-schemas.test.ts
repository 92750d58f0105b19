import { describe, expect, it } from 'vitest';
import { DEFAULT_SCHEMAS_DIR, loadSchemaCatalog } from './index.js';

// The repository's own schemas/: the contract every service is built against.
describe('schemas/', () => {
  const catalog = loadSchemaCatalog();

  it('is loaded from the repository folder with the default compatibility BACKWARD_TRANSITIVE', () => {
    expect(catalog.dir).toBe(DEFAULT_SCHEMAS_DIR);
    expect(DEFAULT_SCHEMAS_DIR).toMatch(/\/schemas$/);
    expect(catalog.compatibility).toBe('BACKWARD_TRANSITIVE');
  });

  it('has the topics of the reference choreography, three partitions each', () => {
    expect([...catalog.topics.values()].map(({ name, owner, partitions, key }) => ({ name, owner, partitions, key }))).toEqual([
      { name: 'orders.order', owner: 'orders', partitions: 3, key: 'orderId' },
      { name: 'inventory.reservation', owner: 'inventory', partitions: 3, key: 'orderId' },
      { name: 'payments.payment', owner: 'payments', partitions: 3, key: 'orderId' },
      { name: 'shipping.shipment', owner: 'shipping', partitions: 3, key: 'orderId' },
      { name: 'notifications.notification', owner: 'notifications', partitions: 3, key: 'customerId' },
      { name: 'loyalty.points', owner: 'loyalty', partitions: 3, key: 'orderId' },
    ]);
    expect([...catalog.common.keys()].sort()).toEqual(['shoal.common.Address', 'shoal.common.LineItem', 'shoal.common.Money']);
  });

  it('has a schema file for every manifest event, with a TopicRecordNameStrategy subject', () => {
    for (const topic of catalog.topics.values()) {
      for (const type of topic.events) {
        const event = catalog.event(type);
        const [, service, name] = /^shoal\.([a-z]+)\.([A-Za-z]+)$/.exec(type) ?? [];
        expect(event).toMatchObject({ type, name: type, topic: topic.name, service: topic.owner, file: `${service}/${name}.avsc` });
        expect(event.subject).toBe(`${topic.name}-${type}`);
        expect(service).toBe(topic.owner);
      }
    }
    expect(catalog.events.size).toBe(16);
    for (const common of catalog.common.values()) expect(common.subject).toBe(common.name);
  });

  it('resolves every reference to a common type, registered before the schemas using it', () => {
    const order = catalog.registrationOrder().map((schema) => schema.name);
    expect(new Set(order).size).toBe(catalog.common.size + catalog.events.size);
    for (const schema of catalog.registrationOrder()) {
      for (const reference of schema.references) {
        expect(catalog.common.has(reference)).toBe(true);
        expect(order.indexOf(reference)).toBeLessThan(order.indexOf(schema.name));
      }
    }
    expect(catalog.event('shoal.orders.OrderPlaced').references).toEqual([
      'shoal.common.LineItem',
      'shoal.common.Money',
      'shoal.common.Address',
    ]);
    expect(catalog.common.get('shoal.common.LineItem')?.references).toEqual(['shoal.common.Money']);
  });

  it('documents every record, enum and field', () => {
    const undocumented: string[] = [];
    const visit = (node: unknown, path: string): void => {
      if (Array.isArray(node)) return node.forEach((branch) => visit(branch, path));
      if (node === null || typeof node !== 'object') return;
      const complex = node as { type?: unknown; doc?: unknown; name?: string; fields?: { name: string; type: unknown; doc?: unknown }[]; items?: unknown };
      if ((complex.type === 'record' || complex.type === 'enum') && typeof complex.doc !== 'string') undocumented.push(`${path} ${complex.name}`);
      for (const field of complex.fields ?? []) {
        if (typeof field.doc !== 'string') undocumented.push(`${path}.${field.name}`);
        visit(field.type, `${path}.${field.name}`);
      }
      visit(complex.items, path);
    };
    for (const schema of catalog.registrationOrder()) visit(JSON.parse(schema.schema), schema.file);
    expect(undocumented).toEqual([]);
  });

  it('parses every schema with avsc and round-trips random values through the binary encoding', () => {
    for (const schema of catalog.registrationOrder()) {
      const type = catalog.avroType(schema.name);
      expect(type.name).toBe(schema.name);
      for (let i = 0; i < 20; i++) {
        const value = type.random();
        const decoded = type.fromBuffer(type.toBuffer(value));
        expect(type.compare(decoded, value)).toBe(0);
        expect(JSON.parse(JSON.stringify(decoded))).toEqual(JSON.parse(JSON.stringify(value)));
      }
    }
  });

  it('decodes a timestamp as a plain number and an absent optional address as null', () => {
    const type = catalog.avroType('shoal.orders.OrderPlaced');
    const placed = {
      orderId: 'o-1',
      customerId: 'c-1',
      lines: [{ sku: 'SKU-1', quantity: 2, unitPrice: { amount: 1250, currency: 'EUR' } }],
      total: { amount: 2500, currency: 'EUR' },
      shippingAddress: null,
      placedAt: 1_767_225_600_000,
    };
    const decoded = type.fromBuffer(type.toBuffer(placed));
    expect(decoded).toEqual(placed);
    expect(typeof decoded.placedAt).toBe('number');
  });
});
