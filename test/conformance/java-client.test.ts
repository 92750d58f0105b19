/**
 * Conformance of the embedded broker with Apache Kafka's own Java client (kafka-clients at the pinned
 * version): producer, consumer groups and AdminClient, driven by infra/apache-kafka/java/ClientConformance.java
 * (compiled by Java at launch), and crossed with kafkajs, so what one client writes the other reads.
 *
 * Each test starts its own embedded broker; the Java program is a child process, spawned asynchronously so
 * the broker in this worker keeps answering it.
 */
import { describe, expect, it } from 'vitest';
import { KAFKA_VERSION, runJavaClient } from '@shoal/apache-kafka';
import { kafkaFor, startTestBroker } from '@shoal/broker/testing';
import { connected } from '@shoal/testing';
import { uniqueName } from '@shoal/testing';
import { readByKey } from './client-processes.js';
import { apacheKafkaMissing } from '../apache-kafka/shared-apache-kafka.js';

const values = (lines: Array<[string, string]>, key: string) => lines.filter(([k]) => k === key).map(([, v]) => v);
const value = (lines: Array<[string, string]>, key: string) => {
  const found = values(lines, key);
  expect(found, `${key} in ${JSON.stringify(lines)}`).toHaveLength(1);
  return found[0]!;
};

if (apacheKafkaMissing !== null) {
  describe('the Java client against the embedded broker', () => {
    it.skip(`skipped: ${apacheKafkaMissing}`, () => undefined);
  });
}

describe.skipIf(apacheKafkaMissing !== null)(`kafka-clients ${KAFKA_VERSION} (Java) against the embedded broker`, () => {
  it('produces idempotently with keys and headers; kafkajs reads every record as sent', async () => {
    const broker = await startTestBroker();
    const kafka = kafkaFor(broker.bootstrap);
    const topic = uniqueName('java-produce');
    const admin = await connected(kafka.admin());
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }] });

    const sent = values(await runJavaClient('produce', [broker.bootstrap, topic, '30']), 'sent');
    expect(sent).toHaveLength(30);
    // Offsets per partition are dense from 0: one copy of each record, none lost, none duplicated.
    const byPartition = new Map<string, number[]>();
    for (const at of sent) {
      const [partition, offset] = at.split(':');
      byPartition.set(partition!, [...(byPartition.get(partition!) ?? []), Number(offset)]);
    }
    for (const offsets of byPartition.values()) expect(offsets.sort((a, b) => a - b)).toEqual(offsets.map((_, i) => i));

    const read = await readByKey(kafka, topic, 30);
    expect(read.get('k7')).toEqual({ value: 'java-7', headers: { ce_type: 'conformance.Java', n: '7' } });
    // The Java producer batches with linger and gzip: the broker keeps its batches as sent, kafkajs decodes them.
    expect([...read.keys()].sort()).toEqual(Array.from({ length: 30 }, (_, i) => `k${i}`).sort());
  });

  it('consumes what kafkajs produced as one group member, commits, and a new member resumes after the commit', async () => {
    const broker = await startTestBroker();
    const kafka = kafkaFor(broker.bootstrap);
    const topic = uniqueName('java-consume');
    const groupId = uniqueName('java-consume');
    const admin = await connected(kafka.admin());
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
    const producer = await connected(kafka.producer({ idempotent: true, maxInFlightRequests: 1 }));
    await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: 10 }, (_, i) => ({ partition: i % 2, key: `k${i}`, value: `js-${i}`, headers: { ce_type: 'conformance.Kafkajs' } })),
    });

    const consumed = await runJavaClient('consume', [broker.bootstrap, topic, groupId, '10']);
    const records = values(consumed, 'record');
    expect(records).toHaveLength(10);
    expect(records).toContain('0:0 k0 js-0 [ce_type:conformance.Kafkajs]');
    expect(records).toContain('1:4 k9 js-9 [ce_type:conformance.Kafkajs]');
    expect(values(consumed, 'committed')).toEqual(['0:5', '1:5']);
    // What the Java client committed is what the broker hands kafkajs's admin.
    const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
    expect(offsets[0]!.partitions.map((p) => `${p.partition}:${p.offset}`).sort()).toEqual(['0:5', '1:5']);

    await producer.send({ topic, acks: -1, messages: [{ partition: 1, key: 'k10', value: 'js-10' }] });
    const resumed = values(await runJavaClient('resume', [broker.bootstrap, topic, groupId, '1']), 'record');
    expect(resumed).toEqual(['1:5 k10 js-10 []']);
  });

  it('rebalances a group of two Java members on join and on leave, each partition owned by one member', async () => {
    const broker = await startTestBroker();
    const kafka = kafkaFor(broker.bootstrap);
    const topic = uniqueName('java-group');
    const admin = await connected(kafka.admin());
    await admin.createTopics({ topics: [{ topic, numPartitions: 4 }] });
    const producer = await connected(kafka.producer());
    await producer.send({ topic, messages: Array.from({ length: 40 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })) });

    const lines = await runJavaClient('group', [broker.bootstrap, topic, uniqueName('java-group'), '40']);
    expect(value(lines, 'first-alone')).toBe('[0, 1, 2, 3]');
    const first = JSON.parse(value(lines, 'first-shared')) as number[];
    const second = JSON.parse(value(lines, 'second-shared')) as number[];
    expect(first.length).toBeGreaterThan(0);
    expect(second.length).toBeGreaterThan(0);
    expect([...first, ...second].sort()).toEqual([0, 1, 2, 3]);
    expect(value(lines, 'members')).toBe('2');
    expect(value(lines, 'state')).toBe('Stable');
    expect(value(lines, 'first-after-leave')).toBe('[0, 1, 2, 3]');
    expect(value(lines, 'keys')).toBe('40');
  });

  it('administers topics, configs, offsets, records and groups through AdminClient', async () => {
    const broker = await startTestBroker();
    const topic = uniqueName('java-admin');
    const lines = await runJavaClient('admin', [broker.bootstrap, topic]);
    expect(Object.fromEntries(lines)).toEqual({
      'cluster-nodes': '1',
      'cluster-controller': expect.stringMatching(/^\d+$/),
      created: topic,
      'create-again': 'TopicExistsException',
      listed: 'true',
      partitions: '2',
      leader: value(lines, 'cluster-controller'),
      'retention.ms': '3600000',
      'altered.retention.ms': '7200000',
      'altered.max.message.bytes': '500000',
      'reverted.max.message.bytes.default': 'true',
      grown: '3',
      earliest: '0',
      latest: '10',
      'for-timestamp': '5',
      'max-timestamp': '9',
      'after-delete-earliest': '3',
      'group-listed': 'true',
      // ListGroups v5 reports the type: a group with only offsets is a classic one, as on Kafka.
      'group-type': 'Classic',
      'group-state': 'Empty',
      'group-members': '0',
      'group-offset-p0': '10',
      'group-deleted': 'true',
      deleted: topic,
    });
    expect(lines).toHaveLength(24);
  });

  describe('with the consumer group protocol (group.protocol=consumer, KIP-848)', () => {
    const consumerProtocol = { env: { GROUP_PROTOCOL: 'consumer' } };
    // Members learn of a new target assignment on their next heartbeat: a short interval keeps the test short.
    const startBroker = () => startTestBroker({ consumerHeartbeatIntervalMs: 300 });
    /** The group APIs the members (client ids `<group>-<member>`) sent: the new protocol's, never JoinGroup's. */
    const expectConsumerProtocol = (broker: Awaited<ReturnType<typeof startBroker>>, groupId: string) => {
      const apis = new Set(broker.requestCounts().filter((c) => c.clientId.startsWith(`${groupId}-`)).map((c) => c.api));
      expect(apis).toContain('ConsumerGroupHeartbeat');
      expect(apis).toContain('OffsetCommit');
      expect(apis).not.toContain('JoinGroup');
      expect(apis).not.toContain('SyncGroup');
    };

    it('consumes as one member, commits with its member epoch, and a new member resumes after the commit', async () => {
      const broker = await startBroker();
      const kafka = kafkaFor(broker.bootstrap);
      const topic = uniqueName('java848-consume');
      const groupId = uniqueName('java848-consume');
      const admin = await connected(kafka.admin());
      await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
      const producer = await connected(kafka.producer({ idempotent: true, maxInFlightRequests: 1 }));
      await producer.send({ topic, acks: -1, messages: Array.from({ length: 10 }, (_, i) => ({ partition: i % 2, key: `k${i}`, value: `js-${i}` })) });

      const consumed = await runJavaClient('consume', [broker.bootstrap, topic, groupId, '10'], consumerProtocol);
      expect(values(consumed, 'record')).toHaveLength(10);
      expect(values(consumed, 'committed')).toEqual(['0:5', '1:5']);
      const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
      expect(offsets[0]!.partitions.map((p) => `${p.partition}:${p.offset}`).sort()).toEqual(['0:5', '1:5']);

      await producer.send({ topic, acks: -1, messages: [{ partition: 1, key: 'k10', value: 'js-10' }] });
      const resumed = values(await runJavaClient('resume', [broker.bootstrap, topic, groupId, '1'], consumerProtocol), 'record');
      expect(resumed).toEqual(['1:5 k10 js-10 []']);
      expectConsumerProtocol(broker, groupId);
    });

    it('assigns on the broker: two members split the partitions on join, the first takes them all back on leave', async () => {
      const broker = await startBroker();
      const kafka = kafkaFor(broker.bootstrap);
      const topic = uniqueName('java848-group');
      const admin = await connected(kafka.admin());
      await admin.createTopics({ topics: [{ topic, numPartitions: 4 }] });
      const producer = await connected(kafka.producer());
      await producer.send({ topic, messages: Array.from({ length: 40 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })) });

      const groupId = uniqueName('java848-group');
      const lines = await runJavaClient('group', [broker.bootstrap, topic, groupId, '40'], consumerProtocol);
      expect(value(lines, 'first-alone')).toBe('[0, 1, 2, 3]');
      const first = JSON.parse(value(lines, 'first-shared')) as number[];
      const second = JSON.parse(value(lines, 'second-shared')) as number[];
      // The uniform assignor balances: two partitions each, every partition owned once.
      expect([first.length, second.length]).toEqual([2, 2]);
      expect([...first, ...second].sort()).toEqual([0, 1, 2, 3]);
      expect(value(lines, 'members')).toBe('2');
      expect(value(lines, 'state')).toBe('Stable');
      expect(value(lines, 'first-after-leave')).toBe('[0, 1, 2, 3]');
      expect(value(lines, 'keys')).toBe('40');
      expectConsumerProtocol(broker, groupId);
    });
  });
});
