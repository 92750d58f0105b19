import { describe, expect, it } from 'vitest';
import { ProtocolDecodeError, Reader } from './reader.js';
import { Writer } from './writer.js';

describe('Reader and Writer', () => {
  it('round-trip every primitive', () => {
    const big = Buffer.alloc(4096, 7);
    const w = new Writer()
      .int8(-3)
      .int16(-30000)
      .int32(-2_000_000_000)
      .int64(2 ** 50 + 3)
      .int64(-1)
      .uvarint(300)
      .string('héllo')
      .nullableString(null)
      .compactString('cömpact')
      .compactNullableString(null)
      .nullableBytes(Buffer.from([1, 2, 3]))
      .nullableBytes(big)
      .nullableBytes(null)
      .array([1, 2, 3], (w, n) => void w.int32(n))
      .compactArray(['a'], (w, s) => void w.compactString(s))
      .emptyTaggedFields();
    const r = new Reader(w.toBuffer());
    expect(r.int8()).toBe(-3);
    expect(r.int16()).toBe(-30000);
    expect(r.int32()).toBe(-2_000_000_000);
    expect(r.int64()).toBe(2 ** 50 + 3);
    expect(r.int64()).toBe(-1);
    expect(r.uvarint()).toBe(300);
    expect(r.string()).toBe('héllo');
    expect(r.nullableString()).toBeNull();
    expect(r.compactString()).toBe('cömpact');
    expect(r.compactNullableString()).toBeNull();
    expect([...r.bytes()]).toEqual([1, 2, 3]);
    expect(r.bytes().equals(big)).toBe(true);
    expect(r.nullableBytes()).toBeNull();
    expect(r.array((r) => r.int32())).toEqual([1, 2, 3]);
    expect(r.compactArray((r) => r.compactString())).toEqual(['a']);
    r.skipTaggedFields();
    expect(r.remaining).toBe(0);
  });

  it('keeps large buffers by reference instead of copying them', () => {
    const big = Buffer.alloc(2048, 1);
    const chunks = new Writer().int32(1).raw(big).int32(2).toChunks();
    expect(chunks).toContain(big);
  });

  it('refuses truncated input and lying lengths with ProtocolDecodeError', () => {
    expect(() => new Reader(Buffer.from([0, 5, 0x61])).string()).toThrow(ProtocolDecodeError);
    expect(() => new Reader(Buffer.from([0x7f, 0xff, 0xff, 0xff])).array((r) => r.int8())).toThrow(ProtocolDecodeError);
    expect(() => new Reader(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01])).uvarint()).toThrow(ProtocolDecodeError);
    expect(() => new Reader(Buffer.from([0, 0])).int32()).toThrow(ProtocolDecodeError);
  });
});
