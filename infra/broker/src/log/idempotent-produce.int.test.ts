import { describe, expect, it, onTestFinished } from 'vitest';
import { ApiKey } from '../protocol/api-keys.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { encodeBatch } from '../testing/kafkajs-batch.js';
import { RawKafkaClient } from '../testing/raw-client.js';
import { startTestBroker } from '../testing/test-broker.js';
import { uniqueName } from '@shoal/testing';

const produce = (client: RawKafkaClient, topic: string, batch: Buffer) => client.produce(topic, 0, batch, { version: 7 });

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
    await client.ensureTopic(topic);
    const producerId = await initProducerId(client);

    const first = await encodeBatch([{ value: 'a' }, { value: 'b' }], { producerId, firstSequence: 0 });
    const second = await encodeBatch([{ value: 'c' }], { producerId, firstSequence: 2 });
    expect(await produce(client, topic, Buffer.from(first))).toEqual({ errorCode: ErrorCode.NONE, baseOffset: 0 });
    expect(await produce(client, topic, Buffer.from(second))).toEqual({ errorCode: ErrorCode.NONE, baseOffset: 2 });
    // The retry of the first batch (e.g. after a lost response) is acknowledged with its first offset.
    expect(await produce(client, topic, Buffer.from(first))).toEqual({ errorCode: ErrorCode.NONE, baseOffset: 0 });

    const gap = await encodeBatch([{ value: 'e' }], { producerId, firstSequence: 9 });
    expect((await produce(client, topic, gap)).errorCode).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);

    expect(await client.listOffset(topic, 0, -1)).toEqual({ errorCode: ErrorCode.NONE, offset: 3 });
  });
});
