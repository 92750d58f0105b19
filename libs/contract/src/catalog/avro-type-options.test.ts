import avsc from 'avsc';
import { describe, expect, it } from 'vitest';
import { avroTypeOptions, isWrappedUnion } from './avro-type-options.js';

/** One schema of each Avro type; the named ones take a fresh name each time, so a union may hold several. */
const BRANCH_TYPES = ['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string', 'array', 'map', 'record', 'enum', 'fixed'];
const NAMED = new Set(['record', 'enum', 'fixed']);

function branchSchema(type: string, index: number): avsc.Schema {
  switch (type) {
    case 'array':
      return { type, items: 'int' };
    case 'map':
      return { type, values: 'int' };
    case 'record':
      return { type, name: `shoal.test.R${index}`, fields: [] };
    case 'enum':
      return { type, name: `shoal.test.E${index}`, symbols: ['A'] };
    case 'fixed':
      return { type, name: `shoal.test.F${index}`, size: 2 };
    default:
      return type as avsc.Schema;
  }
}

describe('isWrappedUnion', () => {
  it('answers what avsc decides for every union of up to three branches', () => {
    const unions: string[][] = [];
    for (const a of BRANCH_TYPES) {
      unions.push([a]);
      for (const b of BRANCH_TYPES) {
        unions.push([a, b]);
        for (const c of BRANCH_TYPES) unions.push([a, b, c]);
      }
    }
    // A union may repeat only named types (each with its own name).
    const valid = unions.filter((types) => types.every((type, i) => NAMED.has(type) || types.indexOf(type) === i));
    let wrapped = 0;
    for (const types of valid) {
      const type = avsc.Type.forSchema(types.map(branchSchema) as avsc.Schema, avroTypeOptions());
      expect(isWrappedUnion(types), types.join(', ')).toBe(type.typeName === 'union:wrapped');
      if (type.typeName === 'union:wrapped') wrapped += 1;
    }
    expect(wrapped).toBeGreaterThan(0);
    expect(wrapped).toBeLessThan(valid.length);
  });

  it('keeps the unions Shoal has always read unwrapped unwrapped, and wraps the others as Avro JSON does', () => {
    const options = avroTypeOptions();
    const optional = avsc.Type.forSchema(['null', 'string'], options);
    expect(optional.fromBuffer(optional.toBuffer('x'))).toBe('x');
    const numbers = avsc.Type.forSchema(['null', 'int', 'double'], avroTypeOptions());
    expect(JSON.stringify(numbers.fromBuffer(numbers.toBuffer({ double: 2.5 })))).toBe('{"double":2.5}');
    expect(numbers.fromBuffer(numbers.toBuffer(null))).toBe(null);
    expect(numbers.isValid(2.5)).toBe(false);
  });
});
