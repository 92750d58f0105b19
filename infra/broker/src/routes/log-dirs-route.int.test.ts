import { isAbsolute } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ApiKey } from '../protocol/api-keys.js';
import { decodeDescribeLogDirsResponse, encodeDescribeLogDirsRequest, type DescribeLogDirsRequest } from '../protocol/messages/describe-log-dirs.js';
import { encodeBatch } from '../testing/kafkajs-batch.js';
import { RawKafkaClient } from '../testing/raw-client.js';
import { connected, kafkaFor, startTestBroker } from '../testing/test-broker.js';
import { tempDir, uniqueName } from '@shoal/testing';

/** DescribeLogDirs against a running broker: what a client sees on the wire. */
async function rawClient(port: number): Promise<RawKafkaClient> {
  const client = await RawKafkaClient.connect(port);
  onTestFinished(() => client.close());
  return client;
}

async function describeLogDirs(client: RawKafkaClient, topics: DescribeLogDirsRequest['topics'], version = 1) {
  const reader = await client.request(ApiKey.DescribeLogDirs, version, (w) => encodeDescribeLogDirsRequest(w, { topics }));
  const response = decodeDescribeLogDirsResponse(reader);
  expect(reader.remaining).toBe(0);
  return response;
}

/** partition -> bytes for one topic, from the single log dir this broker has. */
async function sizesOf(client: RawKafkaClient, topic: string): Promise<Map<number, number>> {
  const { results } = await describeLogDirs(client, [{ topic, partitions: [0, 1, 2] }]);
  expect(results).toHaveLength(1);
  return new Map(results[0]!.topics.find((t) => t.name === topic)?.partitions.map((p) => [p.partitionIndex, p.partitionSize]));
}

const batchOf = (count: number, value = 'x'.repeat(100)) => encodeBatch(Array.from({ length: count }, (_, i) => ({ key: `k${i}`, value })));

describe('DescribeLogDirs', () => {
  it('reports the bytes of the stored batches per partition, in one log dir: the data dir', async () => {
    const broker = await startTestBroker();
    const client = await rawClient(broker.port);
    const topic = uniqueName('log-dirs');
    await client.ensureTopic(topic); // three partitions (the broker default)

    expect(await sizesOf(client, topic)).toEqual(new Map([[0, 0], [1, 0], [2, 0]]));

    const small = await batchOf(1);
    const large = await batchOf(20);
    expect((await client.produce(topic, 0, small)).errorCode).toBe(0);
    expect((await client.produce(topic, 1, large)).errorCode).toBe(0);
    expect(await sizesOf(client, topic)).toEqual(new Map([[0, small.length], [1, large.length], [2, 0]]));

    const more = await batchOf(3);
    expect((await client.produce(topic, 0, more)).errorCode).toBe(0);
    expect(await sizesOf(client, topic)).toEqual(new Map([[0, small.length + more.length], [1, large.length], [2, 0]]));

    for (const version of [0, 1]) {
      const { throttleTimeMs, results } = await describeLogDirs(client, null, version);
      expect(throttleTimeMs).toBe(0);
      expect(results).toHaveLength(1);
      const [dir] = results;
      expect(dir!.errorCode).toBe(0);
      expect(isAbsolute(dir!.logDir)).toBe(true);
      expect(dir!.logDir).toBe(broker.dataDir);
      expect(dir!.topics.find((t) => t.name === topic)?.partitions).toEqual([
        { partitionIndex: 0, partitionSize: small.length + more.length, offsetLag: 0, isFutureKey: false },
        { partitionIndex: 1, partitionSize: large.length, offsetLag: 0, isFutureKey: false },
        { partitionIndex: 2, partitionSize: 0, offsetLag: 0, isFutureKey: false },
      ]);
    }
  });

  it('leaves out unknown topics and partitions, and answers a topic named twice once', async () => {
    const broker = await startTestBroker();
    const client = await rawClient(broker.port);
    const topic = uniqueName('log-dirs-filter');
    await client.ensureTopic(topic);
    const batch = await batchOf(2);
    await client.produce(topic, 2, batch);

    const { results } = await describeLogDirs(client, [
      { topic, partitions: [2, 7, -1] },
      { topic: uniqueName('never-created'), partitions: [0] },
      { topic, partitions: [0, 2] },
    ]);
    expect(results[0]!.topics).toEqual([
      {
        name: topic,
        partitions: [
          { partitionIndex: 2, partitionSize: batch.length, offsetLag: 0, isFutureKey: false },
          { partitionIndex: 0, partitionSize: 0, offsetLag: 0, isFutureKey: false },
        ],
      },
    ]);
    // Only partitions the broker does not hold: the topic is left out, not listed empty.
    expect((await describeLogDirs(client, [{ topic, partitions: [9] }])).results[0]!.topics).toEqual([]);
    expect((await describeLogDirs(client, [])).results[0]!.topics).toEqual([]);
  });

  it('keeps the sizes across a restart and shrinks them when DeleteRecords drops batches', async () => {
    const dataDir = tempDir('log-dirs-restart');
    const first = await startTestBroker({ dataDir });
    const topic = uniqueName('log-dirs-restart');
    const batches = [await batchOf(2), await batchOf(5), await batchOf(1)];
    {
      const client = await rawClient(first.port);
      await client.ensureTopic(topic);
      for (const batch of batches) expect((await client.produce(topic, 1, batch)).errorCode).toBe(0);
      client.close();
    }
    await first.close();

    const second = await startTestBroker({ dataDir });
    const client = await rawClient(second.port);
    const total = batches.reduce((sum, b) => sum + b.length, 0);
    expect((await sizesOf(client, topic)).get(1)).toBe(total);

    // Offsets 0-1 are the first batch, 2-6 the second: deleting below 3 drops only the first whole batch.
    const deleted = await client.request(ApiKey.DeleteRecords, 1, (w) => void w.array([topic], (w, name) => void w.string(name).array([1], (w, p) => void w.int32(p).int64(3))).int32(5000));
    deleted.int32(); // throttle
    deleted.int32(); // topics
    deleted.string();
    deleted.int32(); // partitions
    expect([deleted.int32(), deleted.int64(), deleted.int16()]).toEqual([1, 3, 0]);
    expect((await sizesOf(client, topic)).get(1)).toBe(total - batches[0]!.length);
  });

  it('shrinks sizes when retention.bytes deletes old batches, down to the newest batch', async () => {
    const broker = await startTestBroker({ retentionCheckIntervalMs: 20 });
    const topic = uniqueName('log-dirs-retention');
    const admin = await connected(kafkaFor(broker.bootstrap).admin());
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'retention.bytes', value: '1' }] }] });
    const client = await rawClient(broker.port);
    const batches = [await batchOf(4), await batchOf(4), await batchOf(2)];
    for (const batch of batches) expect((await client.produce(topic, 0, batch)).errorCode).toBe(0);

    // Retention runs on its timer; it keeps the newest batch, so the size settles at exactly that batch.
    await expect.poll(async () => (await sizesOf(client, topic)).get(0), { timeout: 20_000, interval: 20 }).toBe(batches[2]!.length);
    const logStart = await client.listOffset(topic, 0, -2);
    expect(logStart.offset).toBe(8);
  });
});
