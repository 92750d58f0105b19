/**
 * Reads Kafka protocol primitive types from a buffer (all big-endian):
 *
 *   INT8/16/32/64, UINT32          fixed width, two's complement
 *   VARINT/UNSIGNED_VARINT          zig-zag / plain LEB128 (records and flexible versions)
 *   STRING / NULLABLE_STRING        INT16 length (-1 = null) + UTF-8
 *   BYTES / NULLABLE_BYTES          INT32 length (-1 = null) + raw bytes
 *   COMPACT_*                       UNSIGNED_VARINT (length + 1, 0 = null) + data
 *   ARRAY                           INT32 count (-1 = null) + items; COMPACT_ARRAY: UNSIGNED_VARINT count + 1
 *   TAGGED_FIELDS                   UNSIGNED_VARINT count, then (tag, size, bytes) per field
 *
 * Every read is bounds-checked and strings must be valid UTF-8 (a replacement character would change a
 * name's byte length when it is echoed back): a truncated, lying or garbled frame raises
 * ProtocolDecodeError, which the connection turns into a closed connection, never a crash.
 */
import { isUtf8 } from 'node:buffer';

export class ProtocolDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolDecodeError';
  }
}

const TWO_POW_32 = 4294967296;

export class Reader {
  offset: number;

  constructor(
    readonly buffer: Buffer,
    offset = 0,
  ) {
    this.offset = offset;
  }

  get remaining(): number {
    return this.buffer.length - this.offset;
  }

  private need(bytes: number): number {
    const at = this.offset;
    if (bytes < 0 || at + bytes > this.buffer.length) {
      throw new ProtocolDecodeError(`truncated frame: need ${bytes} bytes at offset ${at}, have ${this.buffer.length - at}`);
    }
    this.offset = at + bytes;
    return at;
  }

  int8(): number {
    return this.buffer.readInt8(this.need(1));
  }

  bool(): boolean {
    return this.int8() !== 0;
  }

  int16(): number {
    return this.buffer.readInt16BE(this.need(2));
  }

  int32(): number {
    return this.buffer.readInt32BE(this.need(4));
  }

  uint32(): number {
    return this.buffer.readUInt32BE(this.need(4));
  }

  /** INT64 as a JS number: offsets, timestamps and producer ids all fit in 53 bits. */
  int64(): number {
    const at = this.need(8);
    return this.buffer.readInt32BE(at) * TWO_POW_32 + this.buffer.readUInt32BE(at + 4);
  }

  uvarint(): number {
    let value = 0;
    let shift = 0;
    for (;;) {
      const byte = this.buffer[this.need(1)]!;
      if (shift === 28 && byte > 0x0f) throw new ProtocolDecodeError('unsigned varint is longer than 5 bytes');
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return value;
      shift += 7;
    }
  }

  varint(): number {
    const raw = this.uvarint();
    return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
  }

  /** Zig-zag VARLONG as a number (record timestamps and offsets deltas). */
  varlong(): number {
    let value = 0n;
    let shift = 0n;
    for (;;) {
      const byte = this.buffer[this.need(1)]!;
      value |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) break;
      shift += 7n;
      if (shift > 63n) throw new ProtocolDecodeError('varlong is longer than 10 bytes');
    }
    return Number((value >> 1n) ^ -(value & 1n));
  }

  string(): string {
    const value = this.nullableString();
    if (value === null) throw new ProtocolDecodeError('null where a non-nullable string was required');
    return value;
  }

  nullableString(): string | null {
    const length = this.int16();
    if (length < 0) return null;
    return this.utf8(this.need(length), length);
  }

  private utf8(at: number, length: number): string {
    const bytes = this.buffer.subarray(at, at + length);
    if (!isUtf8(bytes)) throw new ProtocolDecodeError(`string at offset ${at} is not valid UTF-8`);
    return bytes.toString('utf8');
  }

  compactString(): string {
    const value = this.compactNullableString();
    if (value === null) throw new ProtocolDecodeError('null where a non-nullable compact string was required');
    return value;
  }

  compactNullableString(): string | null {
    const length = this.uvarint() - 1;
    if (length < 0) return null;
    return this.utf8(this.need(length), length);
  }

  /** BYTES as a view on the frame (no copy). */
  bytes(): Buffer {
    const value = this.nullableBytes();
    if (value === null) throw new ProtocolDecodeError('null where non-nullable bytes were required');
    return value;
  }

  nullableBytes(): Buffer | null {
    const length = this.int32();
    if (length < 0) return null;
    const at = this.need(length);
    return this.buffer.subarray(at, at + length);
  }

  compactNullableBytes(): Buffer | null {
    const length = this.uvarint() - 1;
    if (length < 0) return null;
    const at = this.need(length);
    return this.buffer.subarray(at, at + length);
  }

  array<T>(readItem: (reader: Reader) => T): T[] {
    const items = this.nullableArray(readItem);
    if (items === null) throw new ProtocolDecodeError('null where a non-nullable array was required');
    return items;
  }

  nullableArray<T>(readItem: (reader: Reader) => T): T[] | null {
    const count = this.int32();
    if (count < 0) return null;
    return this.readItems(count, readItem);
  }

  /** UUID (16 bytes) as 32 lowercase hex digits; Kafka's "no id" is all zeros. */
  uuid(): string {
    const at = this.need(16);
    return this.buffer.toString('hex', at, at + 16);
  }

  compactNullableArray<T>(readItem: (reader: Reader) => T): T[] | null {
    const count = this.uvarint() - 1;
    if (count < 0) return null;
    return this.readItems(count, readItem);
  }

  compactArray<T>(readItem: (reader: Reader) => T): T[] {
    const count = this.uvarint() - 1;
    if (count < 0) throw new ProtocolDecodeError('null where a non-nullable compact array was required');
    return this.readItems(count, readItem);
  }

  /** Skips TAGGED_FIELDS: no tag this broker reads carries meaning for it. */
  skipTaggedFields(): void {
    const count = this.uvarint();
    for (let i = 0; i < count; i++) {
      this.uvarint();
      this.need(this.uvarint());
    }
  }

  private readItems<T>(count: number, readItem: (reader: Reader) => T): T[] {
    // Every item takes at least one byte, so a count beyond the bytes left is a lie; refuse it before allocating.
    if (count > this.remaining) throw new ProtocolDecodeError(`array count ${count} exceeds the ${this.remaining} bytes left`);
    const items = new Array<T>(count);
    for (let i = 0; i < count; i++) items[i] = readItem(this);
    return items;
  }
}
