/**
 * Bounds on what a corrupt Avro value can make avsc do.
 *
 * Arrays and maps are written as blocks, each a count followed by that many items:
 *
 *   block*  0        block = count:long [byte-size:long when count < 0] item{count}
 *
 * avsc 5.7 trusts the count: one flipped byte can turn it into hundreds of millions, and avsc then
 * allocates `new Array(count)` and reads that many items past the end of the buffer, which exhausts the
 * heap of the whole process (found by test/chaos/codec-fuzz.test.ts). A consumer must survive any bytes a
 * producer sends, so this module replaces the block readers of avsc's ArrayType and MapType (the `_read`
 * and `_skip` every array and map type, and every resolver built from one, calls) with ones that refuse a
 * count the remaining bytes cannot hold and stop at the end of the buffer. A refused value leaves the tap
 * invalid, which `Type#decode` reports as an offset of -1: the codec's "truncated" SHOAL_EVENT_DECODE.
 *
 * An item takes at least one byte unless its type encodes in zero bytes (null, an empty record, a
 * zero-size fixed), so a count above the remaining bytes is only legitimate for those; they are allowed
 * up to ZERO_SIZE_ITEMS_LIMIT, which bounds the work a value can ask for.
 *
 * Patching a dependency's prototype is a last resort: avsc has no option for it, and the alternative, a
 * second Avro decoder, would be far more code to keep right. The replacements follow avsc 5.7.9's own
 * (lib/types.js) and are applied once, when this module is first imported.
 */
import avsc from 'avsc';

const ZERO_SIZE_ITEMS_LIMIT = 100_000;

/** The part of avsc's Tap (lib/utils.js) the block readers use. */
interface Tap {
  buf: Buffer;
  pos: number;
  readLong(): number;
  skipLong(): void;
  readString(): string;
  skipString(): void;
  _invalidate(): void;
}

interface ItemType {
  _read(tap: Tap): unknown;
  _skip(tap: Tap): void;
}

/** The next block's item count, 0 at the end of the blocks or when the count is impossible (tap invalidated). */
function blockCount(tap: Tap): number {
  let count = tap.readLong();
  if (count < 0) {
    count = -count;
    tap.skipLong(); // the block's size in bytes, which the readers do not need
  }
  if (!(count > 0)) return 0; // 0 ends the blocks; NaN means the count itself was cut off
  if (count > tap.buf.length - tap.pos && count > ZERO_SIZE_ITEMS_LIMIT) {
    tap._invalidate();
    return 0;
  }
  return count;
}

/** Skips a block the writer sized (negative count): its byte size is read, not skipped. */
function skipBlocks(tap: Tap, skipItem: (tap: Tap) => void): void {
  for (;;) {
    let count = tap.readLong();
    if (count === 0 || Number.isNaN(count)) return;
    if (count < 0) {
      tap.pos += tap.readLong();
      continue;
    }
    if (count > tap.buf.length - tap.pos && count > ZERO_SIZE_ITEMS_LIMIT) {
      tap._invalidate();
      return;
    }
    for (; count > 0 && tap.pos <= tap.buf.length; count--) skipItem(tap);
  }
}

const { ArrayType, MapType } = avsc.types as unknown as {
  ArrayType: { prototype: { itemsType: ItemType; _read(tap: Tap): unknown; _skip(tap: Tap): void } };
  MapType: { prototype: { valuesType: ItemType; _read(tap: Tap): unknown; _skip(tap: Tap): void } };
};

ArrayType.prototype._read = function readArray(this: { itemsType: ItemType }, tap: Tap): unknown[] {
  const items = this.itemsType;
  const values: unknown[] = [];
  let count: number;
  while ((count = blockCount(tap))) {
    for (; count > 0 && tap.pos <= tap.buf.length; count--) values.push(items._read(tap));
  }
  return values;
};

ArrayType.prototype._skip = function skipArray(this: { itemsType: ItemType }, tap: Tap): void {
  const items = this.itemsType;
  skipBlocks(tap, (t) => items._skip(t));
};

MapType.prototype._read = function readMap(this: { valuesType: ItemType }, tap: Tap): Record<string, unknown> {
  const values = this.valuesType;
  const map: Record<string, unknown> = {};
  let count: number;
  while ((count = blockCount(tap))) {
    for (; count > 0 && tap.pos <= tap.buf.length; count--) {
      const key = tap.readString();
      // A plain assignment to "__proto__" would replace the map's prototype instead of adding an entry.
      if (key === '__proto__') Object.defineProperty(map, key, { value: values._read(tap), enumerable: true, writable: true, configurable: true });
      else map[key] = values._read(tap);
    }
  }
  return map;
};

MapType.prototype._skip = function skipMap(this: { valuesType: ItemType }, tap: Tap): void {
  const values = this.valuesType;
  skipBlocks(tap, (t) => {
    t.skipString();
    values._skip(t);
  });
};
