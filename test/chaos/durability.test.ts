/**
 * Durability of the broker against `kill -9`: the broker runs as a child process through the CLI (see
 * helpers.ts), is killed with SIGKILL (no shutdown hook, no close, no flush), and is restarted on the
 * same data directory and port. Whatever it acknowledged before the kill must be there afterwards:
 * topics and their partition counts, every acknowledged message with its exact key, value and headers at
 * its acknowledged offset, committed group offsets with their metadata, and low watermarks moved by
 * DeleteRecords. Afterwards it must carry on: new messages get the offsets after the old ones, an
 * idempotent producer's new messages are not mistaken for duplicates, and a group resumes from its
 * committed offsets.
 */
import { kafkaFor } from '@shoal/broker/testing';
import { connected, tempDir, uniqueName } from '@shoal/testing';
import { describe, expect, it } from 'vitest';
import { ConfigResourceTypes, type Admin, type IHeaders, type Kafka, type Producer } from 'kafkajs';
import { collect, producerConfig, startCliBroker, whileRunning, type CliBroker, type ReceivedMessage } from './cli-broker.js';

/** No initial rebalance delay: consumer groups of one member form at once. */
const BROKER_ARGS = ['--group-initial-rebalance-delay-ms', '0'];
/** Messages per produce request of the writers that are cut off by the kill, and requests each keeps in flight. */
const STREAM_BATCH = 50;
const STREAM_IN_FLIGHT = 4;

interface ExpectedMessage {
  offset: number;
  key: string | null;
  /** Hex, so binary values compare exactly; null for a tombstone. */
  valueHex: string | null;
  headers: Record<string, string>;
}

interface OutgoingMessage {
  partition: number;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

/** What the broker acknowledged, per `topic/partition`, in offset order. */
class Acknowledged {
  readonly byPartition = new Map<string, ExpectedMessage[]>();

  record(topic: string, sent: readonly OutgoingMessage[], acks: readonly { topicName: string; partition: number; baseOffset?: string }[]): void {
    for (const ack of acks.filter((a) => a.topicName === topic)) {
      // kafkajs reports one base offset per partition; the partition's messages follow it in send order.
      const inPartition = sent.filter((m) => m.partition === ack.partition);
      const list = this.of(topic, ack.partition);
      inPartition.forEach((message, i) => {
        list.push({ offset: Number(ack.baseOffset) + i, key: message.key, valueHex: message.value?.toString('hex') ?? null, headers: message.headers });
      });
    }
  }

  of(topic: string, partition: number): ExpectedMessage[] {
    const key = `${topic}/${partition}`;
    let list = this.byPartition.get(key);
    if (!list) {
      list = [];
      this.byPartition.set(key, list);
    }
    return list;
  }
}

function toKafkajs(message: OutgoingMessage) {
  return { partition: message.partition, key: message.key, value: message.value, headers: message.headers as IHeaders };
}

function asExpected(message: ReceivedMessage): ExpectedMessage {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers)) headers[name] = value.toString('utf8');
  return { offset: message.offset, key: message.key?.toString('utf8') ?? null, valueHex: message.value?.toString('hex') ?? null, headers };
}

/** Sends and records what was acknowledged (acks -1: the broker's strongest promise). */
async function sendAcknowledged(producer: Producer, acknowledged: Acknowledged, topic: string, messages: OutgoingMessage[]): Promise<void> {
  const acks = await producer.send({ topic, acks: -1, messages: messages.map(toKafkajs) });
  acknowledged.record(topic, messages, acks);
}

/** Reads every topic from the beginning with a fresh group until `count` messages arrived; grouped per partition. */
async function readAll(broker: CliBroker, kafka: Kafka, topics: string[], count: number): Promise<Map<string, ReceivedMessage[]>> {
  const consumer = await connected(kafka.consumer({ groupId: uniqueName('reader'), maxWaitTimeInMs: 100 }));
  await consumer.subscribe({ topics, fromBeginning: true });
  const received = collect(consumer);
  await whileRunning(broker, `reading ${count} messages`, received.until((messages) => messages.length >= count));
  await consumer.disconnect();
  const byPartition = new Map<string, ReceivedMessage[]>();
  for (const message of received.messages) {
    const key = `${message.topic}/${message.partition}`;
    byPartition.set(key, [...(byPartition.get(key) ?? []), message]);
  }
  return byPartition;
}

async function partitionCounts(admin: Admin, topics: string[]): Promise<Record<string, number>> {
  const metadata = await admin.fetchTopicMetadata({ topics });
  return Object.fromEntries(metadata.topics.map((t) => [t.name, t.partitions.length]));
}

/** Per partition: [low watermark, high watermark]. */
async function watermarks(admin: Admin, topic: string): Promise<Record<number, [number, number]>> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return Object.fromEntries(offsets.map((p) => [p.partition, [Number(p.low), Number(p.high)]]));
}

describe('durability across kill -9', () => {
  it('keeps every acknowledged message, committed offset and topic, and carries on after the restart', async () => {
    const dataDir = await tempDir('durability');
    const first = await startCliBroker({ dataDir, args: BROKER_ARGS });
    const kafka = kafkaFor(first.bootstrap);
    const admin = await connected(kafka.admin());

    const orders = uniqueName('orders');
    const events = uniqueName('events');
    const idempotent = uniqueName('idempotent');
    const stream = uniqueName('stream');
    const deleted = uniqueName('deleted');
    // `events` is created with 2 partitions and grown to 4 before the kill; `deleted` is deleted before it.
    const partitions = { [orders]: 3, [events]: 4, [idempotent]: 2, [stream]: 3 };
    const topics = Object.keys(partitions);
    await admin.createTopics({
      topics: [
        ...topics.map((topic) => ({ topic, numPartitions: topic === events ? 2 : partitions[topic]!, configEntries: [{ name: 'retention.ms', value: '-1' }] })),
        { topic: deleted, numPartitions: 1 },
      ],
      waitForLeaders: true,
    });
    await admin.createPartitions({ topicPartitions: [{ topic: events, count: 4 }] });
    await admin.deleteTopics({ topics: [deleted] });

    // 1. Acknowledged writes: keyed and unkeyed, headers, binary, empty and null values, a large value.
    const acknowledged = new Acknowledged();
    const producer = await connected(kafka.producer(producerConfig()));
    const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    for (let round = 0; round < 3; round++) {
      await sendAcknowledged(
        producer,
        acknowledged,
        orders,
        Array.from({ length: 12 }, (_, i) => ({
          partition: i % 3,
          key: i % 4 === 0 ? null : `customer-${i % 5}`,
          value: Buffer.from(`order ${round}-${i} ✓ grüße`),
          headers: i % 2 === 0 ? { 'ce-id': `id-${round}-${i}`, 'ce-type': 'order.placed' } : ({} as Record<string, string>),
        })),
      );
    }
    await sendAcknowledged(producer, acknowledged, events, [
      { partition: 0, key: 'binary', value: allBytes, headers: { raw: 'yes' } },
      { partition: 0, key: 'empty', value: Buffer.alloc(0), headers: {} },
      { partition: 1, key: 'tombstone', value: null, headers: {} },
      { partition: 1, key: null, value: Buffer.alloc(200_000, 'x'), headers: { size: 'large' } },
      { partition: 3, key: 'grown', value: Buffer.from('in a partition added by CreatePartitions'), headers: {} },
    ]);
    // One produce request spanning two topics (sendBatch): both parts are acknowledged together.
    const batchOrders: OutgoingMessage[] = [{ partition: 2, key: 'batch', value: Buffer.from('batched order'), headers: {} }];
    const batchEvents: OutgoingMessage[] = [{ partition: 0, key: 'batch', value: Buffer.from('batched event'), headers: { h: '1' } }];
    const batchAcks = await producer.sendBatch({
      acks: -1,
      topicMessages: [
        { topic: orders, messages: batchOrders.map(toKafkajs) },
        { topic: events, messages: batchEvents.map(toKafkajs) },
      ],
    });
    acknowledged.record(orders, batchOrders, batchAcks);
    acknowledged.record(events, batchEvents, batchAcks);

    const idempotentProducer = await connected(kafka.producer(producerConfig({ idempotent: true, maxInFlightRequests: 1 })));
    for (let round = 0; round < 3; round++) {
      const messages = [0, 1, 0].map((partition, i) => ({ partition, key: `idem-${i}`, value: Buffer.from(`idempotent ${round}-${i}`), headers: {} }));
      await sendAcknowledged(idempotentProducer, acknowledged, idempotent, messages);
    }

    // 2. A group consumes `orders` and commits the middle of each partition (with commit metadata).
    const groupId = uniqueName('durable-group');
    const ordersPerPartition = [0, 1, 2].map((p) => acknowledged.of(orders, p).length);
    const committed = ordersPerPartition.map((count, partition) => ({ partition, offset: Math.floor(count / 2), metadata: `checkpoint-${partition}` }));
    const consumer = await connected(kafka.consumer({ groupId, maxWaitTimeInMs: 100 }));
    await consumer.subscribe({ topic: orders, fromBeginning: true });
    // No auto-commit: the only commit of this group is the explicit one below.
    const consumed = collect(consumer, { autoCommit: false });
    await consumed.until((messages) =>
      committed.every(({ partition, offset }) => messages.filter((m) => m.partition === partition && m.offset < offset).length === offset),
    );
    await consumer.commitOffsets(committed.map(({ partition, offset, metadata }) => ({ topic: orders, partition, offset: String(offset), metadata })));
    await consumer.disconnect();
    const expectedCommits = [{ topic: orders, partitions: committed.map(({ partition, offset, metadata }) => ({ partition, offset: String(offset), metadata })) }];
    const byPartition = (offsets: Awaited<ReturnType<Admin['fetchOffsets']>>) =>
      offsets.map((t) => ({ topic: t.topic, partitions: [...t.partitions].sort((a, b) => a.partition - b.partition).map(({ partition, offset, metadata }) => ({ partition, offset, metadata })) }));
    expect(byPartition(await admin.fetchOffsets({ groupId, topics: [orders] })), 'committed offsets before the kill').toEqual(expectedCommits);

    // 3. Writers still sending when the broker dies: three partitions, each with several produce requests
    // in flight at a time, so the kill finds requests received, stored and not yet answered.
    const streamProducer = await connected(kafkaFor(first.bootstrap, { retry: { retries: 0 } }).producer(producerConfig()));
    /** Per partition, the batches sent (acknowledged or not), in the order `send` was called. */
    const attempted = new Map<number, OutgoingMessage[][]>();
    let acknowledgedSends = 0;
    let killed: Promise<unknown> | null = null;
    await Promise.all(
      [0, 1, 2].map(async (partition) => {
        const sent: OutgoingMessage[][] = [];
        attempted.set(partition, sent);
        const inFlight: Promise<boolean>[] = [];
        for (let i = 0; ; i++) {
          const batch = Array.from({ length: STREAM_BATCH }, (_, j) => ({ partition, key: `k${j % 3}`, value: Buffer.from(`stream ${partition}-${i}-${j} ${'.'.repeat(500)}`), headers: { n: String(j) } }));
          sent.push(batch);
          inFlight.push(
            sendAcknowledged(streamProducer, acknowledged, stream, batch).then(
              () => {
                if (++acknowledgedSends === 30) killed = first.kill9();
                return true;
              },
              () => false, // the broker is gone: this batch may or may not have been stored, but not in part
            ),
          );
          if (inFlight.length < STREAM_IN_FLIGHT) continue;
          if (!(await inFlight.shift()!)) {
            await Promise.all(inFlight);
            return;
          }
        }
      }),
    );
    await killed;
    expect(first.exitStatus(), 'the first broker process').toEqual({ code: null, signal: 'SIGKILL' });
    expect(acknowledgedSends, 'sends acknowledged before the kill').toBeGreaterThanOrEqual(30);
    await Promise.all([producer.disconnect(), idempotentProducer.disconnect(), streamProducer.disconnect(), admin.disconnect()]);

    // 4. Restart on the same data dir and port.
    const second = await startCliBroker({ dataDir, port: first.port, args: BROKER_ARGS });
    const kafkaAfter = kafkaFor(second.bootstrap);
    const adminAfter = await connected(kafkaAfter.admin());
    const listed = await adminAfter.listTopics();
    expect(listed).toEqual(expect.arrayContaining(topics));
    expect(listed, 'a topic deleted before the kill').not.toContain(deleted);
    expect(await partitionCounts(adminAfter, topics)).toEqual(partitions);
    const configs = await adminAfter.describeConfigs({ resources: topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: ['retention.ms'] })), includeSynonyms: false });
    expect(configs.resources.map((r) => [r.resourceName, r.configEntries.find((e) => e.configName === 'retention.ms')?.configValue])).toEqual(topics.map((t) => [t, '-1']));
    expect(byPartition(await adminAfter.fetchOffsets({ groupId, topics: [orders] })), 'committed offsets after the kill').toEqual(expectedCommits);

    // Every acknowledged message is there, exactly, in order. On `stream`, the send in flight at the kill
    // may or may not have been stored, but nothing else: no gap, no duplicate, no stranger.
    const highs = new Map<string, number>();
    for (const topic of topics) {
      for (const [partition, [low, high]] of Object.entries(await watermarks(adminAfter, topic))) {
        expect(low, `low watermark of ${topic}/${partition}`).toBe(0);
        highs.set(`${topic}/${partition}`, high);
      }
    }
    const total = [...highs.values()].reduce((sum, high) => sum + high, 0);
    const stored = await readAll(second, kafkaAfter, topics, total);
    for (const [key, high] of highs) {
      const expected = acknowledged.byPartition.get(key) ?? [];
      const actual = (stored.get(key) ?? []).map(asExpected);
      if (!key.startsWith(`${stream}/`)) {
        expect(actual, `messages of ${key}`).toEqual(expected);
        continue;
      }
      // A produce request is one transaction and one connection's requests are answered in order, so the
      // partition holds the acknowledged batches first (checked above at their acknowledged offsets), then
      // possibly batches stored but not answered before the kill: each one whole, each one sent, none twice.
      // (kafkajs may put concurrent sends on the wire in another order than they were called.)
      const partition = Number(key.split('/')[1]);
      const batches = attempted.get(partition)!;
      console.info(`${key}: ${expected.length / STREAM_BATCH} batches acknowledged, ${high / STREAM_BATCH} stored, ${batches.length} sent`);
      expect(actual.slice(0, expected.length), `acknowledged messages of ${key}`).toEqual(expected);
      expect(high % STREAM_BATCH, `${high} messages stored in ${key}: whole batches only`).toBe(0);
      const seen = new Set<OutgoingMessage[]>();
      for (let offset = 0; offset < high; offset += STREAM_BATCH) {
        const chunk = actual.slice(offset, offset + STREAM_BATCH);
        const batch = batches.find((b) => b[0]!.value!.toString('hex') === chunk[0]!.valueHex);
        expect(batch && !seen.has(batch), `the batch stored at ${key}@${offset} is one that was sent, and only once`).toBe(true);
        seen.add(batch!);
        expect(chunk, `the batch stored at ${key}@${offset}`).toEqual(batch!.map((m, i) => ({ offset: offset + i, key: m.key, valueHex: m.value!.toString('hex'), headers: m.headers })));
      }
    }

    // 5. Carrying on: new offsets follow the old ones, for a plain and a new idempotent producer.
    const producerAfter = await connected(kafkaAfter.producer(producerConfig()));
    const appended = await producerAfter.send({ topic: orders, acks: -1, messages: [0, 1, 2].map((partition) => ({ partition, value: `after restart ${partition}` })) });
    expect(appended.map((a) => [a.partition, Number(a.baseOffset)]).sort(([a], [b]) => a! - b!), 'offsets of the first messages after the restart').toEqual(
      [0, 1, 2].map((p) => [p, highs.get(`${orders}/${p}`)!]),
    );
    const idempotentAfter = await connected(kafkaAfter.producer(producerConfig({ idempotent: true, maxInFlightRequests: 1 })));
    const idempotentAppended = await idempotentAfter.send({ topic: idempotent, acks: -1, messages: [{ partition: 0, key: 'idem-0', value: 'idempotent after restart' }] });
    expect(Number(idempotentAppended[0]!.baseOffset), 'offset of the new idempotent producer').toBe(highs.get(`${idempotent}/0`));
    expect(await watermarks(adminAfter, idempotent)).toEqual({ 0: [0, highs.get(`${idempotent}/0`)! + 1], 1: [0, highs.get(`${idempotent}/1`)] });

    // 6. The group resumes from its committed offsets and sees the new messages after the old ones.
    const resumed = await connected(kafkaAfter.consumer({ groupId, maxWaitTimeInMs: 100 }));
    await resumed.subscribe({ topic: orders, fromBeginning: true });
    const resumedMessages = collect(resumed);
    await whileRunning(
      second,
      'the resumed group',
      resumedMessages.until((messages) => [0, 1, 2].every((p) => messages.some((m) => m.partition === p && m.value?.toString() === `after restart ${p}`))),
    );
    for (const { partition, offset } of committed) {
      const offsets = resumedMessages.messages.filter((m) => m.partition === partition).map((m) => m.offset);
      const end = highs.get(`${orders}/${partition}`)! + 1;
      expect(offsets, `offsets the resumed group read from ${orders}/${partition}`).toEqual(Array.from({ length: end - offset }, (_, i) => offset + i));
    }
  });

  it('keeps low watermarks moved by DeleteRecords across kill -9; consumers from the beginning start there', async () => {
    const dataDir = await tempDir('delete-records');
    const first = await startCliBroker({ dataDir, args: BROKER_ARGS });
    const kafka = kafkaFor(first.bootstrap);
    const admin = await connected(kafka.admin());
    const topic = uniqueName('trimmed');
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    const producer = await connected(kafka.producer(producerConfig()));
    // One batch per send: offsets 0-9 on partition 0 and 0-2 on partition 1, each its own batch.
    for (let i = 0; i < 10; i++) await producer.send({ topic, acks: -1, messages: [{ partition: 0, value: `p0-${i}` }] });
    for (let i = 0; i < 3; i++) await producer.send({ topic, acks: -1, messages: [{ partition: 1, value: `p1-${i}` }] });

    // kafkajs's deleteTopicRecords looks partition leaders up in metadata it already holds, and an admin
    // client only holds metadata of topics it asked about: ask first (else KafkaJSBrokerNotFound).
    expect(await watermarks(admin, topic)).toEqual({ 0: [0, 10], 1: [0, 3] });
    await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '4' }] });
    expect(await watermarks(admin, topic)).toEqual({ 0: [4, 10], 1: [0, 3] });
    const valuesFromBeginning = async (broker: CliBroker, client: Kafka, count: number) =>
      [...(await readAll(broker, client, [topic], count)).values()].flat().map((m) => `${m.partition}@${m.offset}=${m.value?.toString()}`).sort();
    expect(await valuesFromBeginning(first, kafka, 9)).toEqual([
      ...[4, 5, 6, 7, 8, 9].map((i) => `0@${i}=p0-${i}`),
      ...[0, 1, 2].map((i) => `1@${i}=p1-${i}`),
    ]);

    // A low watermark inside a batch (offsets 10-12 in one batch, deleted up to 11), and everything of partition 1 (-1).
    await producer.send({ topic, acks: -1, messages: [10, 11, 12].map((i) => ({ partition: 0, value: `p0-${i}` })) });
    await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '11' }, { partition: 1, offset: '-1' }] });
    expect(await watermarks(admin, topic)).toEqual({ 0: [11, 13], 1: [3, 3] });
    await producer.disconnect();
    await admin.disconnect();

    await first.kill9();
    expect(first.exitStatus()).toEqual({ code: null, signal: 'SIGKILL' });
    const second = await startCliBroker({ dataDir, port: first.port, args: BROKER_ARGS });
    const kafkaAfter = kafkaFor(second.bootstrap);
    const adminAfter = await connected(kafkaAfter.admin());
    expect(await watermarks(adminAfter, topic), 'watermarks after kill -9').toEqual({ 0: [11, 13], 1: [3, 3] });

    const producerAfter = await connected(kafkaAfter.producer(producerConfig()));
    const [appended] = await producerAfter.send({ topic, acks: -1, messages: [{ partition: 1, value: 'p1-3' }] });
    expect(Number(appended!.baseOffset), 'the first offset after an emptied partition').toBe(3);
    expect(await valuesFromBeginning(second, kafkaAfter, 3)).toEqual(['0@11=p0-11', '0@12=p0-12', '1@3=p1-3']);
  });
});
