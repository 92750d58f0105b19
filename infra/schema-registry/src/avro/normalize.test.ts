import { describe, expect, it } from 'vitest';
import { parseAvroSchema } from './index.js';

const normalized = (schema: string) => parseAvroSchema({ schema }).normalized;

const EXPECTED =
  '{"type":"record","name":"shoal.orders.OrderPlaced","doc":"An order was placed.","fields":[' +
  '{"type":"string","name":"orderId"},' +
  '{"type":{"type":"enum","name":"shoal.orders.Status","symbols":["NEW","PAID"],"default":"NEW"},"name":"status"},' +
  '{"type":["null","shoal.orders.Status"],"name":"previous","default":null},' +
  '{"type":{"type":"long","logicalType":"timestamp-millis"},"name":"placedAt"},' +
  '{"type":{"type":"array","items":{"type":"record","name":"shoal.orders.Line","fields":[' +
  '{"type":"string","name":"sku"},{"type":"int","name":"qty","default":1}]}},"name":"lines"}]}';

/** The same schema spelled in ways that must not change its identity. */
const SPELLINGS = {
  'namespace attribute and short names': `{
    "type": "record", "name": "OrderPlaced", "namespace": "shoal.orders", "doc": "An order was placed.",
    "fields": [
      {"name": "orderId", "type": {"type": "string"}},
      {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["NEW", "PAID"], "default": "NEW"}},
      {"name": "previous", "type": ["null", "Status"], "default": null},
      {"name": "placedAt", "type": {"type": "long", "logicalType": "timestamp-millis"}},
      {"name": "lines", "type": {"type": "array", "items": {"type": "record", "name": "Line", "fields": [
        {"name": "sku", "type": "string"}, {"name": "qty", "type": "int", "default": 1}]}}}
    ]
  }`,
  'full names, keys in another order, no whitespace':
    '{"fields":[{"type":"string","name":"orderId"},{"type":{"default":"NEW","symbols":["NEW","PAID"],"name":"shoal.orders.Status",' +
    '"type":"enum"},"name":"status"},{"default":null,"name":"previous","type":["null","shoal.orders.Status"]},{"name":"placedAt",' +
    '"type":{"logicalType":"timestamp-millis","type":"long"}},{"name":"lines","type":{"items":{"fields":[{"name":"sku","type":"string"},' +
    '{"default":1,"name":"qty","type":"int"}],"name":"shoal.orders.Line","type":"record"},"type":"array"}}],' +
    '"doc":"An order was placed.","name":"shoal.orders.OrderPlaced","type":"record"}',
  'full name with a namespace attribute it overrides, nested namespaces spelled out': `{
    "type": "record", "name": "shoal.orders.OrderPlaced", "namespace": "ignored.when.the.name.is.full", "doc": "An order was placed.",
    "fields": [
      {"name": "orderId", "type": "string"},
      {"name": "status", "type": {"type": "enum", "name": "Status", "namespace": "shoal.orders", "symbols": ["NEW", "PAID"], "default": "NEW"}},
      {"name": "previous", "type": ["null", "shoal.orders.Status"], "default": null},
      {"name": "placedAt", "type": {"type": "long", "logicalType": "timestamp-millis"}},
      {"name": "lines", "type": {"type": "array", "items": {"type": "record", "name": "Line", "namespace": "shoal.orders",
        "fields": [{"name": "sku", "type": {"type": "string"}}, {"name": "qty", "type": "int", "default": 1.0}]}}}
    ]
  }`,
};

describe('normalized form', () => {
  it.each(Object.entries(SPELLINGS))('is the same for %s', (_, schema) => {
    expect(normalized(schema)).toBe(EXPECTED);
  });

  it('keeps everything that changes what the schema says, so each change gets its own identity', () => {
    const base = JSON.parse(EXPECTED);
    const variant = (change: (schema: any) => void) => {
      const copy = structuredClone(base);
      change(copy);
      return normalized(JSON.stringify(copy));
    };
    const lineFields = (schema: any) => schema.fields[4].type.items.fields;
    const variants = [
      EXPECTED,
      variant((s) => (lineFields(s)[1].default = 2)),
      variant((s) => delete lineFields(s)[1].default),
      variant((s) => (s.doc = 'Placed.')),
      variant((s) => delete s.doc),
      variant((s) => (s.fields[0].doc = 'The order id.')),
      variant((s) => (s.aliases = ['shoal.orders.Placed'])),
      variant((s) => (s.fields[0].aliases = ['id'])),
      variant((s) => (s.fields[0].order = 'descending')),
      variant((s) => delete s.fields[3].type.logicalType),
      variant((s) => (s.fields[0].type = { type: 'string', 'avro.java.string': 'String' })),
      variant((s) => delete s.fields[1].type.default),
      variant((s) => ([s.fields[0], s.fields[3]] = [s.fields[3], s.fields[0]])),
    ];
    expect(new Set(variants).size).toBe(variants.length);
  });

  it('writes attribute names in a fixed order and sorts custom attributes and default values', () => {
    const first = normalized(
      '{"type":"record","name":"R","zeta":1,"alpha":{"b":1,"a":2},"fields":[' +
        '{"name":"m","type":{"type":"map","values":"int"},"default":{"y":1,"x":2},"order":"ignore","aliases":["n"],"doc":"d","custom":true}]}',
    );
    const second = normalized(
      '{"alpha":{"a":2,"b":1},"fields":[{"custom":true,"doc":"d","aliases":["n"],"order":"ignore",' +
        '"default":{"x":2,"y":1},"type":{"values":"int","type":"map"},"name":"m"}],"zeta":1,"name":"R","type":"record"}',
    );
    expect(first).toBe(
      '{"type":"record","name":"R","fields":[{"type":{"type":"map","values":"int"},"name":"m","doc":"d",' +
        '"default":{"x":2,"y":1},"aliases":["n"],"order":"ignore","custom":true}],"alpha":{"a":2,"b":1},"zeta":1}',
    );
    expect(second).toBe(first);
  });

  it('drops attributes reserved for other kinds of type and writes attribute-free primitives bare', () => {
    expect(normalized('{"type":"array","items":{"type":"int"},"doc":"ignored","name":"ignored"}')).toBe('{"type":"array","items":"int"}');
    expect(normalized('{"type":"string","name":"X","doc":"d"}')).toBe('"string"');
    expect(normalized('{"type":"bytes","logicalType":"decimal","scale":2,"precision":9}')).toBe(
      '{"type":"bytes","logicalType":"decimal","precision":9,"scale":2}',
    );
    expect(normalized('{"type":"fixed","name":"a.F","size":4,"items":"int","aliases":["G", "b.H"]}')).toBe(
      '{"type":"fixed","name":"a.F","size":4,"aliases":["a.G","b.H"]}',
    );
  });

  it('keeps a null namespace inside a namespaced type, so the names mean the same when read again', () => {
    const schema = normalized(
      '{"type":"record","name":"Outer","namespace":"shoal.x","fields":[' +
        '{"name":"inner","type":{"type":"record","name":"Inner","namespace":"","fields":[{"name":"deeper","type":{"type":"enum","name":"E","symbols":["A"]}}]}},' +
        '{"name":"again","type":".Inner"},{"name":"e","type":".E"}]}',
    );
    expect(schema).toBe(
      '{"type":"record","name":"shoal.x.Outer","fields":[' +
        '{"type":{"type":"record","name":"Inner","namespace":"","fields":[{"type":{"type":"enum","name":"E","symbols":["A"]},"name":"deeper"}]},"name":"inner"},' +
        '{"type":".Inner","name":"again"},{"type":".E","name":"e"}]}',
    );
    const type = parseAvroSchema({ schema }).type as any;
    expect(type.fields.map((field: any) => field.type.name)).toEqual(['Inner', 'Inner', 'E']);
  });

  it('is a valid schema that normalizes to itself and parses to the same avsc type', () => {
    const samples = [
      ...Object.values(SPELLINGS),
      '"long"',
      '["null","string",{"type":"map","values":"double"}]',
      '{"type":"record","name":"a.Node","fields":[{"name":"next","type":["null","Node"],"default":null},{"name":"h","type":{"type":"fixed","name":"b.Hash","size":2},"default":"\\u00ff\\u0000"}]}',
    ];
    for (const sample of samples) {
      const first = parseAvroSchema({ schema: sample });
      const again = parseAvroSchema({ schema: first.normalized });
      expect(again.normalized).toBe(first.normalized);
      expect(again.type.equals(first.type)).toBe(true);
      expect(JSON.stringify(again.type.schema({ exportAttrs: true }))).toBe(JSON.stringify(first.type.schema({ exportAttrs: true })));
    }
  });
});
