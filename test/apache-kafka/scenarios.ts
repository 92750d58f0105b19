/**
 * The request sequences of the differential suite, one per API, each run at every version the embedded
 * broker advertises and Apache Kafka still serves. Requests are JSON in the field names of Kafka's message
 * specs; Session.call encodes them with Kafka's codec for the version at hand (fields a version lacks are
 * left out by the codec). Each sequence covers the API's normal answer and its error cases.
 */
import { expect } from 'vitest';
import { ApiKey, encodeBatch } from '@shoal/broker/testing';
import type { Session } from './differential.js';

/** Kafka's API keys, as the protocol guide numbers them. */
export const Api = ApiKey;

/** Kafka's "no topic id" (all zeros), as its JSON converter writes a Uuid. */
const NO_TOPIC_ID = 'AAAAAAAAAAAAAAAAAAAAAA';

/** Record timestamps are fixed so both brokers store, list and return the same bytes. */
const T0 = 1_767_225_600_000;

const b64 = (buffer: Buffer) => buffer.toString('base64');

async function batch(count: number, options: { producerId?: number; producerEpoch?: number; firstSequence?: number; valueSize?: number } = {}): Promise<Buffer> {
  const records = Array.from({ length: count }, (_, i) => ({ key: `k${i}`, value: options.valueSize === undefined ? `v${i}` : 'x'.repeat(options.valueSize), timestampDelta: i * 1000, headers: { h: `${i}` } }));
  return encodeBatch(records, { firstTimestamp: T0, ...options });
}

function produceRequest(topic: string, partition: number, records: Buffer, acks = -1) {
  return { transactionalId: null, acks, timeoutMs: 5000, topicData: [{ name: topic, partitionData: [{ index: partition, records: b64(records) }] }] };
}

/** A ConsumerProtocolSubscription v0 for `topics`: what the classic consumer protocol's metadata holds. */
function subscription(topics: string[]): string {
  const parts = [Buffer.from([0, 0])];
  const count = Buffer.alloc(4);
  count.writeInt32BE(topics.length);
  parts.push(count);
  for (const topic of topics) {
    const length = Buffer.alloc(2);
    length.writeInt16BE(Buffer.byteLength(topic));
    parts.push(length, Buffer.from(topic));
  }
  parts.push(Buffer.from([0xff, 0xff, 0xff, 0xff]));
  return b64(Buffer.concat(parts));
}

function joinRequest(group: string, memberId: string, topic: string) {
  return {
    groupId: group,
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 10_000,
    memberId,
    groupInstanceId: null,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: subscription([topic]) }],
  };
}

/** JoinGroup until a member id and generation come back (v4+ first answers MEMBER_ID_REQUIRED). */
async function join(s: Session, v: number, group: string, topic: string, label: string, on?: Awaited<ReturnType<Session['connection']>>) {
  let answer = await s.call(`${label}: join`, Api.JoinGroup, v, joinRequest(group, '', topic), on);
  if (answer.errorCode === 79) answer = await s.call(`${label}: join with the member id`, Api.JoinGroup, v, joinRequest(group, answer.memberId, topic), on);
  return answer;
}

/** Versions of the group APIs that go together with JoinGroup version `v` (as a client of that age sends). */
function groupVersions(joinVersion: number) {
  return { sync: Math.min(joinVersion >= 5 ? 3 : joinVersion >= 3 ? 2 : 1, 3), heartbeat: Math.min(joinVersion >= 5 ? 3 : 2, 3), leave: 3, commit: 7 };
}

export type Scenario = (s: Session, version: number, name: string) => Promise<void>;

export const scenarios: Record<number, Scenario> = {
  async [Api.ApiVersions](s, v) {
    await s.call('api versions', Api.ApiVersions, v, { clientSoftwareName: 'shoal-differential', clientSoftwareVersion: '1.0' });
  },

  async [Api.Metadata](s, v, name) {
    await s.createTopic(`${name}-a`, 2);
    const request = (topics: { name: string | null; topicId?: string }[]) => ({
      topics: topics.map((t) => ({ topicId: NO_TOPIC_ID, ...t })),
      allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    });
    const found = await s.call('an existing topic and an unknown one', Api.Metadata, v, request([{ name: `${name}-a` }, { name: `${name}-missing` }]));
    await s.call('an invalid topic name', Api.Metadata, v, request([{ name: 'bad/name' }]));
    if (v >= 12) {
      const topicId = (found.topics as { name: string; topicId: string }[]).find((t) => t.name === `${name}-a`)!.topicId;
      await s.call('a topic by its id, and an unknown id', Api.Metadata, v, request([{ name: null, topicId }, { name: null, topicId: 'AAAAAAAAAAAAAAAAAAAAAQ' }]));
    }
  },

  async [Api.Produce](s, v, name) {
    const topic = `${name}-p`;
    await s.createTopic(topic, 2, [{ name: 'max.message.bytes', value: '2000' }]);
    await s.call('a batch', Api.Produce, v, produceRequest(topic, 0, await batch(3)));
    await s.call('a second batch', Api.Produce, v, produceRequest(topic, 0, await batch(2)));
    await s.call('an unknown topic', Api.Produce, v, produceRequest(`${name}-missing`, 0, await batch(1)));
    await s.call('a partition out of range', Api.Produce, v, produceRequest(topic, 9, await batch(1)));
    const corrupt = await batch(2);
    corrupt.writeUInt8(corrupt.readUInt8(corrupt.length - 1) ^ 0xff, corrupt.length - 1);
    await s.call('a batch whose CRC does not match', Api.Produce, v, produceRequest(topic, 1, corrupt));
    await s.call('a batch over max.message.bytes', Api.Produce, v, produceRequest(topic, 1, await batch(3, { valueSize: 1000 })));
    const truncated = (await batch(3)).subarray(0, 40);
    await s.call('a truncated batch', Api.Produce, v, produceRequest(topic, 1, truncated));

    const { producerId } = await s.call('a producer id', Api.InitProducerId, 1, { transactionalId: null, transactionTimeoutMs: 60_000 });
    const idempotent = (firstSequence: number, count = 2) => batch(count, { producerId, producerEpoch: 0, firstSequence });
    await s.call('idempotent: sequence 0', Api.Produce, v, produceRequest(topic, 1, await idempotent(0)));
    await s.call('idempotent: the same batch again (a retry)', Api.Produce, v, produceRequest(topic, 1, await idempotent(0)));
    await s.call('idempotent: a sequence gap', Api.Produce, v, produceRequest(topic, 1, await idempotent(5)));
    await s.call('idempotent: the next sequence', Api.Produce, v, produceRequest(topic, 1, await idempotent(2)));
    await s.call('acks=1', Api.Produce, v, produceRequest(topic, 0, await batch(1), 1));
  },

  async [Api.Fetch](s, v, name) {
    const topic = `${name}-f`;
    await s.createTopic(topic, 1);
    await s.call('setup: produce', Api.Produce, 7, produceRequest(topic, 0, await batch(4)));
    const fetch = (fetchOffset: number, partition = 0, t = topic) => ({
      replicaId: -1,
      maxWaitMs: 10,
      minBytes: 1,
      maxBytes: 1 << 20,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [{ topic: t, partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset, logStartOffset: -1, partitionMaxBytes: 1 << 20 }] }],
      forgottenTopicsData: [],
      rackId: '',
    });
    await s.call('from the start', Api.Fetch, v, fetch(0));
    await s.call('from the middle of a batch', Api.Fetch, v, fetch(2));
    await s.call('at the log end (waits maxWaitMs, empty)', Api.Fetch, v, fetch(4));
    await s.call('past the log end', Api.Fetch, v, fetch(99));
    await s.call('an unknown partition', Api.Fetch, v, fetch(0, 5));
    await s.call('an unknown topic', Api.Fetch, v, fetch(0, 0, `${name}-missing`));
  },

  async [Api.ListOffsets](s, v, name) {
    const topic = `${name}-l`;
    await s.createTopic(topic, 1);
    await s.call('setup: produce', Api.Produce, 7, produceRequest(topic, 0, await batch(5)));
    const list = (timestamp: number, partitionIndex = 0) => ({
      replicaId: -1,
      isolationLevel: 0,
      topics: [{ name: topic, partitions: [{ partitionIndex, currentLeaderEpoch: -1, timestamp, maxNumOffsets: 1 }] }],
    });
    await s.call('latest', Api.ListOffsets, v, list(-1));
    await s.call('earliest', Api.ListOffsets, v, list(-2));
    await s.call('by timestamp', Api.ListOffsets, v, list(T0 + 2500));
    await s.call('after every timestamp', Api.ListOffsets, v, list(T0 + 60_000));
    if (v >= 7) await s.call('max timestamp', Api.ListOffsets, v, list(-3));
    await s.call('an unknown partition', Api.ListOffsets, v, list(-1, 3));
  },

  async [Api.CreateTopics](s, v, name) {
    const topic = (suffix: string, numPartitions: number, configs: { name: string; value: string }[] = [], replicationFactor = 1) => ({ name: `${name}-${suffix}`, numPartitions, replicationFactor, assignments: [], configs });
    const create = (topics: unknown[], validateOnly = false) => ({ topics, timeoutMs: 5000, validateOnly });
    await s.call('a topic with a config', Api.CreateTopics, v, create([topic('a', 3, [{ name: 'retention.ms', value: '3600000' }])]));
    await s.call('the same again', Api.CreateTopics, v, create([topic('a', 3)]));
    await s.call('zero partitions', Api.CreateTopics, v, create([topic('b', 0)]));
    await s.call('replication factor 3 on one broker', Api.CreateTopics, v, create([topic('c', 1, [], 3)]));
    await s.call('an invalid config value', Api.CreateTopics, v, create([topic('d', 1, [{ name: 'retention.ms', value: 'soon' }])]));
    await s.call('an invalid topic name', Api.CreateTopics, v, create([{ ...topic('e', 1), name: 'bad/name' }]));
    if (v >= 1) await s.call('validate only', Api.CreateTopics, v, create([topic('f', 2)], true));
  },

  async [Api.DeleteTopics](s, v, name) {
    await s.createTopic(`${name}-a`, 1);
    await s.call('an existing and an unknown topic', Api.DeleteTopics, v, { topicNames: [`${name}-a`, `${name}-missing`], timeoutMs: 5000 });
  },

  async [Api.CreatePartitions](s, v, name) {
    await s.createTopic(`${name}-a`, 2);
    const grow = (topic: string, count: number, validateOnly = false) => ({ topics: [{ name: topic, count, assignments: null }], timeoutMs: 5000, validateOnly });
    await s.call('grow to 3', Api.CreatePartitions, v, grow(`${name}-a`, 3));
    await s.call('shrink to 1', Api.CreatePartitions, v, grow(`${name}-a`, 1));
    await s.call('the same count', Api.CreatePartitions, v, grow(`${name}-a`, 3));
    await s.call('an unknown topic', Api.CreatePartitions, v, grow(`${name}-missing`, 3));
    await s.call('validate only', Api.CreatePartitions, v, grow(`${name}-a`, 5, true));
  },

  async [Api.DeleteRecords](s, v, name) {
    const topic = `${name}-d`;
    await s.createTopic(topic, 1);
    await s.call('setup: produce', Api.Produce, 7, produceRequest(topic, 0, await batch(3)));
    await s.call('setup: produce', Api.Produce, 7, produceRequest(topic, 0, await batch(3)));
    const del = (offset: number, partitionIndex = 0) => ({ topics: [{ name: topic, partitions: [{ partitionIndex, offset }] }], timeoutMs: 5000 });
    await s.call('up to offset 3', Api.DeleteRecords, v, del(3));
    await s.call('beyond the high watermark', Api.DeleteRecords, v, del(10));
    await s.call('an unknown partition', Api.DeleteRecords, v, del(0, 4));
    await s.call('to the high watermark (-1)', Api.DeleteRecords, v, del(-1));
  },

  async [Api.InitProducerId](s, v) {
    await s.call('an idempotent producer', Api.InitProducerId, v, { transactionalId: null, transactionTimeoutMs: 60_000 });
  },

  async [Api.DescribeConfigs](s, v, name) {
    await s.createTopic(`${name}-a`, 1, [{ name: 'retention.ms', value: '3600000' }]);
    const describe = (resourceName: string, configurationKeys: string[] | null, resourceType = 2) => ({ resources: [{ resourceType, resourceName, configurationKeys }], includeSynonyms: false, includeDocumentation: false });
    await s.call('chosen topic configs', Api.DescribeConfigs, v, describe(`${name}-a`, ['retention.ms', 'cleanup.policy', 'max.message.bytes']));
    await s.call('an unknown topic', Api.DescribeConfigs, v, describe(`${name}-missing`, ['retention.ms']));
  },

  async [Api.AlterConfigs](s, v, name) {
    await s.createTopic(`${name}-a`, 1);
    const alter = (resourceName: string, configs: { name: string; value: string | null }[], validateOnly = false) => ({ resources: [{ resourceType: 2, resourceName, configs }], validateOnly });
    await s.call('set retention.ms', Api.AlterConfigs, v, alter(`${name}-a`, [{ name: 'retention.ms', value: '7200000' }]));
    await s.call('read it back', Api.DescribeConfigs, 2, { resources: [{ resourceType: 2, resourceName: `${name}-a`, configurationKeys: ['retention.ms'] }], includeSynonyms: false });
    await s.call('an invalid value', Api.AlterConfigs, v, alter(`${name}-a`, [{ name: 'retention.ms', value: 'soon' }]));
    await s.call('an unknown topic', Api.AlterConfigs, v, alter(`${name}-missing`, [{ name: 'retention.ms', value: '1' }]));
    await s.call('validate only', Api.AlterConfigs, v, alter(`${name}-a`, [{ name: 'retention.ms', value: '1000' }], true));
  },

  async [Api.IncrementalAlterConfigs](s, v, name) {
    await s.createTopic(`${name}-a`, 1);
    const alter = (resourceName: string, configs: { name: string; configOperation: number; value: string | null }[], validateOnly = false) => ({ resources: [{ resourceType: 2, resourceName, configs }], validateOnly });
    await s.call('set two configs', Api.IncrementalAlterConfigs, v, alter(`${name}-a`, [{ name: 'retention.ms', configOperation: 0, value: '7200000' }, { name: 'max.message.bytes', configOperation: 0, value: '5000' }]));
    await s.call('delete one', Api.IncrementalAlterConfigs, v, alter(`${name}-a`, [{ name: 'max.message.bytes', configOperation: 1, value: null }]));
    await s.call('append to a list config', Api.IncrementalAlterConfigs, v, alter(`${name}-a`, [{ name: 'cleanup.policy', configOperation: 2, value: 'compact' }]));
    await s.call('append to a non-list config', Api.IncrementalAlterConfigs, v, alter(`${name}-a`, [{ name: 'retention.ms', configOperation: 2, value: '1' }]));
    await s.call('read them back', Api.DescribeConfigs, 2, { resources: [{ resourceType: 2, resourceName: `${name}-a`, configurationKeys: ['retention.ms', 'max.message.bytes', 'cleanup.policy'] }], includeSynonyms: false });
    await s.call('an invalid value', Api.IncrementalAlterConfigs, v, alter(`${name}-a`, [{ name: 'retention.ms', configOperation: 0, value: 'soon' }]));
    await s.call('an unknown topic', Api.IncrementalAlterConfigs, v, alter(`${name}-missing`, [{ name: 'retention.ms', configOperation: 0, value: '1' }]));
    await s.call('the same key twice', Api.IncrementalAlterConfigs, v, alter(`${name}-a`, [{ name: 'retention.ms', configOperation: 0, value: '1' }, { name: 'retention.ms', configOperation: 0, value: '2' }]));
  },

  async [Api.FindCoordinator](s, v, name) {
    await s.call('a group coordinator', Api.FindCoordinator, v, { key: `${name}-g`, keyType: 0, coordinatorKeys: [`${name}-g`] });
  },

  async [Api.JoinGroup](s, v, name) {
    const topic = `${name}-t`;
    await s.createTopic(topic, 2);
    const group = `${name}-g`;
    const versions = groupVersions(v);
    const a = await join(s, v, group, topic, 'member A');
    await s.call('member A: sync as leader', Api.SyncGroup, versions.sync, {
      groupId: group,
      generationId: a.generationId,
      memberId: a.memberId,
      groupInstanceId: null,
      protocolType: 'consumer',
      protocolName: 'range',
      assignments: [{ memberId: a.memberId, assignment: b64(Buffer.from([0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff])) }],
    });
    await s.call('member A: heartbeat', Api.Heartbeat, versions.heartbeat, { groupId: group, generationId: a.generationId, memberId: a.memberId, groupInstanceId: null });
    await s.call('member A: heartbeat with a wrong generation', Api.Heartbeat, versions.heartbeat, { groupId: group, generationId: a.generationId + 5, memberId: a.memberId, groupInstanceId: null });
    await s.call('an unknown member heartbeats', Api.Heartbeat, versions.heartbeat, { groupId: group, generationId: a.generationId, memberId: 'nobody', groupInstanceId: null });
    await s.call('member A: commit', Api.OffsetCommit, versions.commit, {
      groupId: group,
      generationIdOrMemberEpoch: a.generationId,
      memberId: a.memberId,
      groupInstanceId: null,
      topics: [{ name: topic, partitions: [{ partitionIndex: 0, committedOffset: 0, committedLeaderEpoch: -1, committedMetadata: '' }] }],
    });
    await s.call('member A: commit with a wrong generation', Api.OffsetCommit, versions.commit, {
      groupId: group,
      generationIdOrMemberEpoch: a.generationId + 5,
      memberId: a.memberId,
      groupInstanceId: null,
      topics: [{ name: topic, partitions: [{ partitionIndex: 0, committedOffset: 0, committedLeaderEpoch: -1, committedMetadata: '' }] }],
    });
    await s.call('an unknown member commits', Api.OffsetCommit, versions.commit, {
      groupId: group,
      generationIdOrMemberEpoch: a.generationId,
      memberId: 'nobody',
      groupInstanceId: null,
      topics: [{ name: topic, partitions: [{ partitionIndex: 0, committedOffset: 0, committedLeaderEpoch: -1, committedMetadata: '' }] }],
    });

    // Member B joins on its own connection: its JoinGroup parks until A rejoins, and meanwhile A's
    // heartbeat learns of the rebalance.
    // (From v4 a new member's first join only fetches its member id; before, that join is the parked one.)
    const other = await s.connection();
    let bMemberId = '';
    if (v >= 4) bMemberId = (await s.call('member B: join for a member id', Api.JoinGroup, v, joinRequest(group, '', topic), other)).memberId;
    const bJoin = await s.start('member B: join, parked until the rebalance completes', Api.JoinGroup, v, joinRequest(group, bMemberId, topic), other);
    await waitForRebalance(s, versions.heartbeat, group, a);
    const aRejoin = await s.start('member A: rejoin', Api.JoinGroup, v, joinRequest(group, a.memberId, topic));
    const [rejoined, joined] = [await aRejoin(), await bJoin()];
    await s.call('describe the group mid-rebalance', Api.DescribeGroups, 2, { groups: [group], includeAuthorizedOperations: false });
    await s.call('member B: leave', Api.LeaveGroup, versions.leave, leaveRequest(versions.leave, group, joined.memberId));
    await s.call('an unknown member leaves', Api.LeaveGroup, versions.leave, leaveRequest(versions.leave, group, 'nobody'));
    expect(rejoined.generationId).toBe(joined.generationId);
  },

  async [Api.OffsetCommit](s, v, name) {
    const topic = `${name}-t`;
    await s.createTopic(topic, 2);
    const commit = (group: string, generation: number, memberId: string, partitionIndex = 0, t = topic) => ({
      groupId: group,
      generationIdOrMemberEpoch: generation,
      memberId,
      groupInstanceId: null,
      retentionTimeMs: -1,
      topics: [{ name: t, partitions: [{ partitionIndex, committedOffset: 5, committedLeaderEpoch: -1, committedMetadata: 'meta' }] }],
    });
    await s.call('a simple (memberless) commit', Api.OffsetCommit, v, commit(`${name}-g`, -1, ''));
    await s.call('an unknown partition', Api.OffsetCommit, v, commit(`${name}-g`, -1, '', 7));
    await s.call('an unknown topic', Api.OffsetCommit, v, commit(`${name}-g`, -1, '', 0, `${name}-missing`));
    await s.call('a member of a group that does not exist', Api.OffsetCommit, v, commit(`${name}-h`, 3, 'nobody'));
    await s.call('read back', Api.OffsetFetch, 5, { groupId: `${name}-g`, topics: [{ name: topic, partitionIndexes: [0, 1] }], requireStable: false });
  },

  async [Api.OffsetFetch](s, v, name) {
    const topic = `${name}-t`;
    await s.createTopic(topic, 2);
    await s.call('setup: commit', Api.OffsetCommit, 7, {
      groupId: `${name}-g`,
      generationIdOrMemberEpoch: -1,
      memberId: '',
      groupInstanceId: null,
      topics: [{ name: topic, partitions: [{ partitionIndex: 1, committedOffset: 9, committedLeaderEpoch: -1, committedMetadata: 'm' }] }],
    });
    const fetch = (groupId: string, topics: { name: string; partitionIndexes: number[] }[] | null) =>
      v >= 8 ? { groups: [{ groupId, memberId: null, memberEpoch: -1, topics }], requireStable: false } : { groupId, topics, requireStable: false };
    await s.call('chosen partitions', Api.OffsetFetch, v, fetch(`${name}-g`, [{ name: topic, partitionIndexes: [0, 1] }]));
    if (v >= 2) await s.call('every partition (null topics)', Api.OffsetFetch, v, fetch(`${name}-g`, null));
    await s.call('an unknown group', Api.OffsetFetch, v, fetch(`${name}-missing`, [{ name: topic, partitionIndexes: [0] }]));
    if (v >= 8) {
      await s.call('two groups at once', Api.OffsetFetch, v, {
        groups: [
          { groupId: `${name}-g`, memberId: null, memberEpoch: -1, topics: [{ name: topic, partitionIndexes: [1] }] },
          { groupId: `${name}-missing`, memberId: null, memberEpoch: -1, topics: null },
        ],
        requireStable: false,
      });
    }
  },

  async [Api.SyncGroup](s, v, name) {
    const topic = `${name}-t`;
    await s.createTopic(topic, 1);
    const group = `${name}-g`;
    const a = await join(s, 5, group, topic, 'member A');
    const sync = (generationId: number, memberId: string) => ({ groupId: group, generationId, memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range', assignments: [{ memberId: a.memberId, assignment: b64(Buffer.from([0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff])) }] });
    await s.call('an unknown member', Api.SyncGroup, v, sync(a.generationId, 'nobody'));
    await s.call('a wrong generation', Api.SyncGroup, v, sync(a.generationId + 1, a.memberId));
    await s.call('the leader', Api.SyncGroup, v, sync(a.generationId, a.memberId));
    await s.call('an unknown group', Api.SyncGroup, v, { ...sync(1, 'nobody'), groupId: `${name}-missing` });
  },

  async [Api.Heartbeat](s, v, name) {
    const topic = `${name}-t`;
    await s.createTopic(topic, 1);
    const group = `${name}-g`;
    const a = await join(s, 5, group, topic, 'member A');
    const beat = (generationId: number, memberId: string, groupId = group) => ({ groupId, generationId, memberId, groupInstanceId: null });
    await s.call('before sync (the rebalance is not complete)', Api.Heartbeat, v, beat(a.generationId, a.memberId));
    await s.call('setup: sync', Api.SyncGroup, 3, { groupId: group, generationId: a.generationId, memberId: a.memberId, groupInstanceId: null, assignments: [] });
    await s.call('a stable member', Api.Heartbeat, v, beat(a.generationId, a.memberId));
    await s.call('an unknown group', Api.Heartbeat, v, beat(1, 'nobody', `${name}-missing`));
  },

  async [Api.LeaveGroup](s, v, name) {
    const topic = `${name}-t`;
    await s.createTopic(topic, 1);
    const group = `${name}-g`;
    const a = await join(s, 5, group, topic, 'member A');
    const leave = (memberId: string, groupId = group) => leaveRequest(v, groupId, memberId);
    await s.call('an unknown member', Api.LeaveGroup, v, leave('nobody'));
    await s.call('the member', Api.LeaveGroup, v, leave(a.memberId));
    await s.call('describe the emptied group', Api.DescribeGroups, 2, { groups: [group] });
    await s.call('an unknown group', Api.LeaveGroup, v, leave('nobody', `${name}-missing`));
  },

  async [Api.DescribeGroups](s, v, name) {
    const topic = `${name}-t`;
    await s.createTopic(topic, 1);
    const group = `${name}-g`;
    const a = await join(s, 5, group, topic, 'member A');
    await s.call('setup: sync', Api.SyncGroup, 3, { groupId: group, generationId: a.generationId, memberId: a.memberId, groupInstanceId: null, assignments: [{ memberId: a.memberId, assignment: b64(Buffer.from([0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff])) }] });
    await s.call('a stable group and an unknown one', Api.DescribeGroups, v, { groups: [group, `${name}-missing`], includeAuthorizedOperations: false });
  },

  async [Api.ListGroups](s, v, name) {
    await s.call('setup: a group with a commit', Api.OffsetCommit, 7, { groupId: `${name}-g`, generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null, topics: [] });
    const listed = await s.call('every group', Api.ListGroups, v, { statesFilter: [], typesFilter: [] });
    // Only this scenario's group is compared: other scenarios' groups live on the same brokers.
    s.steps.at(-1)!.result = { ...listed, groups: (listed.groups as { groupId: string }[]).filter((g) => g.groupId.startsWith(name)) };
  },

  async [Api.DeleteGroups](s, v, name) {
    const topic = `${name}-t`;
    await s.createTopic(topic, 1);
    await s.call('setup: commit for an empty group', Api.OffsetCommit, 7, { groupId: `${name}-empty`, generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null, topics: [{ name: topic, partitions: [{ partitionIndex: 0, committedOffset: 1, committedLeaderEpoch: -1, committedMetadata: '' }] }] });
    await join(s, 5, `${name}-busy`, topic, 'a member of another group');
    await s.call('an empty, a busy and an unknown group', Api.DeleteGroups, v, { groupsNames: [`${name}-empty`, `${name}-busy`, `${name}-missing`] });
  },

  async [Api.ConsumerGroupHeartbeat](s, v, name) {
    const topic = `${name}-t`;
    await s.createTopic(topic, 2);
    await untilCoordinatorKnows(s, topic, name);
    const group = `${name}-g`;
    // v1 has the client choose its member id; v0 lets the coordinator choose.
    const idA = v >= 1 ? `${name}-member-a` : '';
    const idB = v >= 1 ? `${name}-member-b` : '';
    const beat = (memberId: string, memberEpoch: number, fields: Record<string, unknown> = {}) => ({
      groupId: group,
      memberId,
      memberEpoch,
      instanceId: null,
      rackId: null,
      rebalanceTimeoutMs: -1,
      subscribedTopicNames: null,
      subscribedTopicRegex: null,
      serverAssignor: null,
      topicPartitions: null,
      ...fields,
    });
    const join = (memberId: string) => beat(memberId, 0, { rebalanceTimeoutMs: 10_000, subscribedTopicNames: [topic], topicPartitions: [] });
    const owned = (answer: Record<string, any>) => answer.assignment?.topicPartitions ?? [];

    await s.call('join without a rebalance timeout', Api.ConsumerGroupHeartbeat, v, { ...join(idA), rebalanceTimeoutMs: -1 });
    await s.call('join with an assignor the broker lacks', Api.ConsumerGroupHeartbeat, v, { ...join(idA), serverAssignor: 'sticky-nonexistent' });
    if (v >= 1) await s.call('join without a member id', Api.ConsumerGroupHeartbeat, v, join(''));
    let a = await s.call('member A joins alone', Api.ConsumerGroupHeartbeat, v, join(idA));
    a = await s.call('member A heartbeats', Api.ConsumerGroupHeartbeat, v, beat(a.memberId, a.memberEpoch));
    const b = await s.call('member B joins: its partition is still held by A', Api.ConsumerGroupHeartbeat, v, join(idB));
    const revoke = await s.call('member A is asked to revoke one partition', Api.ConsumerGroupHeartbeat, v, beat(a.memberId, a.memberEpoch, { topicPartitions: owned(a) }));
    a = await s.call('member A has revoked it', Api.ConsumerGroupHeartbeat, v, beat(a.memberId, a.memberEpoch, { topicPartitions: owned(revoke) }));
    const b2 = await s.call('member B gets the released partition', Api.ConsumerGroupHeartbeat, v, beat(b.memberId, b.memberEpoch, { topicPartitions: [] }));
    await s.call('describe the group', Api.ConsumerGroupDescribe, 0, { groupIds: [group, `${name}-missing`], includeAuthorizedOperations: false });
    await s.call('list it', Api.ListGroups, 5, { statesFilter: [], typesFilter: ['consumer'] }).then((listed) => {
      s.steps.at(-1)!.result = { ...listed, groups: (listed.groups as { groupId: string }[]).filter((g) => g.groupId === group) };
    });

    const commit = (memberId: string, epoch: number) => ({
      groupId: group,
      generationIdOrMemberEpoch: epoch,
      memberId,
      groupInstanceId: null,
      topics: [{ name: topic, partitions: [{ partitionIndex: 0, committedOffset: 3, committedLeaderEpoch: -1, committedMetadata: '' }] }],
    });
    await s.call('commit with the member epoch', Api.OffsetCommit, 9, commit(a.memberId, a.memberEpoch));
    await s.call('commit with a stale member epoch', Api.OffsetCommit, 9, commit(a.memberId, a.memberEpoch - 1));
    await s.call('commit by an unknown member', Api.OffsetCommit, 9, commit('nobody', a.memberEpoch));
    await s.call('commit of v8 by a member', Api.OffsetCommit, 8, commit(a.memberId, a.memberEpoch));
    const fetch = (memberId: string | null, memberEpoch: number) => ({ groups: [{ groupId: group, memberId, memberEpoch, topics: [{ name: topic, partitionIndexes: [0] }] }], requireStable: true });
    await s.call('fetch as the member', Api.OffsetFetch, 9, fetch(a.memberId, a.memberEpoch));
    await s.call('fetch with a stale member epoch', Api.OffsetFetch, 9, fetch(a.memberId, a.memberEpoch - 1));
    await s.call('fetch as an admin', Api.OffsetFetch, 9, fetch(null, -1));

    await s.call('a member id the group does not know', Api.ConsumerGroupHeartbeat, v, beat(`${name}-nobody`, 1));
    await s.call('a member epoch ahead of the coordinator', Api.ConsumerGroupHeartbeat, v, beat(a.memberId, a.memberEpoch + 5));
    await s.call('a heartbeat to a group that does not exist', Api.ConsumerGroupHeartbeat, v, { ...beat(`${name}-nobody`, 1), groupId: `${name}-missing` });
    await s.call('member B leaves', Api.ConsumerGroupHeartbeat, v, beat(b2.memberId, -1));
    await s.call('member A leaves', Api.ConsumerGroupHeartbeat, v, beat(a.memberId, -1));
    // librdkafka sends an empty regex beside its topic names.
    const idC = v >= 1 ? `${name}-member-c` : '';
    if (v >= 1) {
      const c = await s.call('member C joins with topic names and an empty regex', Api.ConsumerGroupHeartbeat, v, { ...join(idC), subscribedTopicRegex: '' });
      await s.call('member C leaves', Api.ConsumerGroupHeartbeat, v, beat(c.memberId, -1));
    }
    await s.call('describe the emptied group', Api.ConsumerGroupDescribe, 0, { groupIds: [group], includeAuthorizedOperations: false });
    await s.call('delete it', Api.DeleteGroups, 1, { groupsNames: [group] });
  },

  async [Api.ConsumerGroupDescribe](s, v, name) {
    const topic = `${name}-t`;
    await s.createTopic(topic, 3);
    await untilCoordinatorKnows(s, topic, name);
    const group = `${name}-g`;
    const joined = await s.call('setup: a member joins', Api.ConsumerGroupHeartbeat, 1, {
      groupId: group,
      memberId: `${name}-member`,
      memberEpoch: 0,
      instanceId: null,
      rackId: null,
      rebalanceTimeoutMs: 10_000,
      subscribedTopicNames: [topic],
      subscribedTopicRegex: null,
      serverAssignor: 'range',
      topicPartitions: [],
    });
    await s.call('setup: a classic group', Api.OffsetCommit, 7, { groupId: `${name}-classic`, generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null, topics: [{ name: topic, partitions: [{ partitionIndex: 0, committedOffset: 1, committedLeaderEpoch: -1, committedMetadata: '' }] }] });
    await s.call('a group, an unknown one and a classic one', Api.ConsumerGroupDescribe, v, { groupIds: [group, `${name}-missing`, `${name}-classic`], includeAuthorizedOperations: false });
    await s.call('the classic DescribeGroups of it', Api.DescribeGroups, 2, { groups: [group] });
    await s.call('setup: the member leaves', Api.ConsumerGroupHeartbeat, 1, {
      groupId: group,
      memberId: joined.memberId,
      memberEpoch: -1,
      instanceId: null,
      rackId: null,
      rebalanceTimeoutMs: -1,
      subscribedTopicNames: null,
      subscribedTopicRegex: null,
      serverAssignor: null,
      topicPartitions: null,
    });
  },

  async [Api.DescribeLogDirs](s, v, name) {
    await s.createTopic(`${name}-a`, 1);
    const described = await s.call('one topic', Api.DescribeLogDirs, v, { topics: [{ topic: `${name}-a`, partitions: [0] }] });
    // Where and how large the logs are is each broker's own business: compare the structure.
    s.steps.at(-1)!.result = {
      ...described,
      results: (described.results as Record<string, any>[]).map((dir) => ({
        ...dir,
        logDir: '<dir>',
        topics: (dir.topics as Record<string, any>[]).map((t) => ({ ...t, partitions: (t.partitions as Record<string, any>[]).map((p) => ({ ...p, partitionSize: '<size>' })) })),
      })),
    };
  },
};

/**
 * Kafka's group coordinator learns of a topic from the metadata log a moment after CreateTopics answers,
 * and assigns nothing of a topic it does not know yet. A probe member of its own group heartbeats until it
 * is given the topic's partitions, then leaves; its steps are not compared.
 */
async function untilCoordinatorKnows(s: Session, topic: string, name: string): Promise<void> {
  const recorded = s.steps.length;
  const beat = (memberEpoch: number, fields: Record<string, unknown>) => ({
    groupId: `${name}-probe`,
    memberId: `${name}-probe`,
    memberEpoch,
    instanceId: null,
    rackId: null,
    rebalanceTimeoutMs: -1,
    subscribedTopicNames: null,
    subscribedTopicRegex: null,
    serverAssignor: null,
    topicPartitions: null,
    ...fields,
  });
  let answer = await s.call('probe', Api.ConsumerGroupHeartbeat, 1, beat(0, { rebalanceTimeoutMs: 10_000, subscribedTopicNames: [topic], topicPartitions: [] }));
  for (let attempt = 0; (answer.assignment?.topicPartitions ?? []).length === 0; attempt++) {
    if (attempt > 200) throw new Error(`the group coordinator assigned nothing of ${topic} after 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    answer = await s.call('probe', Api.ConsumerGroupHeartbeat, 1, beat(answer.memberEpoch, {}));
  }
  await s.call('probe', Api.ConsumerGroupHeartbeat, 1, beat(-1, {}));
  s.steps.splice(recorded);
}

/** LeaveGroup names one member by its id before v3, and a list of members from v3. */
function leaveRequest(version: number, groupId: string, memberId: string) {
  return version >= 3 ? { groupId, members: [{ memberId, groupInstanceId: null }] } : { groupId, memberId };
}

/** Heartbeats until the coordinator answers REBALANCE_IN_PROGRESS (member B's join reached it). */
async function waitForRebalance(s: Session, version: number, group: string, a: Record<string, any>): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const answer = await s.call('member A: heartbeat during the rebalance', Api.Heartbeat, version, { groupId: group, generationId: a.generationId, memberId: a.memberId, groupInstanceId: null });
    if (answer.errorCode === 27) return;
    // Not yet: the recorded heartbeat is dropped, so both brokers' records line up however long it took.
    s.steps.pop();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('no REBALANCE_IN_PROGRESS after member B joined');
}
