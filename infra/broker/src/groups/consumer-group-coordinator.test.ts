import Database from 'better-sqlite3';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import type { RequestContext } from '../protocol/api.js';
import { ErrorCode } from '../protocol/error-codes.js';
import type { ConsumerGroupHeartbeatRequest, ConsumerGroupHeartbeatResponse } from '../protocol/messages/consumer-group-heartbeat.js';
import type { OffsetCommitRequest } from '../protocol/messages/offset-commit.js';
import { topicDirectory } from '../testing/topic-directory.js';
import { GroupCoordinator } from './group-coordinator.js';

const HEARTBEAT = 500;
const SESSION = 3000;
const REBALANCE = 2000;
const TOPICS = new Map([
  ['orders', 4],
  ['payments', 2],
]);
const directory = topicDirectory(TOPICS);
const ORDERS = directory.byName('orders')!.uuid;
const PAYMENTS = directory.byName('payments')!.uuid;

function startCoordinator(topics = TOPICS) {
  const db = new Database(':memory:');
  const coordinator = new GroupCoordinator({
    db,
    logger: pino({ level: 'silent' }),
    initialRebalanceDelayMs: 0,
    topicPartitionExists: (topic, partition) => partition >= 0 && partition < (topics.get(topic) ?? 0),
    topics: topicDirectory(topics),
    consumerHeartbeatIntervalMs: HEARTBEAT,
    consumerSessionTimeoutMs: SESSION,
  });
  onTestFinished(() => {
    coordinator.close();
    db.close();
  });
  return coordinator;
}

const context: RequestContext = { connectionId: 1, clientId: 'client', clientHost: '/127.0.0.1', closed: new AbortController().signal };

function heartbeat(coordinator: GroupCoordinator, fields: Partial<ConsumerGroupHeartbeatRequest>, version = 1): ConsumerGroupHeartbeatResponse {
  return coordinator.consumerGroupHeartbeat(
    {
      groupId: 'g',
      memberId: 'a',
      memberEpoch: 0,
      instanceId: null,
      rackId: null,
      rebalanceTimeoutMs: -1,
      subscribedTopicNames: null,
      subscribedTopicRegex: null,
      serverAssignor: null,
      topicPartitions: null,
      ...fields,
    },
    version,
    context,
  );
}

const join = (coordinator: GroupCoordinator, memberId: string, topics = ['orders'], fields: Partial<ConsumerGroupHeartbeatRequest> = {}) =>
  heartbeat(coordinator, { memberId, memberEpoch: 0, rebalanceTimeoutMs: REBALANCE, subscribedTopicNames: topics, topicPartitions: [], ...fields });

/** A member's partitions of `topicId` in an answer's assignment. */
const partitionsOf = (answer: ConsumerGroupHeartbeatResponse, topicId = ORDERS) => answer.assignment?.find((t) => t.topicId === topicId)?.partitions ?? [];

function commit(memberId: string, epoch: number): OffsetCommitRequest {
  return {
    groupId: 'g',
    generationId: epoch,
    memberId,
    groupInstanceId: null,
    retentionTimeMs: -1,
    topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, committedOffset: 7, committedLeaderEpoch: -1, commitTimestamp: -1, committedMetadata: null }] }],
  };
}

const commitError = (response: ReturnType<GroupCoordinator['commitOffsets']>) => response.topics[0]!.partitions[0]!.errorCode;

describe('the consumer group protocol (ConsumerGroupHeartbeat)', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('gives a lone member every subscribed partition at once, with the heartbeat interval', () => {
    const coordinator = startCoordinator();
    const a = join(coordinator, 'a', ['orders', 'payments']);
    expect(a).toMatchObject({ errorCode: ErrorCode.NONE, memberId: 'a', memberEpoch: 2, heartbeatIntervalMs: HEARTBEAT });
    expect(partitionsOf(a)).toEqual([0, 1, 2, 3]);
    expect(partitionsOf(a, PAYMENTS)).toEqual([0, 1]);
    // Nothing changed: the next heartbeat carries no assignment.
    expect(heartbeat(coordinator, { memberId: 'a', memberEpoch: 2 })).toMatchObject({ errorCode: ErrorCode.NONE, memberEpoch: 2, assignment: null });
    expect(coordinator.consumerGroupDescribe({ groupIds: ['g'] }).groups[0]).toMatchObject({ groupState: 'Stable', groupEpoch: 2, assignmentEpoch: 2, assignorName: 'uniform' });
  });

  it('hands a partition to a newcomer only after its owner has revoked it', () => {
    const coordinator = startCoordinator();
    const a = join(coordinator, 'a');
    const b = join(coordinator, 'b');
    // b is at the new epoch, but its partitions are still a's.
    expect(b).toMatchObject({ memberEpoch: 3 });
    expect(partitionsOf(b)).toEqual([]);
    expect(coordinator.consumerGroupDescribe({ groupIds: ['g'] }).groups[0]!.groupState).toBe('Reconciling');

    const revoke = heartbeat(coordinator, { memberId: 'a', memberEpoch: a.memberEpoch, topicPartitions: [{ topicId: ORDERS, partitions: [0, 1, 2, 3] }] });
    expect(revoke.memberEpoch).toBe(3);
    expect(partitionsOf(revoke)).toEqual([0, 1]);
    // Still holding the revoked ones: b gets nothing yet.
    expect(partitionsOf(heartbeat(coordinator, { memberId: 'b', memberEpoch: 3, topicPartitions: [] }))).toEqual([]);

    heartbeat(coordinator, { memberId: 'a', memberEpoch: 3, topicPartitions: [{ topicId: ORDERS, partitions: [0, 1] }] });
    const released = heartbeat(coordinator, { memberId: 'b', memberEpoch: 3, topicPartitions: [] });
    expect(partitionsOf(released)).toEqual([2, 3]);
    expect(coordinator.consumerGroupDescribe({ groupIds: ['g'] }).groups[0]!.groupState).toBe('Stable');
  });

  it('gives a leaving member\'s partitions to the others at the next epoch', () => {
    const coordinator = startCoordinator();
    join(coordinator, 'a');
    join(coordinator, 'b');
    heartbeat(coordinator, { memberId: 'a', memberEpoch: 2, topicPartitions: [{ topicId: ORDERS, partitions: [0, 1, 2, 3] }] });
    heartbeat(coordinator, { memberId: 'a', memberEpoch: 3, topicPartitions: [{ topicId: ORDERS, partitions: [0, 1] }] });
    expect(partitionsOf(heartbeat(coordinator, { memberId: 'b', memberEpoch: 3, topicPartitions: [] }))).toEqual([2, 3]);

    expect(heartbeat(coordinator, { memberId: 'b', memberEpoch: -1 })).toMatchObject({ errorCode: ErrorCode.NONE, memberId: 'b', memberEpoch: -1, heartbeatIntervalMs: 0 });
    const after = heartbeat(coordinator, { memberId: 'a', memberEpoch: 3, topicPartitions: [{ topicId: ORDERS, partitions: [0, 1] }] });
    expect(after.memberEpoch).toBe(4);
    expect(partitionsOf(after)).toEqual([0, 1, 2, 3]);
  });

  it('removes a member whose session expires, and one that does not revoke within its rebalance timeout', async () => {
    const coordinator = startCoordinator();
    join(coordinator, 'a');
    join(coordinator, 'b');
    expect(heartbeat(coordinator, { memberId: 'a', memberEpoch: 2, topicPartitions: [{ topicId: ORDERS, partitions: [0, 1, 2, 3] }] }).memberEpoch).toBe(3);
    // a owes a revocation and never sends it; b keeps heartbeating.
    for (let elapsed = 0; elapsed <= REBALANCE; elapsed += HEARTBEAT) {
      heartbeat(coordinator, { memberId: 'b', memberEpoch: 3, topicPartitions: [] });
      await vi.advanceTimersByTimeAsync(HEARTBEAT);
    }
    expect(heartbeat(coordinator, { memberId: 'a', memberEpoch: 3 }).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    // b's heartbeats in the meantime took a's partitions over at the next epoch.
    const described = coordinator.consumerGroupDescribe({ groupIds: ['g'] }).groups[0]!;
    expect(described.members.map((m) => [m.memberId, m.memberEpoch, m.assignment[0]?.partitions])).toEqual([['b', 4, [0, 1, 2, 3]]]);

    await vi.advanceTimersByTimeAsync(SESSION);
    expect(heartbeat(coordinator, { memberId: 'b', memberEpoch: 4 }).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(coordinator.consumerGroupDescribe({ groupIds: ['g'] }).groups[0]).toMatchObject({ groupState: 'Empty', members: [] });
  });

  it('fences a member epoch ahead of the coordinator, and a stale one unless it is the previous epoch with a subset of the partitions', () => {
    const coordinator = startCoordinator();
    join(coordinator, 'a');
    join(coordinator, 'b');
    heartbeat(coordinator, { memberId: 'a', memberEpoch: 2, topicPartitions: [{ topicId: ORDERS, partitions: [0, 1, 2, 3] }] });
    expect(heartbeat(coordinator, { memberId: 'a', memberEpoch: 9 }).errorCode).toBe(ErrorCode.FENCED_MEMBER_EPOCH);
    // The answer that moved a to epoch 3 got lost: its previous epoch, holding what it keeps, is accepted.
    expect(heartbeat(coordinator, { memberId: 'a', memberEpoch: 2, topicPartitions: [{ topicId: ORDERS, partitions: [0, 1] }] })).toMatchObject({ errorCode: ErrorCode.NONE, memberEpoch: 3 });
    expect(heartbeat(coordinator, { memberId: 'a', memberEpoch: 1, topicPartitions: [] }).errorCode).toBe(ErrorCode.FENCED_MEMBER_EPOCH);
    expect(heartbeat(coordinator, { memberId: 'nobody', memberEpoch: 3 }).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(heartbeat(coordinator, { groupId: 'missing', memberId: 'a', memberEpoch: 3 }).errorCode).toBe(ErrorCode.GROUP_ID_NOT_FOUND);
  });

  it('refuses what Kafka refuses, with its messages', () => {
    const coordinator = startCoordinator();
    expect(join(coordinator, 'a', ['orders'], { rebalanceTimeoutMs: -1 })).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'RebalanceTimeoutMs must be provided in first request.' });
    expect(join(coordinator, 'a', ['orders'], { topicPartitions: null })).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST });
    expect(join(coordinator, '').errorCode).toBe(ErrorCode.INVALID_REQUEST);
    expect(join(coordinator, 'a', ['orders'], { groupId: '' }).errorCode).toBe(ErrorCode.INVALID_REQUEST);
    expect(join(coordinator, 'a', ['orders'], { serverAssignor: 'sticky' }).errorCode).toBe(ErrorCode.UNSUPPORTED_ASSIGNOR);
    expect(join(coordinator, 'a', ['orders'], { subscribedTopicRegex: '(' }).errorCode).toBe(ErrorCode.INVALID_REGULAR_EXPRESSION);
    // An empty regex beside the names (as librdkafka sends) means none.
    expect(join(coordinator, 'e', ['orders'], { groupId: 'other', subscribedTopicRegex: '' }).errorCode).toBe(ErrorCode.NONE);
    expect(heartbeat(coordinator, { memberEpoch: -3 }).errorCode).toBe(ErrorCode.INVALID_REQUEST);
    // v0 lets the coordinator choose the member id.
    const chosen = heartbeat(coordinator, { memberId: '', memberEpoch: 0, rebalanceTimeoutMs: REBALANCE, subscribedTopicNames: ['orders'], topicPartitions: [] }, 0);
    expect(chosen).toMatchObject({ errorCode: ErrorCode.NONE, memberEpoch: 2 });
    expect(chosen.memberId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('follows subscription changes, new partitions and regex subscriptions with a new epoch', () => {
    const topics = new Map([['orders', 2], ['orders-eu', 1], ['payments', 1]]);
    const coordinator = startCoordinator(topics);
    const ids = topicDirectory(topics);
    join(coordinator, 'a', ['orders']);
    const both = heartbeat(coordinator, { memberId: 'a', memberEpoch: 2, subscribedTopicNames: ['orders', 'payments'] });
    expect(both.memberEpoch).toBe(3);
    expect(partitionsOf(both, ids.byName('payments')!.uuid)).toEqual([0]);

    topics.set('orders', 3);
    const grown = heartbeat(coordinator, { memberId: 'a', memberEpoch: 3 });
    expect(grown.memberEpoch).toBe(4);
    expect(partitionsOf(grown, ids.byName('orders')!.uuid)).toEqual([0, 1, 2]);

    const regex = join(coordinator, 'r', [], { subscribedTopicRegex: 'orders.*' });
    expect(coordinator.consumerGroupDescribe({ groupIds: ['g'] }).groups[0]!.members.find((m) => m.memberId === 'r')!.targetAssignment.map((t) => t.topicName).sort()).toEqual(['orders', 'orders-eu']);
    expect(regex.errorCode).toBe(ErrorCode.NONE);
  });

  it('lets a static member leave and come back under a new member id without a new epoch', () => {
    const coordinator = startCoordinator();
    join(coordinator, 'a', ['orders'], { instanceId: 'host-1' });
    expect(heartbeat(coordinator, { memberId: 'a', memberEpoch: -2, instanceId: 'host-1' })).toMatchObject({ errorCode: ErrorCode.NONE, memberEpoch: -2 });
    expect(join(coordinator, 'other', ['orders'], { instanceId: 'host-2' }).memberEpoch).toBe(3);
    const back = join(coordinator, 'a2', ['orders'], { instanceId: 'host-1' });
    expect(back).toMatchObject({ errorCode: ErrorCode.NONE, memberId: 'a2', memberEpoch: 3 });
    // The instance id is taken while its member is active.
    expect(join(coordinator, 'a3', ['orders'], { instanceId: 'host-1' }).errorCode).toBe(ErrorCode.UNRELEASED_INSTANCE_ID);
    expect(coordinator.consumerGroupDescribe({ groupIds: ['g'] }).groups[0]!.members.map((m) => m.memberId).sort()).toEqual(['a2', 'other']);
  });

  it('uses the range assignor when the members ask for it', () => {
    const coordinator = startCoordinator();
    join(coordinator, 'a', ['orders'], { serverAssignor: 'range' });
    join(coordinator, 'b', ['orders'], { serverAssignor: 'range' });
    const described = coordinator.consumerGroupDescribe({ groupIds: ['g'] }).groups[0]!;
    expect(described.assignorName).toBe('range');
    expect(described.members.map((m) => [m.memberId, m.targetAssignment[0]!.partitions])).toEqual([
      ['a', [0, 1]],
      ['b', [2, 3]],
    ]);
  });
});

describe('offsets, listing and deleting of consumer groups', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('takes commits with the current member epoch (v9+), and answers stale epochs and unknown members', () => {
    const coordinator = startCoordinator();
    const a = join(coordinator, 'a');
    expect(commitError(coordinator.commitOffsets(commit('a', a.memberEpoch), 9))).toBe(ErrorCode.NONE);
    expect(commitError(coordinator.commitOffsets(commit('a', a.memberEpoch - 1), 9))).toBe(ErrorCode.STALE_MEMBER_EPOCH);
    expect(commitError(coordinator.commitOffsets(commit('nobody', a.memberEpoch), 9))).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(commitError(coordinator.commitOffsets(commit('a', a.memberEpoch), 8))).toBe(ErrorCode.UNSUPPORTED_VERSION);
    expect(commitError(coordinator.commitOffsets(commit('', -1), 9))).toBe(ErrorCode.UNKNOWN_MEMBER_ID);

    const query = { groupId: 'g', topics: [{ name: 'orders', partitionIndexes: [0] }] };
    expect(coordinator.fetchOffsets({ ...query, memberId: 'a', memberEpoch: a.memberEpoch }, 9).topics[0]!.partitions[0]!.committedOffset).toBe(7);
    expect(coordinator.fetchOffsets({ ...query, memberId: 'a', memberEpoch: 1 }, 9).errorCode).toBe(ErrorCode.STALE_MEMBER_EPOCH);
    expect(coordinator.fetchOffsets({ ...query, memberId: null, memberEpoch: -1 }, 9).errorCode).toBe(ErrorCode.NONE);

    heartbeat(coordinator, { memberId: 'a', memberEpoch: -1 });
    // An empty group takes an admin's commit again.
    expect(commitError(coordinator.commitOffsets(commit('', -1), 9))).toBe(ErrorCode.NONE);
  });

  it('lists consumer groups by type and state, keeps them apart from classic groups, and deletes only empty ones', () => {
    const coordinator = startCoordinator();
    join(coordinator, 'a');
    expect(coordinator.listGroups({ statesFilter: [], typesFilter: ['consumer'] }).groups).toEqual([{ groupId: 'g', protocolType: 'consumer', groupState: 'Stable', groupType: 'consumer' }]);
    expect(coordinator.listGroups({ statesFilter: ['empty'], typesFilter: [] }).groups).toEqual([]);
    expect(coordinator.describeGroups({ groups: ['g'] }).groups[0]).toMatchObject({ groupState: 'Stable', protocolType: 'consumer', protocolData: 'uniform', members: [{ memberId: 'a', clientId: 'client' }] });
    expect(coordinator.deleteGroups({ groupsNames: ['g'] }).results[0]!.errorCode).toBe(ErrorCode.NON_EMPTY_GROUP);

    heartbeat(coordinator, { memberId: 'a', memberEpoch: -1 });
    expect(coordinator.listGroups({ statesFilter: ['Empty'], typesFilter: [] }).groups).toEqual([{ groupId: 'g', protocolType: 'consumer', groupState: 'Empty', groupType: 'consumer' }]);
    expect(coordinator.deleteGroups({ groupsNames: ['g'] }).results[0]!.errorCode).toBe(ErrorCode.NONE);
    expect(coordinator.consumerGroupDescribe({ groupIds: ['g'] }).groups[0]!.errorCode).toBe(ErrorCode.GROUP_ID_NOT_FOUND);
  });
});
