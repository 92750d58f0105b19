import { crc32c } from '@node-rs/crc32';
import { ErrorCode } from '../protocol/error-codes.js';

/**
 * RecordBatch, magic v2: the unit this broker validates, stores and serves. Records inside are never
 * decoded on the produce or fetch path.
 *
 *   offset  size  field
 *        0     8  base_offset            <- assigned by the broker (outside the CRC)
 *        8     4  batch_length           (bytes after this field)
 *       12     4  partition_leader_epoch <- set by the broker (outside the CRC)
 *       16     1  magic (2)
 *       17     4  crc (CRC-32C of everything from attributes to the end)
 *       21     2  attributes             (bits 0-2 compression, 3 timestamp type, 4 transactional, 5 control)
 *       23     4  last_offset_delta
 *       27     8  base_timestamp
 *       35     8  max_timestamp
 *       43     8  producer_id
 *       51     2  producer_epoch
 *       53     4  base_sequence
 *       57     4  record_count
 *       61     …  records
 */
export const BATCH_HEADER_SIZE = 61;
export const BATCH_LOG_OVERHEAD = 12;

const MAGIC_OFFSET = 16;
const CRC_OFFSET = 17;
const ATTRIBUTES_OFFSET = 21;
const LAST_OFFSET_DELTA_OFFSET = 23;
const BASE_TIMESTAMP_OFFSET = 27;
const MAX_TIMESTAMP_OFFSET = 35;
const PRODUCER_ID_OFFSET = 43;
const PRODUCER_EPOCH_OFFSET = 51;
const BASE_SEQUENCE_OFFSET = 53;
const RECORD_COUNT_OFFSET = 57;

const TIMESTAMP_TYPE_LOG_APPEND = 0x08;
const TRANSACTIONAL_FLAG = 0x10;
const CONTROL_FLAG = 0x20;
const COMPRESSION_MASK = 0x07;
const MAX_COMPRESSION_CODEC = 4; // none, gzip, snappy, lz4, zstd
const TWO_POW_32 = 4294967296;

export interface BatchHeader {
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
  compression: number;
}

export class InvalidBatchError extends Error {
  constructor(
    readonly errorCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'InvalidBatchError';
  }
}

function readInt64(buffer: Buffer, at: number): number {
  return buffer.readInt32BE(at) * TWO_POW_32 + buffer.readUInt32BE(at + 4);
}

function writeInt64(buffer: Buffer, at: number, value: number): void {
  const high = Math.floor(value / TWO_POW_32);
  buffer.writeInt32BE(high, at);
  buffer.writeUInt32BE(value - high * TWO_POW_32, at + 4);
}

/**
 * Checks that `records` (the bytes of one partition in a Produce request) is exactly one well-formed v2
 * batch with a correct CRC, and returns its header. Throws InvalidBatchError with the Kafka error code
 * the producer should see.
 */
export function validateBatch(records: Buffer): BatchHeader {
  // Magic first: a legacy (v0/v1) message set is shorter than a v2 header but deserves the format error.
  if (records.length > MAGIC_OFFSET) {
    const magic = records.readInt8(MAGIC_OFFSET);
    if (magic !== 2) {
      throw new InvalidBatchError(ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT, `record batch magic ${magic} is not supported (only v2)`);
    }
  }
  if (records.length < BATCH_HEADER_SIZE) {
    // INVALID_RECORD, as Kafka answers a batch it cannot even read the header of (CORRUPT_MESSAGE is for a
    // whole batch whose CRC does not match).
    throw new InvalidBatchError(ErrorCode.INVALID_RECORD, `record batch of ${records.length} bytes is shorter than its ${BATCH_HEADER_SIZE}-byte header`);
  }
  const batchLength = records.readInt32BE(8);
  if (batchLength + BATCH_LOG_OVERHEAD !== records.length) {
    throw new InvalidBatchError(
      ErrorCode.INVALID_RECORD,
      `expected exactly one record batch: batch_length ${batchLength} + 12 != ${records.length} bytes received`,
    );
  }
  const storedCrc = records.readUInt32BE(CRC_OFFSET);
  const actualCrc = crc32c(records.subarray(ATTRIBUTES_OFFSET)) >>> 0;
  if (storedCrc !== actualCrc) {
    throw new InvalidBatchError(ErrorCode.CORRUPT_MESSAGE, `record batch CRC mismatch: header says ${storedCrc}, content is ${actualCrc}`);
  }
  const attributes = records.readInt16BE(ATTRIBUTES_OFFSET);
  if ((attributes & (TRANSACTIONAL_FLAG | CONTROL_FLAG)) !== 0) {
    throw new InvalidBatchError(ErrorCode.INVALID_RECORD, 'transactional and control batches are not supported by this broker');
  }
  const compression = attributes & COMPRESSION_MASK;
  if (compression > MAX_COMPRESSION_CODEC) {
    throw new InvalidBatchError(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, `unknown compression codec ${compression}`);
  }
  const lastOffsetDelta = records.readInt32BE(LAST_OFFSET_DELTA_OFFSET);
  const recordCount = records.readInt32BE(RECORD_COUNT_OFFSET);
  if (recordCount <= 0 || lastOffsetDelta !== recordCount - 1) {
    throw new InvalidBatchError(
      ErrorCode.INVALID_RECORD,
      `record batch has record_count ${recordCount} but last_offset_delta ${lastOffsetDelta} (expected count - 1)`,
    );
  }
  return {
    lastOffsetDelta,
    baseTimestamp: readInt64(records, BASE_TIMESTAMP_OFFSET),
    maxTimestamp: readInt64(records, MAX_TIMESTAMP_OFFSET),
    producerId: readInt64(records, PRODUCER_ID_OFFSET),
    producerEpoch: records.readInt16BE(PRODUCER_EPOCH_OFFSET),
    baseSequence: records.readInt32BE(BASE_SEQUENCE_OFFSET),
    recordCount,
    compression,
  };
}

/** Writes the broker-assigned fields that sit outside the CRC: base offset and partition leader epoch. */
export function assignBaseOffset(batch: Buffer, baseOffset: number): void {
  writeInt64(batch, 0, baseOffset);
  batch.writeInt32BE(0, 12);
}

/**
 * For topics with message.timestamp.type=LogAppendTime: mark the batch as log-append-time and set its
 * max timestamp to the broker's clock (clients then use it for every record). These fields are inside
 * the CRC, so it is recomputed; this is the only case where the broker touches covered bytes.
 */
export function stampLogAppendTime(batch: Buffer, now: number): void {
  batch.writeInt16BE(batch.readInt16BE(ATTRIBUTES_OFFSET) | TIMESTAMP_TYPE_LOG_APPEND, ATTRIBUTES_OFFSET);
  writeInt64(batch, MAX_TIMESTAMP_OFFSET, now);
  batch.writeUInt32BE(crc32c(batch.subarray(ATTRIBUTES_OFFSET)) >>> 0, CRC_OFFSET);
}

export function readBaseOffset(batch: Buffer): number {
  return readInt64(batch, 0);
}
