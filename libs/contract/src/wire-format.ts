/**
 * Confluent wire format, the Kafka value of every Shoal event
 * (https://docs.confluent.io/platform/current/schema-registry/fundamentals/serdes-develop/index.html#wire-format):
 *
 *   offset  size  field
 *        0     1  magic byte, 0x00
 *        1     4  schema id, big-endian, as the registry assigned it
 *        5     …  Avro binary encoding of the data with that schema, nothing after it
 */
import type { Type } from 'avsc';
import { ShoalError } from '@shoal/core';

export const WIRE_MAGIC_BYTE = 0x00;
export const WIRE_HEADER_SIZE = 5;

/**
 * Avro is written into one scratch buffer behind the five header bytes and copied out once: avsc's
 * toBuffer would encode into its own buffer and copy, and the header would cost a second copy.
 */
let scratch = Buffer.allocUnsafe(64 * 1024);

/**
 * `value` encoded with `type` and framed with `schemaId`. Throws avsc's error when `value` does not match
 * `type` (the codec turns it into SHOAL_EVENT_DATA_INVALID with field paths).
 */
export function encodeWireFormat(schemaId: number, type: Type, value: unknown): Buffer {
  let end = type.encode(value, scratch, WIRE_HEADER_SIZE);
  if (end < 0) {
    // A negative result is how many bytes were missing.
    scratch = Buffer.allocUnsafe(Math.max(scratch.length * 2, scratch.length - end));
    end = type.encode(value, scratch, WIRE_HEADER_SIZE);
  }
  scratch[0] = WIRE_MAGIC_BYTE;
  scratch.writeUInt32BE(schemaId, 1);
  return Buffer.from(scratch.subarray(0, end));
}

/** The schema id of a framed value. Throws SHOAL_EVENT_DECODE for a value too short or with a wrong magic byte. */
export function wireSchemaId(value: Buffer): number {
  if (value.length < WIRE_HEADER_SIZE) {
    throw decodeError(`value is ${value.length} bytes, shorter than the ${WIRE_HEADER_SIZE}-byte Confluent wire format header`);
  }
  if (value[0] !== WIRE_MAGIC_BYTE) {
    throw decodeError(`value starts with magic byte 0x${value[0]!.toString(16).padStart(2, '0')}, expected 0x00 (Confluent wire format)`);
  }
  return value.readUInt32BE(1);
}

/** Reads the Avro body of a framed value; the whole rest of the value must be exactly one datum. */
export function decodeWireFormat(value: Buffer, type: Type, resolver: ReturnType<Type['createResolver']> | undefined, schemaId: number): unknown {
  let decoded: { value: unknown; offset: number };
  try {
    decoded = type.decode(value, WIRE_HEADER_SIZE, resolver);
  } catch (error) {
    throw decodeError(`Avro data does not match writer schema ${schemaId}: ${(error as Error).message}`, error);
  }
  if (decoded.offset < 0) throw decodeError(`Avro data is truncated: ${value.length - WIRE_HEADER_SIZE} bytes do not hold a whole datum of writer schema ${schemaId}`);
  if (decoded.offset !== value.length) {
    throw decodeError(`${value.length - decoded.offset} trailing bytes after the Avro datum (writer schema ${schemaId}, datum ends at byte ${decoded.offset} of ${value.length})`);
  }
  return decoded.value;
}

export function decodeError(problem: string, cause?: unknown): ShoalError {
  return new ShoalError('SHOAL_EVENT_DECODE', `Cannot decode the event value: ${problem}`, { retriable: false, cause });
}
