import avsc from 'avsc';
import { describe, expect, it } from 'vitest';
import './avro-limits.js';

/** Avro's zig-zag varint of a long. */
function long(n: number): Buffer {
  let z = BigInt(n) >= 0n ? BigInt(n) * 2n : -BigInt(n) * 2n - 1n;
  const bytes: number[] = [];
  do {
    let byte = Number(z & 0x7fn);
    z >>= 7n;
    if (z > 0n) byte |= 0x80;
    bytes.push(byte);
  } while (z > 0n);
  return Buffer.from(bytes);
}

describe('avro block limits', () => {
  const strings = avsc.Type.forSchema({ type: 'array', items: 'string' });
  const map = avsc.Type.forSchema({ type: 'map', values: 'long' });

  it('refuses a block count the remaining bytes cannot hold, instead of allocating it', () => {
    // One corrupted count: 400 million strings announced in a 7-byte value.
    const value = Buffer.concat([long(400_000_000), Buffer.from([0x02, 0x61, 0x00])]);
    expect(strings.decode(value, 0).offset).toBe(-1);
    expect(map.decode(Buffer.concat([long(300_000_000), Buffer.from([0x02, 0x6b, 0x02, 0x00])]), 0).offset).toBe(-1);
    // A negative count (block with its byte size) is bounded the same way.
    expect(strings.decode(Buffer.concat([long(-400_000_000), long(10), Buffer.from([0x00])]), 0).offset).toBe(-1);
  });

  it('stops at the end of the buffer when a plausible count runs past it', () => {
    const value = Buffer.concat([long(5), Buffer.from([0x02, 0x61])]); // 5 strings announced, 1 present
    expect(strings.decode(value, 0).offset).toBe(-1);
  });

  it('still reads what avsc wrote, including zero-byte items beyond the byte count', () => {
    const data = ['a', 'bb', '', 'ccc'];
    expect(strings.fromBuffer(strings.toBuffer(data))).toEqual(data);
    const nulls = avsc.Type.forSchema({ type: 'array', items: 'null' });
    const many = new Array(1000).fill(null);
    expect(nulls.fromBuffer(nulls.toBuffer(many))).toEqual(many);
    expect(map.fromBuffer(map.toBuffer({ a: 1, b: 2 }))).toEqual({ a: 1, b: 2 });
    // A resolver (reader with a promoted type) reads through the same bounded readers.
    const wider = avsc.Type.forSchema({ type: 'map', values: 'double' });
    expect(wider.fromBuffer(map.toBuffer({ a: 1 }), wider.createResolver(map))).toEqual({ a: 1 });
    expect(wider.decode(Buffer.concat([long(300_000_000), Buffer.from([0x00])]), 0, wider.createResolver(map)).offset).toBe(-1);
  });

  it('skips arrays and maps a reader does not have, with the same bounds', () => {
    const writer = avsc.Type.forSchema({ type: 'record', name: 'R', fields: [{ name: 'tags', type: { type: 'array', items: 'string' } }, { name: 'n', type: 'int' }] });
    const reader = avsc.Type.forSchema({ type: 'record', name: 'R', fields: [{ name: 'n', type: 'int' }] });
    const resolver = reader.createResolver(writer);
    expect(reader.fromBuffer(writer.toBuffer({ tags: ['x', 'y'], n: 7 }), resolver)).toEqual({ n: 7 });
    expect(reader.decode(Buffer.concat([long(400_000_000), Buffer.from([0x00, 0x0e])]), 0, resolver).offset).toBe(-1);
  });

  it('keeps a "__proto__" map key as an entry, not as the prototype', () => {
    const decoded = map.fromBuffer(map.toBuffer(JSON.parse('{"__proto__": 5, "a": 1}'))) as Record<string, number>;
    expect(Object.keys(decoded)).toEqual(['__proto__', 'a']);
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
  });
});
