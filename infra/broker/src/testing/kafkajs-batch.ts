import { createRequire } from 'node:module';

/**
 * Builds record batches with kafkajs's own encoder, so unit tests check the broker against bytes a real
 * client produces rather than bytes we wrote ourselves. Test-only.
 */
const require = createRequire(import.meta.url);
const Long = require('kafkajs/src/utils/long');
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as { RecordBatch: (options: Record<string, unknown>) => Promise<{ buffer: Buffer }> };
const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (options: Record<string, unknown>) => unknown;

export interface TestRecord {
  key?: string;
  value: string;
  timestampDelta?: number;
  headers?: Record<string, string>;
}

export interface TestBatchOptions {
  firstTimestamp?: number;
  producerId?: number;
  producerEpoch?: number;
  firstSequence?: number;
}

/** One v2 batch as it appears in a Produce request (base offset 0, CRC computed by kafkajs). */
export async function encodeBatch(records: TestRecord[], options: TestBatchOptions = {}): Promise<Buffer> {
  const firstTimestamp = options.firstTimestamp ?? Date.now();
  const encoded = await RecordBatch({
    firstTimestamp,
    maxTimestamp: firstTimestamp + Math.max(0, ...records.map((r) => r.timestampDelta ?? 0)),
    lastOffsetDelta: records.length - 1,
    producerId: Long.fromValue(options.producerId ?? -1),
    producerEpoch: options.producerEpoch ?? 0,
    firstSequence: options.firstSequence ?? 0,
    records: records.map((r, i) =>
      Record({
        offsetDelta: i,
        timestampDelta: r.timestampDelta ?? 0,
        key: r.key === undefined ? null : Buffer.from(r.key),
        value: Buffer.from(r.value),
        headers: r.headers ?? {},
      }),
    ),
  });
  // kafkajs writes base_offset then BYTES(rest): that length prefix is exactly batch_length.
  return Buffer.from(encoded.buffer);
}
