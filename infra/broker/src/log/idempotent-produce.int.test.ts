import { describe, expect, it, onTestFinished } from 'vitest';
import { ApiKey } from '../protocol/api-keys.js';
import { ErrorCode } from '../protocol/error-codes.js';
import type { Reader } from '../protocol/reader.js';
import { encodeBatch } from '../testing/kafkajs-batch.js';
import { RawKafkaClient } from '../testing/raw-client.js';
import { startTestBroker, uniqueName } from '../testing/test-broker.js';

/** Produce v7 of one batch to partition 0; returns { errorCode, baseOffset }. */
async function produce(client: RawKafkaClient, topic: string, batch: Buffer): Promise<{ errorCode: number; baseOffset: number }> {
  const response: Reader = await client.request(ApiKey.Produce, 7, (w) => {
    w.nullableString(null).int16(-1).int32(5000);
    w.array([topic], (w, name) => {
      w.string(name);
      w.array([batch], (w, records) => void w.int32(0).nullableBytes(records));
    });
  });
  response.int32(); // topics count
  response.string();
  response.int32(); // partitions count
  response.int32(); // index
  return { errorCode: response.int16(), baseOffset: response.int64() };
}

async function initProducerId(client: RawKafkaClient): Promise<number> {
  const response = await client.request(ApiKey.InitProducerId, 1, (w) => void w.nullableString(null).int32(60000));
  response.int32();
  expect(response.int16()).toBe(ErrorCode.NONE);
  return response.int64();
}

describe('idempotent produce', () => {
  it('answers a retried batch with its original offset and stores one copy; a gap is OUT_OF_ORDER_SEQUENCE_NUMBER', async () => {
    const broker = await startTestBroker({ defaultPartitions: 1 });
    const client = await RawKafkaClient.connect(broker.port);
    onTestFinished(() => client.close());
    const topic = uniqueName('idem');
    // Metadata v4 with auto-creation on, so the topic exists before producing.
    await client.request(ApiKey.Metadata, 4, (w) => void w.array([topic], (w, t) => void w.string(t)).bool(true));
    const producerId = await initProducerId(client);

    const first = await encodeBatch([{ value: 'a' }, { value: 'b' }], { producerId, firstSequence: 0 });
    const second = await encodeBatch([{ value: 'c' }], { producerId, firstSequence: 2 });
    expect(await produce(client, topic, Buffer.from(first))).toEqual({ errorCode: ErrorCode.NONE, baseOffset: 0 });
    expect(await produce(client, topic, Buffer.from(second))).toEqual({ errorCode: ErrorCode.NONE, baseOffset: 2 });
    // The retry of the first batch (e.g. after a lost response) is acknowledged with its first offset.
    expect(await produce(client, topic, Buffer.from(first))).toEqual({ errorCode: ErrorCode.NONE, baseOffset: 0 });

    const gap = await encodeBatch([{ value: 'e' }], { producerId, firstSequence: 9 });
    expect((await produce(client, topic, gap)).errorCode).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);

    const end = await client.request(ApiKey.ListOffsets, 1, (w) => {
      w.int32(-1);
      w.array([topic], (w, name) => void w.string(name).array([0], (w, p) => void w.int32(p).int64(-1)));
    });
    end.int32();
    end.string();
    end.int32();
    end.int32();
    expect(end.int16()).toBe(ErrorCode.NONE);
    end.int64();
    expect(end.int64()).toBe(3);
  });
});
