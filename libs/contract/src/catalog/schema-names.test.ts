import { describe, expect, it } from 'vitest';
import { fullName, namespaceOf, schemaNames, simpleName } from './schema-names.js';

describe('schemaNames', () => {
  it('finds named types used but not defined, through every kind of type position', () => {
    const schema = {
      type: 'record',
      name: 'Order',
      namespace: 'shoal.orders',
      fields: [
        { name: 'id', type: 'string' },
        { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
        { name: 'total', type: 'shoal.common.Money' },
        { name: 'address', type: ['null', 'shoal.common.Address'] },
        { name: 'lines', type: { type: 'array', items: 'shoal.common.LineItem' } },
        { name: 'notes', type: { type: 'map', values: { type: 'shoal.common.Note' } } },
        { name: 'again', type: 'shoal.common.Money' },
      ],
    };
    expect(schemaNames(schema)).toEqual({
      defined: ['shoal.orders.Order'],
      referenced: ['shoal.common.Money', 'shoal.common.Address', 'shoal.common.LineItem', 'shoal.common.Note'],
    });
  });

  it('resolves simple names in the enclosing namespace and does not count types defined in the schema', () => {
    const schema = {
      type: 'record',
      name: 'Outer',
      namespace: 'a.b',
      fields: [
        { name: 'status', type: { type: 'enum', name: 'Status', symbols: ['X'] } },
        { name: 'hash', type: { type: 'fixed', name: 'Hash', namespace: 'c', size: 4 } },
        { name: 'inner', type: { type: 'record', name: 'x.Inner', fields: [{ name: 'peer', type: ['null', 'Inner'] }] } },
        { name: 'statusAgain', type: 'Status' },
        { name: 'hashAgain', type: 'c.Hash' },
        { name: 'next', type: ['null', 'Outer'] },
        { name: 'other', type: 'Other' },
      ],
    };
    expect(schemaNames(schema)).toEqual({
      defined: ['a.b.Outer', 'a.b.Status', 'c.Hash', 'x.Inner'],
      // `Inner` inside x.Inner resolves in namespace x (its own), `Other` in a.b.
      referenced: ['a.b.Other'],
    });
  });

  it('tolerates malformed shapes, leaving them to avsc', () => {
    expect(schemaNames({ type: 'record', fields: 'nope' })).toEqual({ defined: [], referenced: [] });
    expect(schemaNames({ type: 'record', name: 'R', fields: [null, { name: 'f' }] })).toEqual({ defined: ['R'], referenced: [] });
    expect(schemaNames(42)).toEqual({ defined: [], referenced: [] });
  });
});

describe('Avro names', () => {
  it('splits and joins full names', () => {
    expect(fullName('Money', 'shoal.common')).toBe('shoal.common.Money');
    expect(fullName('x.Money', 'shoal.common')).toBe('x.Money');
    expect(fullName('Money', '')).toBe('Money');
    expect(fullName('Money', undefined)).toBe('Money');
    expect(fullName('.Money', 'shoal.common')).toBe('Money');
    expect([namespaceOf('shoal.common.Money'), simpleName('shoal.common.Money')]).toEqual(['shoal.common', 'Money']);
    expect([namespaceOf('Money'), simpleName('Money')]).toEqual(['', 'Money']);
  });
});
