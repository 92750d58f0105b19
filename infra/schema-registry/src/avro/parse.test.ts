import { isShoalError } from '@shoal/core';
import { describe, expect, it } from 'vitest';
import { InvalidAvroSchemaError, parseAvroSchema, type ResolvedReference } from './index.js';

const errorOf = (parse: () => unknown): string => {
  try {
    parse();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidAvroSchemaError);
    expect(isShoalError(error, 'SHOAL_SCHEMA_INVALID')).toBe(true);
    return (error as Error).message;
  }
  throw new Error('expected the schema to be rejected');
};

const CURRENCY = '{"type":"enum","name":"Currency","namespace":"shoal.common","symbols":["EUR","USD"]}';
const MONEY = '{"type":"record","name":"shoal.common.Money","fields":[{"name":"amount","type":"long"},{"name":"currency","type":"shoal.common.Currency"}]}';
const PRICE = '{"type":"record","name":"shoal.catalog.Price","fields":[{"name":"list","type":"long"},{"name":"currency","type":"shoal.common.Currency"}]}';
const reference = (name: string, schema: string, references: ResolvedReference[] = []): ResolvedReference => ({ name, schema, references });
const currencyRef = reference('shoal.common.Currency', CURRENCY);
const moneyRef = reference('shoal.common.Money', MONEY, [currencyRef]);
const ORDER =
  '{"type":"record","name":"shoal.orders.Order","fields":[' +
  '{"name":"total","type":"shoal.common.Money"},{"name":"refund","type":["null","shoal.common.Money"],"default":null}]}';

describe('parseAvroSchema', () => {
  it.each([
    ['"string"', 'string'],
    ['{"type":"long","logicalType":"timestamp-millis"}', 'long'],
    ['["null","string"]', 'union:wrapped'],
    ['{"type":"enum","name":"E","symbols":["A"]}', 'enum'],
    ['{"type":"fixed","name":"F","size":16}', 'fixed'],
    ['{"type":"map","values":"int"}', 'map'],
    ['{"type":"array","items":"bytes"}', 'array'],
    ['{"type":"record","name":"R","fields":[]}', 'record'],
  ])('parses %s', (schema, typeName) => {
    expect(parseAvroSchema({ schema }).type.typeName).toBe(typeName);
  });

  it("uses referenced schemas' named types, parsed depth first, without inlining them", () => {
    const parsed = parseAvroSchema({ schema: ORDER, references: [moneyRef] });
    expect(parsed.normalized).toBe(
      '{"type":"record","name":"shoal.orders.Order","fields":[{"type":"shoal.common.Money","name":"total"},' +
        '{"type":["null","shoal.common.Money"],"name":"refund","default":null}]}',
    );
    const order = { total: { amount: 1250, currency: 'EUR' }, refund: null };
    expect(parsed.type.fromBuffer(parsed.type.toBuffer(order))).toEqual(order);
    expect(parseAvroSchema({ schema: '"shoal.common.Money"', references: [moneyRef] }).type.name).toBe('shoal.common.Money');
  });

  it('parses a reference reached twice once', () => {
    const schema =
      '{"type":"record","name":"shoal.orders.Line","fields":[{"name":"paid","type":"shoal.common.Money"},{"name":"price","type":"shoal.catalog.Price"}]}';
    const references = [moneyRef, reference('shoal.catalog.Price', PRICE, [currencyRef])];
    expect(parseAvroSchema({ schema, references }).type.name).toBe('shoal.orders.Line');
  });

  it('rejects a type that no reference defines, an invalid reference, a redefinition and a reference cycle', () => {
    expect(errorOf(() => parseAvroSchema({ schema: ORDER }))).toBe("Invalid schema: unknown type 'shoal.common.Money' at field 'total'");
    expect(errorOf(() => parseAvroSchema({ schema: ORDER, references: [reference('shoal.common.Money', MONEY)] }))).toBe(
      "Invalid schema: unknown type 'shoal.common.Currency' at field 'currency' in reference 'shoal.common.Money'",
    );
    expect(errorOf(() => parseAvroSchema({ schema: CURRENCY, references: [moneyRef] }))).toBe(
      "Invalid schema: type 'shoal.common.Currency' is defined twice at the top level",
    );
    const loop: ResolvedReference = { name: 'a', schema: '"int"', references: [] };
    (loop.references as ResolvedReference[]).push(loop);
    expect(errorOf(() => parseAvroSchema({ schema: '"int"', references: [loop] }))).toBe('Invalid schema: references form a cycle: a -> a');
  });

  it('says which schema text is not JSON', () => {
    expect(errorOf(() => parseAvroSchema({ schema: '{"type":' }))).toMatch(/^Invalid schema: not valid JSON \(.+\)$/);
    expect(errorOf(() => parseAvroSchema({ schema: '"int"', references: [reference('broken', '{')] }))).toMatch(
      /^Invalid schema: not valid JSON \(.+\) in reference 'broken'$/,
    );
  });

  const record = (fields: string) => `{"type":"record","name":"shoal.test.R","fields":[${fields}]}`;
  const card = '{"type":"record","name":"shoal.test.Card","fields":[{"name":"last4","type":"string"}]}';
  const transfer = '{"type":"record","name":"shoal.test.Transfer","fields":[{"name":"iban","type":"string"}]}';
  // Every union the specification allows, whatever one language's values look like.
  it.each([
    ['two records', record(`{"name":"method","type":[${card},${transfer}]}`)],
    ['null and two records, the second by name', record(`{"name":"a","type":${card}},{"name":"method","type":["null","shoal.test.Card",${transfer}],"default":null}`)],
    ['records at the top level', `[${card},${transfer}]`],
    ['several numbers', record('{"name":"n","type":["null","int","double"],"default":null}')],
    ['numbers and a string', record('{"name":"n","type":["int","string","long"],"default":1}')],
    ['every primitive', '["null","boolean","int","long","float","double","bytes","string"]'],
    ['a string and enums', '["string",{"type":"enum","name":"E","symbols":["A"]},{"type":"enum","name":"G","symbols":["A"]}]'],
    ['bytes and fixed types', '["bytes",{"type":"fixed","name":"F","size":1},{"type":"fixed","name":"G","size":1}]'],
    ['a map and a record', `[{"type":"map","values":"int"},${card}]`],
  ])('accepts a union of %s', (_, schema) => {
    expect(() => parseAvroSchema({ schema })).not.toThrow();
  });

  it.each([
    ['unknown type', record('{"name":"total","type":"shoal.common.Mony"}'), "Invalid schema: unknown type 'shoal.common.Mony' at field 'total'"],
    ['misspelt type keyword', '{"type":"recrod","name":"R","fields":[]}', "Invalid schema: unknown type 'recrod' at the top level"],
    ['not a schema', 'null', 'Invalid schema: expected a type name, a union array or a type object, got null at the top level'],
    ['missing type', '{"name":"R"}', 'Invalid schema: missing \'type\' in {"name":"R"} at the top level'],
    ['type object as type', '{"type":{"type":"string"}}', `Invalid schema: 'type' must be a type name, got {"type":"string"} (write unions and nested types without a wrapping object) at the top level`],
    ['missing name', '{"type":"record","fields":[]}', "Invalid schema: record has no 'name' at the top level"],
    ['missing name of a nested type', record('{"name":"e","type":{"type":"enum","symbols":["A"]}}'), "Invalid schema: enum has no 'name' at field 'e'"],
    ['invalid name', '{"type":"fixed","name":"9lives","size":1}', "Invalid schema: invalid fixed name '9lives' at the top level"],
    ['invalid namespace', '{"type":"fixed","name":"F","namespace":"a..b","size":1}', 'Invalid schema: invalid namespace "a..b" at the top level'],
    ['primitive redefined', '{"type":"record","name":"shoal.int","fields":[]}', "Invalid schema: record 'shoal.int' redefines the primitive type 'int' at the top level"],
    ['type defined twice', record('{"name":"a","type":{"type":"fixed","name":"F","size":1}},{"name":"b","type":{"type":"fixed","name":"F","size":2}}'), "Invalid schema: type 'shoal.test.F' is defined twice at field 'b'"],
    ['missing fields', '{"type":"record","name":"R"}', "Invalid schema: record 'R' needs a 'fields' array at the top level"],
    ['duplicate field', record('{"name":"a","type":"int"},{"name":"a","type":"long"}'), "Invalid schema: duplicate field 'a' in record 'shoal.test.R' at the top level"],
    ['invalid field name', record('{"name":"a-b","type":"int"}'), 'Invalid schema: invalid field name "a-b" at /fields/0'],
    ['field without type', record('{"name":"a"}'), "Invalid schema: field 'a' has no 'type' at field 'a'"],
    ['invalid order', record('{"name":"a","type":"int","order":"up"}'), 'Invalid schema: invalid order "up" (expected ascending, descending or ignore) at field \'a\''],
    ['no symbols', '{"type":"enum","name":"E","symbols":[]}', "Invalid schema: enum 'E' needs at least one symbol at the top level"],
    ['invalid symbol', '{"type":"enum","name":"E","symbols":["A","1B"]}', "Invalid schema: invalid symbol '1B' in enum 'E' at the top level"],
    ['duplicate symbol', '{"type":"enum","name":"E","symbols":["A","A"]}', "Invalid schema: duplicate symbol 'A' in enum 'E' at the top level"],
    ['enum default not a symbol', '{"type":"enum","name":"E","symbols":["A"],"default":"B"}', 'Invalid schema: default "B" of enum \'E\' is not one of its symbols at the top level'],
    ['fixed without size', '{"type":"fixed","name":"F","size":-1}', "Invalid schema: fixed 'F' needs a 'size' that is a non-negative integer, got -1 at the top level"],
    ['array without items', record('{"name":"a","type":{"type":"array"}}'), "Invalid schema: an array needs 'items' at field 'a'"],
    ['map without values', '{"type":"map","value":"int"}', "Invalid schema: a map needs 'values' at the top level"],
    ['empty union', '[]', 'Invalid schema: a union needs at least one branch at the top level'],
    ['nested union', '["null",["int","string"]]', 'Invalid schema: a union may not directly contain another union at /1'],
    ['duplicate union branch', '["null","string",{"type":"string"}]', "Invalid schema: union has two branches of type 'string' at the top level"],
    ['a named type twice in a union', record('{"name":"a","type":{"type":"fixed","name":"F","size":1}},{"name":"b","type":["null","F","shoal.test.F"]}'), "Invalid schema: union has two branches of type 'shoal.test.F' at field 'b'"],
    ['two arrays in a union', '[{"type":"array","items":"int"},{"type":"array","items":"string"}]', "Invalid schema: union has two branches of type 'array' at the top level"],
  ])('rejects a schema with %s', (_, schema, message) => {
    expect(errorOf(() => parseAvroSchema({ schema }))).toBe(message);
  });
});

describe('field defaults', () => {
  const withDefault = (type: string, value: string) =>
    `{"type":"record","name":"shoal.test.R","fields":[{"name":"f","type":${type},"default":${value}}]}`;
  const point = '{"type":"record","name":"P","fields":[{"name":"x","type":"int"},{"name":"y","type":"int","default":0}]}';

  it.each([
    ['"null"', 'null'],
    ['"boolean"', 'false'],
    ['"int"', '-2147483648'],
    ['"long"', '-9007199254740990'],
    ['"float"', '1'],
    ['"double"', '-1.5e300'],
    ['"bytes"', '"\\u0000\\u00ff"'],
    ['"string"', '"\\u263a"'],
    ['{"type":"array","items":"int"}', '[1,2]'],
    ['{"type":"map","values":"string"}', '{"a":"b"}'],
    ['{"type":"enum","name":"E","symbols":["A","B"]}', '"B"'],
    ['{"type":"fixed","name":"F","size":2}', '"ab"'],
    [point, '{"x":1}'],
    ['["null","string"]', 'null'],
    ['["string","null"]', '"s"'],
  ])('accepts %s with default %s', (type, value) => {
    expect(parseAvroSchema({ schema: withDefault(type, value) }).type.typeName).toBe('record');
  });

  it.each([
    ['"null"', '0', 'expected null'],
    ['"boolean"', '"true"', 'expected a boolean'],
    ['"int"', '2147483648', 'expected an int (32-bit integer)'],
    ['"int"', '1.5', 'expected an int (32-bit integer)'],
    ['"long"', '9007199254740991', 'expected a long (an integer between -9007199254740990 and 9007199254740990, the ones avsc reads exactly)'],
    ['"float"', '"NaN"', 'expected a float (a JSON number)'],
    ['"bytes"', '"\\u0100"', 'expected a string of bytes (code points 0-255)'],
    ['"string"', 'null', 'expected a string'],
    ['{"type":"array","items":"int"}', '[1,"2"]', 'item 1: expected an int (32-bit integer)'],
    ['{"type":"map","values":"int"}', '[]', 'expected an object (map)'],
    ['{"type":"enum","name":"E","symbols":["A"]}', '"B"', "expected one of the symbols of enum 'shoal.test.E'"],
    ['{"type":"fixed","name":"F","size":2}', '"abc"', "expected a string of 2 bytes (fixed 'shoal.test.F')"],
    [point, '{"y":1}', "missing field 'x' of record 'shoal.test.P'"],
    [point, '{"x":"1"}', "field 'x': expected an int (32-bit integer)"],
    ['["null","string"]', '"s"', "expected null; a union's default belongs to its first branch"],
  ])('rejects %s with default %s', (type, value, problem) => {
    expect(errorOf(() => parseAvroSchema({ schema: withDefault(type, value) }))).toBe(
      `Invalid schema: invalid default value ${JSON.stringify(JSON.parse(value))} at field 'f': ${problem}`,
    );
  });
});
