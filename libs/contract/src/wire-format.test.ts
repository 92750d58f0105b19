import avsc from 'avsc';
import { describe, expect, it } from 'vitest';
import { refusal } from './event-fixtures.js';
import { decodeWireFormat, encodeWireFormat, wireSchemaId } from './wire-format.js';

const type = avsc.Type.forSchema({
  type: 'record',
  name: 'Note',
  namespace: 'shoal.test',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'count', type: 'int' },
  ],
});
const note = { id: 'n-1', count: 3 };


describe('Confluent wire format', () => {
  it('frames Avro as 0x00, the schema id big-endian, then the datum', () => {
    const value = encodeWireFormat(0x01020304, type, note);
    expect([...value.subarray(0, 5)]).toEqual([0, 1, 2, 3, 4]);
    expect(value.subarray(5)).toEqual(type.toBuffer(note));
    expect(wireSchemaId(value)).toBe(0x01020304);
    expect(decodeWireFormat(value, type, undefined, 0x01020304)).toEqual(note);
  });

  it('returns a buffer of its own for every value (the scratch space is reused)', () => {
    const first = encodeWireFormat(1, type, note);
    const second = encodeWireFormat(1, type, { id: 'other', count: 9 });
    expect(decodeWireFormat(first, type, undefined, 1)).toEqual(note);
    expect(decodeWireFormat(second, type, undefined, 1)).toEqual({ id: 'other', count: 9 });
  });

  it('encodes a datum larger than the scratch space', () => {
    const big = { id: 'x'.repeat(200_000), count: 1 };
    expect(decodeWireFormat(encodeWireFormat(7, type, big), type, undefined, 7)).toEqual(big);
  });

  it('passes avsc errors through for data that does not match the schema', () => {
    expect(() => encodeWireFormat(1, type, { id: 'n', count: 'two' })).toThrow(/invalid "int": "two"/);
  });

  const refusals: Array<[string, Buffer, string]> = [
    ['an empty value', Buffer.alloc(0), 'value is 0 bytes, shorter than the 5-byte Confluent wire format header'],
    ['a value shorter than the header', Buffer.from([0, 0, 0]), 'value is 3 bytes, shorter than the 5-byte'],
    ['a wrong magic byte', Buffer.from([1, 0, 0, 0, 1, 6]), 'value starts with magic byte 0x01, expected 0x00'],
    ['JSON instead of Avro', Buffer.from('{"id":"n-1","count":3}'), 'magic byte 0x7b'],
  ];
  it.each(refusals)('refuses %s', async (_name, value, message) => {
    const error = await refusal(() => wireSchemaId(value));
    expect(error.code).toBe('SHOAL_EVENT_DECODE');
    expect(error.retriable).toBe(false);
    expect(error.message).toContain(message);
  });

  it('refuses a truncated datum', async () => {
    const value = encodeWireFormat(5, type, note);
    const error = await refusal(() => decodeWireFormat(value.subarray(0, value.length - 1), type, undefined, 5));
    expect(error.code).toBe('SHOAL_EVENT_DECODE');
    expect(error.message).toContain('Avro data is truncated');
  });

  it('refuses trailing bytes after the datum', async () => {
    const value = Buffer.concat([encodeWireFormat(5, type, note), Buffer.from([1, 2])]);
    const error = await refusal(() => decodeWireFormat(value, type, undefined, 5));
    expect(error.code).toBe('SHOAL_EVENT_DECODE');
    expect(error.message).toContain(`2 trailing bytes after the Avro datum (writer schema 5, datum ends at byte ${value.length - 2} of ${value.length})`);
  });

  it('refuses bytes that are no datum of the schema', async () => {
    // A string length of -1 (zig-zag 0x01) is not Avro.
    const error = await refusal(() => decodeWireFormat(Buffer.from([0, 0, 0, 0, 5, 0x01, 0x06]), type, undefined, 5));
    expect(error.code).toBe('SHOAL_EVENT_DECODE');
  });
});
