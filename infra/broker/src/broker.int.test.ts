import { describe, expect, it } from 'vitest';
import type { Consumer, KafkaMessage } from 'kafkajs';
import { uniqueName, connected } from '@shoal/testing';
import { parseRequestCounts } from './metrics/request-counts.js';
import { kafkaFor, startTestBroker } from './testing/broker.js';

/** Runs `consumer` until `count` messages arrived; resolves with them. */
async function consumeAll(consumer: Consumer, topic: string, count: number): Promise<KafkaMessage[]> {
  const received: KafkaMessage[] = [];
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    consumer
      .run({
        eachMessage: async ({ message }) => {
          received.push(message);
          if (received.length === count) resolve();
        },
      })
      .catch(reject);
  });
  return received;
}

describe('broker with kafkajs', () => {
  it('round-trips messages with keys and headers, in order per partition', async () => {
    const broker = await startTestBroker();
    const kafka = kafkaFor(broker.bootstrap);
    const topic = uniqueName('roundtrip');
    const admin = await connected(kafka.admin());
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
    const producer = await connected(kafka.producer());
    const messages = Array.from({ length: 50 }, (_, i) => ({
      key: `key-${i % 5}`,
      value: `value-${i}`,
      headers: { 'ce_id': `id-${i}`, binary: Buffer.from([0, 1, 2, i]) },
    }));
    await producer.send({ topic, messages: messages.slice(0, 25) });
    await producer.send({ topic, messages: messages.slice(25) });

    const consumer = await connected(kafka.consumer({ groupId: uniqueName('g'), maxWaitTimeInMs: 100 }));
    const received = await consumeAll(consumer, topic, messages.length);
    expect(received.map((m) => m.value?.toString()).sort()).toEqual(messages.map((m) => m.value).sort());
    for (const message of received) {
      const i = Number(message.value!.toString().split('-')[1]);
      expect(message.key?.toString()).toBe(`key-${i % 5}`);
      expect(message.headers?.['ce_id']?.toString()).toBe(`id-${i}`);
      expect([...(message.headers!['binary'] as Buffer)]).toEqual([0, 1, 2, i]);
    }
    // Per key (so per partition), the order of sending is kept.
    for (let k = 0; k < 5; k++) {
      const sequence = received.filter((m) => m.key!.toString() === `key-${k}`).map((m) => Number(m.value!.toString().split('-')[1]));
      expect(sequence).toEqual([...sequence].sort((a, b) => a - b));
    }
  });

  it('administers topics, partitions and offsets', async () => {
    const broker = await startTestBroker();
    const kafka = kafkaFor(broker.bootstrap);
    const admin = await connected(kafka.admin());
    const topic = uniqueName('admin');
    expect(await admin.createTopics({ topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'retention.ms', value: '60000' }] }] })).toBe(true);
    expect(await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] })).toBe(false);
    expect(await admin.listTopics()).toContain(topic);

    await admin.createPartitions({ topicPartitions: [{ topic, count: 4 }] });
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(metadata.topics[0]!.partitions).toHaveLength(4);

    const configs = await admin.describeConfigs({ resources: [{ type: 2, name: topic }], includeSynonyms: false });
    const retention = configs.resources[0]!.configEntries.find((e) => e.configName === 'retention.ms');
    expect(retention?.configValue).toBe('60000');

    const producer = await connected(kafka.producer());
    await producer.send({ topic, messages: Array.from({ length: 10 }, (_, i) => ({ value: `m${i}`, partition: 0 })) });
    const offsets = await admin.fetchTopicOffsets(topic);
    expect(offsets.find((o) => o.partition === 0)).toMatchObject({ low: '0', high: '10' });

    await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '4' }] });
    expect((await admin.fetchTopicOffsets(topic)).find((o) => o.partition === 0)).toMatchObject({ low: '4', high: '10' });

    const groupId = uniqueName('offsets');
    await admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '7' }] });
    const fetched = await admin.fetchOffsets({ groupId, topics: [topic] });
    expect(fetched[0]!.partitions.find((p) => p.partition === 0)?.offset).toBe('7');

    await admin.deleteTopics({ topics: [topic] });
    expect(await admin.listTopics()).not.toContain(topic);
  });

  it('finds offsets by timestamp', async () => {
    const broker = await startTestBroker();
    const kafka = kafkaFor(broker.bootstrap);
    const topic = uniqueName('bytime');
    const admin = await connected(kafka.admin());
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
    const producer = await connected(kafka.producer());
    const base = 1_700_000_000_000;
    await producer.send({ topic, messages: Array.from({ length: 10 }, (_, i) => ({ value: `m${i}`, timestamp: String(base + i * 1000) })) });
    const [atFive] = await admin.fetchTopicOffsetsByTimestamp(topic, base + 4500);
    expect(atFive).toMatchObject({ partition: 0, offset: '5' });
    const [afterAll] = await admin.fetchTopicOffsetsByTimestamp(topic, base + 60_000);
    expect(afterAll!.offset).toBe('10');
  });

  it('gives an idempotent producer one copy of a retried batch', async () => {
    const broker = await startTestBroker();
    const kafka = kafkaFor(broker.bootstrap);
    const topic = uniqueName('idempotent');
    const admin = await connected(kafka.admin());
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
    const producer = await connected(kafka.producer({ idempotent: true, maxInFlightRequests: 1 }));
    await producer.send({ topic, acks: -1, messages: [{ value: 'first' }] });
    await producer.send({ topic, acks: -1, messages: [{ value: 'second' }] });
    expect((await admin.fetchTopicOffsets(topic))[0]).toMatchObject({ high: '2' });
  });

  it('counts the requests it receives by API and client id, and serves the counts as GET /metrics', async () => {
    const broker = await startTestBroker({ metricsPort: 0 });
    const clientId = uniqueName('counted');
    const kafka = kafkaFor(broker.bootstrap, { clientId });
    const topic = uniqueName('counted');
    const admin = await connected(kafka.admin());
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
    const producer = await connected(kafka.producer());
    for (let n = 0; n < 3; n++) await producer.send({ topic, acks: -1, messages: [{ value: `record-${n}` }] });

    const counted = (api: string) => broker.requestCounts().find((count) => count.clientId === clientId && count.api === api)?.requests ?? 0;
    expect(counted('Produce')).toBe(3);
    expect(counted('CreateTopics')).toBe(1);
    expect(counted('ApiVersions')).toBeGreaterThan(0);
    expect(counted('Fetch')).toBe(0);

    const response = await fetch(broker.metricsUrl!);
    expect(response.status).toBe(200);
    const served = parseRequestCounts(await response.text()).filter((count) => count.clientId === clientId);
    expect(served).toContainEqual({ api: 'Produce', clientId, requests: 3 });
    expect((await fetch(broker.metricsUrl!.replace('/metrics', '/other'))).status).toBe(404);
  });
});
