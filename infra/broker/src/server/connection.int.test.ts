import { describe, expect, it, onTestFinished } from 'vitest';
import { ApiKey } from '../protocol/api-keys.js';
import { ErrorCode } from '../protocol/error-codes.js';
import type { Writer } from '../protocol/writer.js';
import { encodeBatch } from '../testing/kafkajs-batch.js';
import { RawKafkaClient } from '../testing/raw-client.js';
import { startTestBroker } from '../testing/test-broker.js';
import { uniqueName } from '@shoal/testing';

function fetchBody(topic: string, offset: number, maxWaitMs: number) {
  return (w: Writer) => {
    w.int32(-1).int32(maxWaitMs).int32(1).int32(1 << 20).int8(0); // replica, max wait, min bytes, max bytes, isolation
    w.array([topic], (w, name) => void w.string(name).array([0], (w, p) => void w.int32(p).int64(offset).int32(1 << 20)));
  };
}


describe('a connection', () => {
  it('keeps responses in request order behind a parked long-poll fetch, and completes the fetch on append', async () => {
    const broker = await startTestBroker({ defaultPartitions: 1 });
    const topic = uniqueName('ordering');
    const consumer = await RawKafkaClient.connect(broker.port);
    const producer = await RawKafkaClient.connect(broker.port);
    onTestFinished(() => {
      consumer.close();
      producer.close();
    });
    await consumer.ensureTopic(topic);

    const arrivals: string[] = [];
    // Fetch v4 at the log end with a long max wait: it parks. The ApiVersions behind it must not overtake it.
    const parkedFetch = consumer.request(ApiKey.Fetch, 4, fetchBody(topic, 0, 30_000)).then((r) => {
      arrivals.push('fetch');
      return r;
    });
    const apiVersions = consumer.request(ApiKey.ApiVersions, 0, () => undefined).then(() => arrivals.push('api-versions'));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(arrivals).toEqual([]);

    // A produce on another connection completes the parked fetch long before its 30 s max wait.
    const produced = await producer.produce(topic, 0, await encodeBatch([{ value: 'wake up' }]), { acks: 1 });
    expect(produced.errorCode).toBe(ErrorCode.NONE);

    const fetched = await parkedFetch;
    await apiVersions;
    expect(arrivals).toEqual(['fetch', 'api-versions']);
    fetched.int32(); // throttle
    fetched.int32(); // topics
    fetched.string();
    fetched.int32(); // partitions
    fetched.int32(); // partition
    expect(fetched.int16()).toBe(ErrorCode.NONE);
    expect(fetched.int64()).toBe(1); // high watermark
    fetched.int64(); // last stable offset
    fetched.int32(); // aborted transactions (null)
    expect(fetched.int32()).toBeGreaterThan(0); // record bytes
  });

  it('answers an empty fetch only after max_wait_ms, not at once', async () => {
    const broker = await startTestBroker({ defaultPartitions: 1 });
    const topic = uniqueName('empty');
    const client = await RawKafkaClient.connect(broker.port);
    onTestFinished(() => client.close());
    await client.ensureTopic(topic);
    let answered = false;
    const fetch = client.request(ApiKey.Fetch, 4, fetchBody(topic, 0, 400)).then(() => (answered = true));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(answered).toBe(false);
    await fetch;
    expect(answered).toBe(true);
  });

  it('sends no response to acks=0 produce, and the next response still matches its request', async () => {
    const broker = await startTestBroker({ defaultPartitions: 1 });
    const topic = uniqueName('acks0');
    const client = await RawKafkaClient.connect(broker.port);
    onTestFinished(() => client.close());
    await client.ensureTopic(topic);
    const batch = await encodeBatch([{ value: 'fire and forget' }]);
    let answered = false;
    void client.produce(topic, 0, batch, { acks: 0 }).then(
      () => (answered = true),
      () => undefined,
    );
    expect(await client.listOffset(topic, 0, -1)).toEqual({ errorCode: ErrorCode.NONE, offset: 1 });
    expect(answered).toBe(false);
  });
});
