import { describe, expect, it } from 'vitest';
import { logLevel, Partitioners, type Consumer, type Kafka, type LogEntry } from 'kafkajs';
import { ApiKey } from '../protocol/api-keys.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { RawKafkaClient } from '../testing/raw-client.js';
import { connected, kafkaFor as quietKafkaFor, startTestBroker } from '../testing/test-broker.js';
import { tempDir, uniqueName } from '@shoal/testing';

/**
 * The group coordinator against kafkajs 2.2.4 on a real broker: rebalances of a live consumer group, and
 * the admin operations on groups. Nothing here waits for a fixed time: every wait is for an observable
 * condition, bounded only by the test timeout.
 */
const CONSUMER_TIMINGS = { sessionTimeout: 6000, rebalanceTimeout: 10_000, heartbeatInterval: 500, maxWaitTimeInMs: 100 };

function kafkaFor(bootstrap: string, clientId: string, logCreator?: (entry: LogEntry) => void): Kafka {
  return quietKafkaFor(bootstrap, {
    clientId,
    retry: { retries: 10, initialRetryTime: 50 },
    ...(logCreator === undefined ? {} : { logLevel: logLevel.DEBUG, logCreator: () => logCreator }),
  });
}

async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 50));
}

interface Delivery {
  member: string;
  generationId: number;
  value: string;
}

interface GroupJoin {
  member: string;
  generationId: number;
  assignment: Record<string, number[]>;
}

/**
 * One consumer of the group, recording every message it is handed with the generation it belonged to.
 * kafkajs 2.2.4's GROUP_JOIN event carries no generation id, but its sync step logs the generation
 * ("Received assignment") right before emitting GROUP_JOIN; a per-consumer log sink picks it up there.
 */
async function startMember(
  bootstrap: string,
  name: string,
  group: { groupId: string; topic: string; deliveries: Delivery[]; joins: GroupJoin[] },
): Promise<Consumer> {
  let loggedGeneration = -1;
  let generationId = -1;
  const kafka = kafkaFor(bootstrap, name, ({ log }) => {
    if (log.message === 'Received assignment' && typeof log['generationId'] === 'number') loggedGeneration = log['generationId'];
  });
  const consumer = kafka.consumer({ groupId: group.groupId, ...CONSUMER_TIMINGS });
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    generationId = loggedGeneration;
    group.joins.push({ member: name, generationId, assignment: payload.memberAssignment });
  });
  await connected(consumer);
  await consumer.subscribe({ topic: group.topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      group.deliveries.push({ member: name, generationId, value: message.value!.toString() });
    },
  });
  return consumer;
}

/** The members of each generation, as they saw it when they joined it. */
function generations(joins: GroupJoin[]): Map<number, GroupJoin[]> {
  const byGeneration = new Map<number, GroupJoin[]>();
  for (const join of joins) byGeneration.set(join.generationId, [...(byGeneration.get(join.generationId) ?? []), join]);
  return byGeneration;
}

/** A generation whose joined members are exactly `members`, all of them having received their assignment. */
function generationOf(joins: GroupJoin[], members: string[]): number | undefined {
  const wanted = [...members].sort().join(',');
  for (const [generationId, joined] of generations(joins)) {
    if (joined.map((j) => j.member).sort().join(',') === wanted) return generationId;
  }
  return undefined;
}

describe('consumer group with kafkajs', () => {
  it('rebalances a 3-member group when a member joins and when one leaves, losing and sharing no message', async () => {
    const broker = await startTestBroker({ groupInitialRebalanceDelayMs: 100 });
    const kafka = kafkaFor(broker.bootstrap, uniqueName('group-int'));
    const topic = uniqueName('orders');
    const groupId = uniqueName('group');
    const partitions = 6;
    const admin = await connected(kafka.admin());
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions }] });
    const producer = await connected(kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner }));
    let produced = 0;
    const sent: string[] = [];
    const produce = async (count: number) => {
      const messages = Array.from({ length: count }, () => {
        const value = `message-${produced++}`;
        sent.push(value);
        return { value, partition: produced % partitions };
      });
      await producer.send({ topic, messages });
    };
    const group = { groupId, topic, deliveries: [] as Delivery[], joins: [] as GroupJoin[] };
    const allDelivered = () => {
      const delivered = new Set(group.deliveries.map((d) => d.value));
      return sent.every((value) => delivered.has(value));
    };

    const consumers = new Map<string, Consumer>();
    const start = async (name: string) => {
      consumers.set(name, await startMember(broker.bootstrap, name, group));
    };

    // Three members start together and settle into one generation.
    await Promise.all(['a', 'b', 'c'].map(start));
    await until(() => generationOf(group.joins, ['a', 'b', 'c']) !== undefined);
    await produce(60);
    await until(allDelivered);

    // A fourth member joins while messages are flowing.
    await produce(60);
    const d = start('d');
    await produce(60);
    await d;
    await until(() => generationOf(group.joins, ['a', 'b', 'c', 'd']) !== undefined);
    await produce(60);
    await until(allDelivered);

    // One member leaves (LeaveGroup on disconnect) while messages are flowing.
    await produce(60);
    await consumers.get('b')!.disconnect();
    await produce(60);
    await until(() => generationOf(group.joins, ['a', 'c', 'd']) !== undefined);
    await produce(60);
    await until(allDelivered);

    // The group went through 3, then 4, then 3 members, in that order.
    const three = generationOf(group.joins, ['a', 'b', 'c'])!;
    const four = generationOf(group.joins, ['a', 'b', 'c', 'd'])!;
    const threeAgain = generationOf(group.joins, ['a', 'c', 'd'])!;
    expect(three).toBeLessThan(four);
    expect(four).toBeLessThan(threeAgain);

    // Within every generation, assignments are disjoint; in the complete ones they cover every partition.
    for (const [generationId, joined] of generations(group.joins)) {
      const assigned = joined.flatMap((j) => j.assignment[topic] ?? []);
      expect(new Set(assigned).size, `generation ${generationId}`).toBe(assigned.length);
      if ([three, four, threeAgain].includes(generationId)) expect([...assigned].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    }

    // No message lost, and none handed to two members of the same generation.
    expect(allDelivered()).toBe(true);
    const owner = new Map<string, string>();
    for (const delivery of group.deliveries) {
      expect(delivery.generationId).toBeGreaterThan(0);
      const key = `${delivery.generationId}/${delivery.value}`;
      const first = owner.get(key) ?? delivery.member;
      expect(delivery.member, `${delivery.value} in generation ${delivery.generationId}`).toBe(first);
      owner.set(key, first);
    }
  });

  it('fetches, sets, describes, lists and deletes group offsets through the admin client', async () => {
    const broker = await startTestBroker({ groupInitialRebalanceDelayMs: 100 });
    const kafka = kafkaFor(broker.bootstrap, uniqueName('admin-int'));
    const topic = uniqueName('payments');
    const idle = uniqueName('idle-group');
    const active = uniqueName('active-group');
    const admin = await connected(kafka.admin());
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }] });
    const offsetsOf = async (groupId: string) => (await admin.fetchOffsets({ groupId, topics: [topic] }))[0]!.partitions.map((p) => p.offset);

    // Nothing committed yet: every partition answers -1, and the group is unknown (Dead, like Kafka says).
    expect(await offsetsOf(idle)).toEqual(['-1', '-1', '-1']);
    expect((await admin.describeGroups([idle])).groups[0]).toMatchObject({ groupId: idle, state: 'Dead', members: [] });

    // kafkajs 2.2.4 sets offsets by briefly joining the (Empty) group and committing as its member.
    await admin.setOffsets({ groupId: idle, topic, partitions: [{ partition: 0, offset: '5' }, { partition: 2, offset: '7' }] });
    expect(await offsetsOf(idle)).toEqual(['5', '-1', '7']);

    // Other admin clients (Java's alterConsumerGroupOffsets) commit unmanaged: generation -1, no member id.
    expect(await commitUnmanaged(broker.port, idle, topic, [[1, 3]])).toEqual([ErrorCode.NONE]);
    expect(await offsetsOf(idle)).toEqual(['5', '3', '7']);
    expect((await admin.describeGroups([idle])).groups[0]).toMatchObject({ groupId: idle, state: 'Empty', members: [] });
    expect((await admin.listGroups()).groups.map((g) => g.groupId)).toContain(idle);

    // A group with a running member: described with it, and neither settable nor deletable.
    const consumer = await connected(kafka.consumer({ groupId: active, ...CONSUMER_TIMINGS }));
    let joined = false;
    consumer.on(consumer.events.GROUP_JOIN, () => {
      joined = true;
    });
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async () => {} });
    await until(() => joined);
    await until(async () => (await admin.describeGroups([active])).groups[0]!.state === 'Stable');
    const described = (await admin.describeGroups([active])).groups[0]!;
    expect(described).toMatchObject({ groupId: active, protocolType: 'consumer', protocol: 'RoundRobinAssigner' });
    expect(described.members).toHaveLength(1);
    expect(described.members[0]!.clientId).toBe(kafkaClientId(described.members[0]!.memberId));
    expect((await admin.listGroups()).groups).toContainEqual({ groupId: active, protocolType: 'consumer' });
    expect(await commitUnmanaged(broker.port, active, topic, [[0, 1]])).toEqual([ErrorCode.UNKNOWN_MEMBER_ID]);
    await expect(admin.setOffsets({ groupId: active, topic, partitions: [{ partition: 0, offset: '1' }] })).rejects.toThrow(/no running instances/);
    await expect(admin.deleteGroups([active])).rejects.toMatchObject({ groups: [{ groupId: active, errorCode: ErrorCode.NON_EMPTY_GROUP }] });

    // Unknown groups cannot be deleted; groups without members are deleted with their offsets.
    const never = uniqueName('never');
    await expect(admin.deleteGroups([never])).rejects.toMatchObject({ groups: [{ groupId: never, errorCode: ErrorCode.GROUP_ID_NOT_FOUND }] });
    expect(await admin.deleteGroups([idle])).toEqual([{ groupId: idle, errorCode: ErrorCode.NONE }]);
    expect(await offsetsOf(idle)).toEqual(['-1', '-1', '-1']);
    expect((await admin.describeGroups([idle])).groups[0]!.state).toBe('Dead');
    expect((await admin.listGroups()).groups.map((g) => g.groupId)).not.toContain(idle);
  });

  it('keeps committed offsets across a broker restart', async () => {
    const dataDir = tempDir('groups-int');
    const topic = uniqueName('restart');
    const groupId = uniqueName('restart-group');

    const before = await startTestBroker({ dataDir, groupInitialRebalanceDelayMs: 100 });
    const admin = await connected(kafkaFor(before.bootstrap, uniqueName('restart-int')).admin());
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
    expect(await commitUnmanaged(before.port, groupId, topic, [[0, 11], [1, 22]])).toEqual([ErrorCode.NONE, ErrorCode.NONE]);
    await admin.disconnect();
    await before.close();

    const after = await startTestBroker({ dataDir, groupInitialRebalanceDelayMs: 100 });
    const reopened = await connected(kafkaFor(after.bootstrap, uniqueName('restart-int')).admin());
    expect(await reopened.fetchOffsets({ groupId, topics: [topic] })).toEqual([
      { topic, partitions: [{ partition: 0, offset: '11', metadata: null }, { partition: 1, offset: '22', metadata: null }] },
    ]);
    expect((await reopened.listGroups()).groups).toContainEqual({ groupId, protocolType: '' });
    expect((await reopened.describeGroups([groupId])).groups[0]).toMatchObject({ groupId, state: 'Empty' });
  });
});

/** OffsetCommit v2 with generation -1 and no member id, as a non-kafkajs admin client sends it. */
async function commitUnmanaged(port: number, groupId: string, topic: string, offsets: Array<[partition: number, offset: number]>): Promise<number[]> {
  const client = await RawKafkaClient.connect(port);
  try {
    const response = await client.request(ApiKey.OffsetCommit, 2, (w) => {
      w.string(groupId).int32(-1).string('').int64(-1);
      w.array([topic], (t, name) => {
        t.string(name).array(offsets, (p, [partition, offset]) => {
          p.int32(partition).int64(offset).nullableString(null);
        });
      });
    });
    return response
      .array((t) => {
        t.string();
        return t.array((p) => {
          p.int32();
          return p.int16();
        });
      })
      .flat();
  } finally {
    client.close();
  }
}

/** Member ids are `${clientId}-${uuid}`. */
function kafkaClientId(memberId: string): string {
  return memberId.slice(0, -37);
}
