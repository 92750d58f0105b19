import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { ApiKey } from '../protocol/api-keys.js';
import { ErrorCode } from '../protocol/error-codes.js';
import type { Writer } from '../protocol/writer.js';
import { encodeBatch } from '../testing/kafkajs-batch.js';
import { RawKafkaClient } from '../testing/raw-client.js';
import { startTestBroker } from '../testing/broker.js';
import { eventually, uniqueName } from '@shoal/testing';

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
    onTestFinished(() => consumer.close());
    await consumer.ensureTopic(topic);

    const arrivals: string[] = [];
    const arrived = <T>(name: string) => (value: T) => {
      arrivals.push(name);
      return value;
    };
    // Fetch v4 at the log end with a max wait longer than the test may take: it parks, and only an append can
    // complete it in time. The ApiVersions behind it must not overtake it.
    const parkedFetch = consumer.request(ApiKey.Fetch, 4, fetchBody(topic, 0, 10 * 60_000)).then(arrived('fetch'));
    const apiVersions = consumer.request(ApiKey.ApiVersions, 0, () => undefined).then(arrived('api-versions'));
    // The append comes on the same connection, behind both: requests on one connection are handled in order, so
    // the ApiVersions has been handled (and, were responses not held back, answered) before the fetch can wake.
    const produced = consumer.produce(topic, 0, await encodeBatch([{ value: 'wake up' }]), { acks: 1 }).then(arrived('produce'));

    const fetched = await parkedFetch;
    await apiVersions;
    expect((await produced).errorCode).toBe(ErrorCode.NONE);
    expect(arrivals).toEqual(['fetch', 'api-versions', 'produce']);
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
    // Fake timers (and Date): the broker's wait is measured on a clock only the test moves, so "not at once" is
    // exact. The poller keeps the real timers.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    onTestFinished(() => void vi.useRealTimers());
    const sentAt = Date.now();
    let answeredAt: number | undefined;
    const fetch = client.request(ApiKey.Fetch, 4, fetchBody(topic, 0, 400)).then(() => (answeredAt = Date.now()));
    // Parked: the broker armed the fetch's max-wait timer.
    await eventually(() => vi.getTimerCount() === 1, 'the fetch parked with its max-wait timer');
    await vi.advanceTimersByTimeAsync(399);
    expect(vi.getTimerCount(), 'the fetch still parked 1 ms before its max wait').toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    await fetch;
    expect(answeredAt! - sentAt).toBe(400);
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
