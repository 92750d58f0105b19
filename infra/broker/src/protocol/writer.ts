/**
 * Writes Kafka protocol primitive types (the layouts are listed in reader.ts).
 *
 * Output is a list of chunks: small fields go into a growing scratch buffer, while large payloads
 * (stored record batches) are appended by reference with `raw()`, so a fetch response never copies
 * the batches it serves.
 */
const TWO_POW_32 = 4294967296;
const INITIAL_SIZE = 256;
const MAX_STRING_BYTES = 32767;
const INT64_MAX_AS_NUMBER = 2 ** 63;

/** A value that the wire format cannot carry (a STRING over 32767 bytes); the response cannot be sent. */
export class ProtocolEncodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolEncodeError';
  }
}

export class Writer {
  private chunks: Buffer[] = [];
  private scratch: Buffer = Buffer.allocUnsafe(INITIAL_SIZE);
  private position = 0;
  private flushedLength = 0;

  get length(): number {
    return this.flushedLength + this.position;
  }

  private ensure(bytes: number): void {
    if (this.position + bytes <= this.scratch.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.scratch.length * 2, this.position + bytes));
    this.scratch.copy(grown, 0, 0, this.position);
    this.scratch = grown;
  }

  int8(value: number): this {
    this.ensure(1);
    this.position = this.scratch.writeInt8(value, this.position);
    return this;
  }

  bool(value: boolean): this {
    return this.int8(value ? 1 : 0);
  }

  int16(value: number): this {
    this.ensure(2);
    this.position = this.scratch.writeInt16BE(value, this.position);
    return this;
  }

  int32(value: number): this {
    this.ensure(4);
    this.position = this.scratch.writeInt32BE(value, this.position);
    return this;
  }

  uint32(value: number): this {
    this.ensure(4);
    this.position = this.scratch.writeUInt32BE(value, this.position);
    return this;
  }

  /** INT64 from a number; values outside the int64 range (only reachable through rounding) saturate. */
  int64(value: number): this {
    this.ensure(8);
    if (value >= INT64_MAX_AS_NUMBER || value < -INT64_MAX_AS_NUMBER) {
      this.scratch.writeBigInt64BE(value > 0 ? 0x7fffffffffffffffn : -0x8000000000000000n, this.position);
      this.position += 8;
      return this;
    }
    const high = Math.floor(value / TWO_POW_32);
    this.scratch.writeInt32BE(high, this.position);
    this.scratch.writeUInt32BE(value - high * TWO_POW_32, this.position + 4);
    this.position += 8;
    return this;
  }

  uvarint(value: number): this {
    this.ensure(5);
    let rest = value >>> 0;
    while (rest > 0x7f) {
      this.scratch[this.position++] = (rest & 0x7f) | 0x80;
      rest >>>= 7;
    }
    this.scratch[this.position++] = rest;
    return this;
  }

  string(value: string): this {
    return this.nullableString(value);
  }

  nullableString(value: string | null): this {
    if (value === null) return this.int16(-1);
    const length = Buffer.byteLength(value);
    if (length > MAX_STRING_BYTES) throw new ProtocolEncodeError(`string of ${length} bytes does not fit a STRING (max ${MAX_STRING_BYTES})`);
    this.int16(length);
    this.ensure(length);
    this.position += this.scratch.write(value, this.position, 'utf8');
    return this;
  }

  compactString(value: string): this {
    return this.compactNullableString(value);
  }

  compactNullableString(value: string | null): this {
    if (value === null) return this.uvarint(0);
    const length = Buffer.byteLength(value);
    this.uvarint(length + 1);
    this.ensure(length);
    this.position += this.scratch.write(value, this.position, 'utf8');
    return this;
  }

  bytes(value: Buffer): this {
    return this.nullableBytes(value);
  }

  nullableBytes(value: Buffer | null): this {
    if (value === null) return this.int32(-1);
    this.int32(value.length);
    return this.raw(value);
  }

  /** Appends a buffer; buffers of 1 KiB or more are kept by reference instead of copied. */
  raw(value: Buffer): this {
    if (value.length < 1024) {
      this.ensure(value.length);
      value.copy(this.scratch, this.position);
      this.position += value.length;
      return this;
    }
    this.flushScratch();
    this.chunks.push(value);
    this.flushedLength += value.length;
    return this;
  }

  array<T>(items: readonly T[], writeItem: (writer: this, item: T) => void): this {
    this.int32(items.length);
    for (const item of items) writeItem(this, item);
    return this;
  }

  nullableArray<T>(items: readonly T[] | null, writeItem: (writer: this, item: T) => void): this {
    if (items === null) return this.int32(-1);
    return this.array(items, writeItem);
  }

  compactArray<T>(items: readonly T[], writeItem: (writer: this, item: T) => void): this {
    this.uvarint(items.length + 1);
    for (const item of items) writeItem(this, item);
    return this;
  }

  compactNullableArray<T>(items: readonly T[] | null, writeItem: (writer: this, item: T) => void): this {
    if (items === null) return this.uvarint(0);
    return this.compactArray(items, writeItem);
  }

  /** UUID from 32 hex digits (see Reader.uuid). */
  uuid(hex: string): this {
    this.ensure(16);
    this.position += this.scratch.write(hex, this.position, 16, 'hex');
    return this;
  }

  /** An empty TAGGED_FIELDS section. */
  emptyTaggedFields(): this {
    return this.uvarint(0);
  }

  private flushScratch(): void {
    if (this.position === 0) return;
    this.chunks.push(this.scratch.subarray(0, this.position));
    this.flushedLength += this.position;
    this.scratch = this.scratch.subarray(this.position);
    if (this.scratch.length < 64) this.scratch = Buffer.allocUnsafe(INITIAL_SIZE);
    this.position = 0;
  }

  /** The written bytes as chunks, in order (some may be views on caller-owned buffers). */
  toChunks(): Buffer[] {
    this.flushScratch();
    return this.chunks;
  }

  toBuffer(): Buffer {
    const chunks = this.toChunks();
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, this.flushedLength);
  }
}
