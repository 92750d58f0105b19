/**
 * kafkajs 2.2.4, the client every Shoal service uses, against the Apache Kafka version the tests pin.
 * Kafka 4.0 removed the protocol versions older than the 2.1 broker spoke (KIP-896); kafkajs picks the
 * newest version both sides know for every request, so each call Shoal's code makes (publisher, consumer,
 * dead letters, CLI, replay, setup) is made here once against the real thing: a version kafkajs still sends
 * and Kafka no longer serves would fail here first.
 */
import { existsSync } from 'node:fs';
import kafkajs, { type Consumer, type EachMessagePayload } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { KAFKA_VERSION, startApacheKafka } from '@shoal/apache-kafka';
import { kafkaFor } from '@shoal/broker/testing';
import { eventually, uniqueName } from '@shoal/testing';
import { apacheKafkaMissing, sharedApacheKafka } from './shared-apache-kafka.js';

const { ConfigResourceTypes } = kafkajs;

if (apacheKafkaMissing !== null) {
  describe('kafkajs against Apache Kafka', () => {
    it.skip(`skipped: ${apacheKafkaMissing}`, () => undefined);
  });
}

describe.skipIf(apacheKafkaMissing !== null)(`kafkajs 2.2.4 against Apache Kafka ${KAFKA_VERSION}`, () => {
  const kafka = sharedApacheKafka();
  const client = () => kafkaFor(kafka.current.bootstrap, { retry: { retries: 8, initialRetryTime: 100 } });

  it('starts from the jars Maven resolved, answers, and leaves no data behind when stopped', async () => {
    const own = await startApacheKafka();
    const admin = client().admin();
    try {
      expect(own.bootstrap).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(own.bootstrap).not.toBe(kafka.current.bootstrap);
      expect(existsSync(own.dataDir)).toBe(true);
      const fresh = kafkaFor(own.bootstrap).admin();
      await fresh.connect();
      const cluster = await fresh.describeCluster();
      await fresh.disconnect();
      expect(cluster.brokers).toEqual([{ nodeId: 1, host: '127.0.0.1', port: own.port }]);
      expect(cluster.controller).toBe(1);
    } finally {
      await admin.disconnect();
      await own.stop();
    }
    expect(existsSync(own.dataDir)).toBe(false);
  });

  it('creates, describes, alters, grows and deletes topics as Shoal setup and the CLI do', async () => {
    const admin = client().admin();
    await admin.connect();
    try {
      const topic = uniqueName('compat-admin');
      expect(await admin.createTopics({ topics: [{ topic, numPartitions: 3, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }], waitForLeaders: true })).toBe(true);
      expect(await admin.createTopics({ topics: [{ topic, numPartitions: 3 }] })).toBe(false);
      expect(await admin.listTopics()).toContain(topic);
      const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
      expect(metadata.topics[0]!.partitions.map((p) => p.partitionId).sort()).toEqual([0, 1, 2]);

      const described = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['cleanup.policy'] }], includeSynonyms: false });
      expect(described.resources[0]!.configEntries).toEqual([expect.objectContaining({ configName: 'cleanup.policy', configValue: 'compact', isDefault: false })]);

      await admin.createPartitions({ topicPartitions: [{ topic, count: 4 }] });
      // Kafka answers CreatePartitions once the controller has the new partitions; its metadata cache has
      // them a moment later, so a Metadata request right after it may still list three. fetchTopicMetadata
      // asks afresh each time (fetchTopicOffsets would keep the first answer in kafkajs' cache).
      await eventually(async () => expect((await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions).toHaveLength(4), 'the topic lists its four partitions');
      expect((await admin.fetchTopicOffsets(topic)).length).toBe(4);

      const cluster = await admin.describeCluster();
      expect(cluster.brokers).toHaveLength(1);

      await admin.deleteTopics({ topics: [topic] });
      expect(await admin.listTopics()).not.toContain(topic);
    } finally {
      await admin.disconnect();
    }
  });

  it('produces idempotently with keys and headers, and lists, seeks by time and deletes records', async () => {
    const kafkaClient = client();
    const admin = kafkaClient.admin();
    const producer = kafkaClient.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: kafkajs.Partitioners.DefaultPartitioner });
    await admin.connect();
    await producer.connect();
    try {
      const topic = uniqueName('compat-produce');
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
      const base = Date.now() - 60_000;
      const sent = await producer.send({
        topic,
        acks: -1,
        messages: Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `v${i}`, headers: { ce_type: 'compat.Test', n: String(i) }, timestamp: String(base + i * 1000) })),
      });
      expect(sent[0]).toMatchObject({ errorCode: 0, baseOffset: '0' });
      await producer.send({ topic, acks: -1, messages: [{ key: 'k10', value: 'v10' }] });
      expect((await admin.fetchTopicOffsets(topic))[0]).toMatchObject({ partition: 0, low: '0', high: '11' });
      expect((await admin.fetchTopicOffsetsByTimestamp(topic, base + 4500))[0]).toMatchObject({ partition: 0, offset: '5' });

      await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '4' }] });
      expect((await admin.fetchTopicOffsets(topic))[0]).toMatchObject({ low: '4', high: '11' });

      const consumer = kafkaClient.consumer({ groupId: uniqueName('compat-read'), maxWaitTimeInMs: 200 });
      const seen = await consumeUntil(consumer, topic, 7);
      expect(seen.map((m) => m.message.key?.toString())).toEqual(['k4', 'k5', 'k6', 'k7', 'k8', 'k9', 'k10']);
      expect(seen[0]!.message.headers).toEqual({ ce_type: Buffer.from('compat.Test'), n: Buffer.from('4') });
      expect(seen[0]!.message.timestamp).toBe(String(base + 4000));
    } finally {
      await producer.disconnect();
      await admin.disconnect();
    }
  });

  it('runs a consumer group: join, rebalance on join and on leave, commit, and resume from the commit', async () => {
    const kafkaClient = client();
    const admin = kafkaClient.admin();
    const producer = kafkaClient.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: kafkajs.Partitioners.DefaultPartitioner });
    await admin.connect();
    await producer.connect();
    const topic = uniqueName('compat-group');
    const groupId = uniqueName('compat-group');
    // A member rejoins (and leaves) only between fetches: short fetch waits keep each rebalance short.
    const first = kafkaClient.consumer({ groupId, heartbeatInterval: 500, sessionTimeout: 10_000, rebalanceTimeout: 10_000, maxWaitTimeInMs: 200 });
    const second = kafkaClient.consumer({ groupId, heartbeatInterval: 500, sessionTimeout: 10_000, rebalanceTimeout: 10_000, maxWaitTimeInMs: 200 });
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions: 4 }], waitForLeaders: true });
      const assigned = new Map<Consumer, number[]>();
      const track = (consumer: Consumer) =>
        consumer.on(consumer.events.GROUP_JOIN, (event) => assigned.set(consumer, [...(event.payload.memberAssignment[topic] ?? [])].sort()));
      track(first);
      track(second);

      const received: string[] = [];
      for (const consumer of [first, second]) {
        await consumer.connect();
        await consumer.subscribe({ topic, fromBeginning: true });
      }
      await first.run({ eachMessage: async ({ message }) => void received.push(message.value!.toString()) });
      await eventually(() => expect(assigned.get(first)).toEqual([0, 1, 2, 3]), { timeoutMs: 30_000 });

      // A second member joins: the partitions are split between the two.
      await second.run({ eachMessage: async ({ message }) => void received.push(message.value!.toString()) });
      await eventually(() => {
        expect(assigned.get(second)?.length).toBeGreaterThan(0);
        expect([...(assigned.get(first) ?? []), ...(assigned.get(second) ?? [])].sort()).toEqual([0, 1, 2, 3]);
      }, { timeoutMs: 30_000 });
      const groups = await admin.describeGroups([groupId]);
      expect(groups.groups[0]).toMatchObject({ state: 'Stable', protocolType: 'consumer' });
      expect(groups.groups[0]!.members).toHaveLength(2);

      await producer.send({ topic, acks: -1, messages: Array.from({ length: 40 }, (_, i) => ({ key: `k${i}`, value: `m${i}` })) });
      await eventually(() => expect(received.length).toBe(40), { timeoutMs: 30_000 });

      // The second leaves: the first gets every partition back.
      await second.disconnect();
      await eventually(() => expect(assigned.get(first)).toEqual([0, 1, 2, 3]), { timeoutMs: 30_000 });
      await producer.send({ topic, acks: -1, messages: Array.from({ length: 8 }, (_, i) => ({ key: `k${i}`, value: `late${i}` })) });
      await eventually(() => expect(received.length).toBe(48), { timeoutMs: 30_000 });
      await first.disconnect();

      // Everything consumed was committed: the group's offsets are the log ends, and a new member of the
      // group resumes there (it sees only what is produced after).
      const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
      const ends = await admin.fetchTopicOffsets(topic);
      expect(offsets[0]!.partitions.map((p) => [p.partition, p.offset]).sort()).toEqual(ends.map((p) => [p.partition, p.high]).sort());
      expect((await admin.listGroups()).groups.map((g) => g.groupId)).toContain(groupId);

      await producer.send({ topic, acks: -1, messages: [{ key: 'k0', value: 'after-resume' }] });
      const resumed = await consumeUntil(kafkaClient.consumer({ groupId, maxWaitTimeInMs: 200 }), topic, 1);
      expect(resumed.map((m) => m.message.value!.toString())).toEqual(['after-resume']);

      // Replay's reset and a group's removal, as `shoal replay` and the tests' cleanup do them.
      await admin.setOffsets({ groupId, topic, partitions: [0, 1, 2, 3].map((partition) => ({ partition, offset: '0' })) });
      expect((await admin.fetchOffsets({ groupId, topics: [topic] }))[0]!.partitions.every((p) => p.offset === '0')).toBe(true);
      expect(await admin.deleteGroups([groupId])).toEqual([expect.objectContaining({ groupId, errorCode: 0 })]);
    } finally {
      await first.disconnect();
      await second.disconnect();
      await producer.disconnect();
      await admin.disconnect();
    }
  });
});

/** Runs `consumer` on `topic` from the beginning until `count` messages arrived, then disconnects it. */
async function consumeUntil(consumer: Consumer, topic: string, count: number): Promise<EachMessagePayload[]> {
  const seen: EachMessagePayload[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      // A crash kafkajs restarts from (a coordinator still loading a fresh offsets partition) is no failure.
      consumer.on(consumer.events.CRASH, (event) => {
        if (!event.payload.restart) reject(event.payload.error);
      });
      void consumer.run({
        eachMessage: async (payload) => {
          seen.push(payload);
          if (seen.length === count) resolve();
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return seen;
}
