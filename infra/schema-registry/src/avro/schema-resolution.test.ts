import { describe, expect, it } from 'vitest';
import { parseAvroSchema, readerCanReadWriter } from './index.js';

const type = (schema: unknown) => parseAvroSchema({ schema: JSON.stringify(schema) }).type;
const messages = (reader: unknown, writer: unknown) => readerCanReadWriter(type(reader), type(writer));
const record = (name: string, fields: unknown[], extra: object = {}) => ({ type: 'record', name, ...extra, fields });

describe('readerCanReadWriter', () => {
  it('reads every primitive as itself and through the promotions only', () => {
    const primitives = ['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string'];
    const readable = new Set(['int>long', 'int>float', 'int>double', 'long>float', 'long>double', 'float>double', 'string>bytes', 'bytes>string']);
    for (const writer of primitives) {
      for (const reader of primitives) {
        const expected =
          reader === writer || readable.has(`${writer}>${reader}`)
            ? []
            : [`TYPE_MISMATCH: reader type '${reader}' at / cannot read writer type '${writer}'`];
        expect(messages(reader, writer), `${writer} read as ${reader}`).toEqual(expected);
      }
    }
  });

  it('names the reader field that has no default and is missing in the writer', () => {
    const writer = record('shoal.test.Order', [{ name: 'id', type: 'string' }]);
    const reader = record('shoal.test.Order', [
      { name: 'id', type: 'string' },
      { name: 'note', type: 'string', default: '' },
      { name: 'total', type: 'long' },
    ]);
    expect(messages(reader, writer)).toEqual([
      "READER_FIELD_MISSING_DEFAULT_VALUE: field 'total' at /fields/2 has no default value and is missing in the writer schema",
    ]);
    expect(messages(writer, reader)).toEqual([]);
  });

  it('locates mismatches inside arrays, maps and nested records and names both types', () => {
    const line = (sku: string, qty: string) => record('shoal.test.Line', [{ name: 'sku', type: sku }, { name: 'qty', type: qty }]);
    const order = (sku: string, qty: string, tags: string) =>
      record('shoal.test.Order', [
        { name: 'lines', type: { type: 'array', items: line(sku, qty) } },
        { name: 'tags', type: { type: 'map', values: tags } },
      ]);
    expect(messages(order('string', 'int', 'string'), order('string', 'long', 'boolean'))).toEqual([
      "TYPE_MISMATCH: reader type 'int' at /fields/0/type/items/fields/1/type cannot read writer type 'long'",
      "TYPE_MISMATCH: reader type 'string' at /fields/1/type/values cannot read writer type 'boolean'",
    ]);
    expect(messages({ type: 'array', items: 'int' }, line('string', 'int'))).toEqual([
      "TYPE_MISMATCH: reader type 'array' at / cannot read writer type 'shoal.test.Line' (record)",
    ]);
  });

  it('matches named types by full name or a reader alias, fields by name or a reader field alias', () => {
    const writer = record('shoal.old.Thing', [{ name: 'a', type: 'int' }]);
    expect(messages(record('shoal.test.Thing', [{ name: 'a', type: 'int' }]), writer)).toEqual([
      "NAME_MISMATCH: reader record 'shoal.test.Thing' at / does not match writer record 'shoal.old.Thing' by its name or one of its aliases",
    ]);
    const aliased = record('shoal.test.Thing', [{ name: 'b', type: 'long', aliases: ['a'] }], { aliases: ['shoal.old.Thing'] });
    expect(messages(aliased, writer)).toEqual([]);
    // The namespace of an alias is the type's own.
    expect(messages(record('shoal.old.Renamed', [{ name: 'a', type: 'int' }], { aliases: ['Thing'] }), writer)).toEqual([]);
    expect(
      messages(record('shoal.old.Thing', [{ name: 'b', type: 'int', aliases: ['a'] }]), record('shoal.old.Thing', [{ name: 'a', type: 'int' }, { name: 'b', type: 'int' }])),
    ).toEqual(["AMBIGUOUS_FIELD_ALIAS: field 'b' at /fields/0 matches several writer fields by its name and aliases: b, a"]);
  });

  it('needs every writer enum symbol in the reader unless the reader enum has a default', () => {
    const color = (symbols: string[], extra: object = {}) => ({ type: 'enum', name: 'shoal.test.Color', symbols, ...extra });
    expect(messages(color(['RED']), color(['RED', 'GREEN', 'BLUE']))).toEqual([
      "MISSING_ENUM_SYMBOLS: reader enum 'shoal.test.Color' at / lacks the writer's symbols [GREEN, BLUE] and has no default",
    ]);
    expect(messages(color(['RED'], { default: 'RED' }), color(['RED', 'GREEN', 'BLUE']))).toEqual([]);
  });

  it('needs fixed types of the same name and size', () => {
    const hash = (size: number, name = 'shoal.test.Hash') => ({ type: 'fixed', name, size });
    expect(messages(hash(16), hash(32))).toEqual([
      "FIXED_SIZE_MISMATCH: reader fixed 'shoal.test.Hash' at / has size 16, the writer's has size 32",
    ]);
    expect(messages(hash(16), hash(16, 'shoal.test.Digest'))).toEqual([
      "NAME_MISMATCH: reader fixed 'shoal.test.Hash' at / does not match writer fixed 'shoal.test.Digest' by its name or one of its aliases",
    ]);
  });

  it('reads a writer union only when every branch is readable, into a reader union when some branch reads it', () => {
    expect(messages('string', ['null', 'string'])).toEqual(["TYPE_MISMATCH: reader type 'string' at / cannot read writer type 'null'"]);
    expect(messages(['null', 'string'], ['null', 'int'])).toEqual([
      "MISSING_UNION_BRANCH: reader union at / has no branch that can read writer type 'int'",
    ]);
    expect(messages(['null', 'long'], ['null', 'int'])).toEqual([]);
    expect(messages(['null', 'double'], 'float')).toEqual([]);
  });

  it('reports the problems of the reader union branch that is meant to read a named writer type', () => {
    const address = (fields: unknown[]) => record('shoal.test.Address', fields);
    const person = (addressFields: unknown[]) => record('shoal.test.Person', [{ name: 'home', type: ['null', address(addressFields)], default: null }]);
    expect(messages(person([{ name: 'street', type: 'string' }, { name: 'zip', type: 'string' }]), person([{ name: 'street', type: 'string' }]))).toEqual([
      "READER_FIELD_MISSING_DEFAULT_VALUE: field 'zip' at /fields/0/type/1/fields/1 has no default value and is missing in the writer schema",
    ]);
  });

  it('resolves unions of records branch by branch, matching records by full name or a reader alias', () => {
    const card = (fields: unknown[] = [{ name: 'last4', type: 'string' }], extra: object = {}) => record('shoal.test.Card', fields, extra);
    const transfer = record('shoal.test.Transfer', [{ name: 'iban', type: 'string' }]);
    const cash = record('shoal.test.Cash', [{ name: 'currency', type: 'string' }]);
    // A top-level union of records, as several event types in one topic are.
    expect(messages([card(), transfer, cash], [card(), transfer])).toEqual([]);
    expect(messages([transfer, card()], [card(), transfer])).toEqual([]);
    expect(messages([card(), transfer], [card(), transfer, cash])).toEqual([
      "MISSING_UNION_BRANCH: reader union at / has no branch that can read writer type 'shoal.test.Cash' (record)",
    ]);
    // A writer record read into the branch of its name; its own problems are the branch's.
    expect(messages([card([{ name: 'last4', type: 'string' }, { name: 'brand', type: 'string' }]), transfer], card())).toEqual([
      "READER_FIELD_MISSING_DEFAULT_VALUE: field 'brand' at /0/fields/1 has no default value and is missing in the writer schema",
    ]);
    // A renamed branch reads the old name through its alias, not through its fields.
    const renamed = record('shoal.test.PaymentCard', [{ name: 'last4', type: 'string' }], { aliases: ['shoal.test.Card'] });
    expect(messages(['null', renamed, transfer], ['null', card(), transfer])).toEqual([]);
    expect(messages(['null', record('shoal.test.PaymentCard', [{ name: 'last4', type: 'string' }]), transfer], ['null', card(), transfer])).toEqual([
      "MISSING_UNION_BRANCH: reader union at / has no branch that can read writer type 'shoal.test.Card' (record)",
    ]);
    // In a field, as a record-valued field that the writer did not wrap in a union yet.
    const payment = (method: unknown) => record('shoal.test.Payment', [{ name: 'method', type: method }]);
    expect(messages(payment([card(), transfer]), payment(card()))).toEqual([]);
    expect(messages(payment(card()), payment([card(), transfer]))).toEqual([
      "NAME_MISMATCH: reader record 'shoal.test.Card' at /fields/0/type does not match writer record 'shoal.test.Transfer' by its name or one of its aliases",
    ]);
  });

  it('resolves unions of several numeric types through the promotions', () => {
    expect(messages(['null', 'long', 'double'], ['null', 'int', 'float'])).toEqual([]);
    expect(messages(['int', 'string', 'long'], ['null', 'int', 'double'])).toEqual([
      "MISSING_UNION_BRANCH: reader union at / has no branch that can read writer type 'null'",
      "MISSING_UNION_BRANCH: reader union at / has no branch that can read writer type 'double'",
    ]);
    expect(messages(['int', 'string', 'long'], 'long')).toEqual([]);
    expect(messages('double', ['int', 'long', 'float'])).toEqual([]);
    expect(messages('long', ['int', 'long', 'float'])).toEqual(["TYPE_MISMATCH: reader type 'long' at / cannot read writer type 'float'"]);
  });

  it('terminates on recursive and mutually recursive types and still finds their problems', () => {
    const tree = (valueType: string) =>
      record('shoal.test.Tree', [
        { name: 'value', type: valueType },
        { name: 'children', type: { type: 'array', items: 'shoal.test.Tree' } },
        {
          name: 'forest',
          type: ['null', record('shoal.test.Forest', [{ name: 'trees', type: { type: 'array', items: 'shoal.test.Tree' } }])],
          default: null,
        },
      ]);
    expect(messages(tree('long'), tree('int'))).toEqual([]);
    expect(messages(tree('int'), tree('long'))).toEqual(["TYPE_MISMATCH: reader type 'int' at /fields/0/type cannot read writer type 'long'"]);
  });

  it('reports a problem of a type used in many places once, however many routes lead to it', () => {
    // Sixteen levels, each with two fields of the next level's type: 2^15 routes to the bottom record.
    const levels = (bottomType: string) => {
      let schema: unknown = record('shoal.test.Level16', [{ name: 'x', type: bottomType }]);
      for (let level = 15; level >= 1; level -= 1) {
        const next = `shoal.test.Level${level + 1}`;
        schema = record(`shoal.test.Level${level}`, [
          { name: 'left', type: schema },
          { name: 'right', type: next },
        ]);
      }
      return schema;
    };
    const found = messages(levels('int'), levels('string'));
    expect(found).toEqual([`TYPE_MISMATCH: reader type 'int' at /${'fields/0/type/'.repeat(15)}fields/0/type cannot read writer type 'string'`]);
  });
});
