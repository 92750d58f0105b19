import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../protocol/error-codes.js';
import { encodeBatch } from '../testing/kafkajs-batch.js';
import { assignBaseOffset, InvalidBatchError, readBaseOffset, stampLogAppendTime, validateBatch } from './record-batch.js';

function rejection(batch: Buffer): InvalidBatchError {
  try {
    validateBatch(batch);
  } catch (error) {
    if (error instanceof InvalidBatchError) return error;
    throw error;
  }
  throw new Error('batch was accepted');
}

describe('validateBatch', () => {
  it('accepts a batch encoded by kafkajs and reads its header', async () => {
    const batch = await encodeBatch([{ value: 'a' }, { value: 'b' }, { value: 'c' }], { firstTimestamp: 1_700_000_000_000, producerId: 42, firstSequence: 7 });
    const header = validateBatch(batch);
    expect(header).toMatchObject({ recordCount: 3, lastOffsetDelta: 2, baseTimestamp: 1_700_000_000_000, producerId: 42, baseSequence: 7, compression: 0 });
  });

  it('rejects a flipped bit in the covered bytes with CORRUPT_MESSAGE', async () => {
    const batch = await encodeBatch([{ value: 'hello' }]);
    batch[batch.length - 3]! ^= 0x01;
    expect(rejection(batch).errorCode).toBe(ErrorCode.CORRUPT_MESSAGE);
  });

  it('rejects a record count that disagrees with last_offset_delta with INVALID_RECORD', async () => {
    const batch = await encodeBatch([{ value: 'x' }, { value: 'y' }]);
    batch.writeInt32BE(5, 23); // last_offset_delta; also breaks the CRC, so fix that first to reach the count check
    const { crc32c } = await import('@node-rs/crc32');
    batch.writeUInt32BE(crc32c(batch.subarray(21)) >>> 0, 17);
    expect(rejection(batch).errorCode).toBe(ErrorCode.INVALID_RECORD);
  });

  it('rejects two batches in one partition and a truncated batch', async () => {
    const one = await encodeBatch([{ value: 'x' }]);
    expect(rejection(Buffer.concat([one, one])).errorCode).toBe(ErrorCode.INVALID_RECORD);
    expect(rejection(one.subarray(0, one.length - 1)).errorCode).toBe(ErrorCode.INVALID_RECORD);
    expect(rejection(one.subarray(0, 20)).errorCode).toBe(ErrorCode.INVALID_RECORD);
  });

  it('rejects legacy magic with UNSUPPORTED_FOR_MESSAGE_FORMAT', async () => {
    const batch = await encodeBatch([{ value: 'x' }]);
    batch.writeInt8(1, 16);
    expect(rejection(batch).errorCode).toBe(ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT);
  });
});

describe('broker-assigned fields', () => {
  it('assigns the base offset without invalidating the CRC', async () => {
    const batch = await encodeBatch([{ value: 'x' }]);
    assignBaseOffset(batch, 2 ** 40 + 5);
    expect(readBaseOffset(batch)).toBe(2 ** 40 + 5);
    expect(() => validateBatch(batch)).not.toThrow();
  });

  it('stamps log-append time and keeps the batch valid', async () => {
    const batch = await encodeBatch([{ value: 'x' }], { firstTimestamp: 1000 });
    stampLogAppendTime(batch, 1_800_000_000_000);
    const header = validateBatch(batch);
    expect(header.maxTimestamp).toBe(1_800_000_000_000);
    expect(batch.readInt16BE(21) & 0x08).toBe(0x08);
  });
});
