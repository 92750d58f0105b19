import avsc from 'avsc';
import { describe, expect, it } from 'vitest';
import './avsc-record-defaults.js';

/** A record field whose record default leaves out `inner`, a field of type `innerType` with a default of its own. */
const schema = (innerType: unknown, innerDefault: unknown, outerDefault: object = {}) => ({
  type: 'record',
  name: 'shoal.test.Outer',
  fields: [
    {
      name: 'nested',
      type: { type: 'record', name: 'shoal.test.Inner', fields: [{ name: 'inner', type: innerType, default: innerDefault }, { name: 'n', type: 'int', default: 1 }] },
      default: outerDefault,
    },
  ],
});
const card = { type: 'record', name: 'shoal.test.Card', fields: [{ name: 'last4', type: 'string' }] };
const transfer = { type: 'record', name: 'shoal.test.Transfer', fields: [{ name: 'iban', type: 'bytes' }] };

describe('avsc record defaults that leave out a field of a union type', () => {
  it.each([
    ['wrapped', ['int', 'long'], 1, { nested: { inner: { int: 1 }, n: 1 } }],
    ['wrapped, of records', [card, transfer], { last4: '4242' }, { nested: { inner: { 'shoal.test.Card': { last4: '4242' } }, n: 1 } }],
    ['wrapped, null first', ['null', card, transfer], null, { nested: { inner: null, n: 1 } }],
    ['wrapped, bytes in the first branch', [transfer, card], { iban: '\u00ff' }, { nested: { inner: { 'shoal.test.Transfer': { iban: Buffer.from([0xff]) } }, n: 1 } }],
  ])('are read with a %s union', (_, innerType, innerDefault, expected) => {
    const type = avsc.Type.forSchema(schema(innerType, innerDefault) as avsc.Schema, { wrapUnions: 'always' });
    // The reader's default for an outer field missing in the writer, as schema resolution uses it.
    const [nested] = (type as avsc.types.RecordType).fields;
    expect(nested?.defaultValue()).toEqual(expected.nested);
  });

  it('still reads a default that gives the field, and unwrapped unions as before', () => {
    const given = avsc.Type.forSchema(schema(['int', 'long'], 1, { inner: 5, n: 2 }) as avsc.Schema, { wrapUnions: 'always' });
    expect((given as avsc.types.RecordType).fields[0]?.defaultValue()).toEqual({ inner: { int: 5 }, n: 2 });
    const unwrapped = avsc.Type.forSchema(schema(['string', 'null'], 's') as avsc.Schema, { wrapUnions: 'never' });
    expect((unwrapped as avsc.types.RecordType).fields[0]?.defaultValue()).toEqual({ inner: 's', n: 1 });
    // A default that is wrong stays wrong.
    expect(() => avsc.Type.forSchema(schema(['int', 'long'], 1, { inner: 'x' }) as avsc.Schema, { wrapUnions: 'always' })).toThrow(/incompatible field default/);
  });
});
