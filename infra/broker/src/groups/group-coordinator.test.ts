import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import type { RequestContext } from '../protocol/api.js';
import { ErrorCode } from '../protocol/error-codes.js';
import type { JoinGroupRequest, JoinGroupResponse } from '../protocol/messages/join-group.js';
import type { OffsetCommitRequest } from '../protocol/messages/offset-commit.js';
import { topicDirectory } from '../testing/topic-directory.js';
import { GroupCoordinator, type GroupCoordinatorOptions } from './group-coordinator.js';

const DELAY = 100;
const SESSION = 6000;
const REBALANCE = 10_000;

/** Topics the fake broker knows, with their partition counts. */
const TOPICS = new Map([
  ['orders', 3],
  ['payments', 1],
]);

function startCoordinator(overrides: Partial<GroupCoordinatorOptions> = {}, db = new Database(':memory:')) {
  const coordinator = new GroupCoordinator({
    db,
    logger: pino({ level: 'silent' }),
    initialRebalanceDelayMs: DELAY,
    topicPartitionExists: (topic, partition) => partition >= 0 && partition < (TOPICS.get(topic) ?? 0),
    topics: topicDirectory(TOPICS),
    ...overrides,
  });
  onTestFinished(() => {
    coordinator.close();
    if (db.open) db.close();
  });
  return coordinator;
}

function connection(clientId = 'client'): RequestContext & { disconnect(): void } {
  const controller = new AbortController();
  return {
    connectionId: 1,
    clientId,
    clientHost: '/127.0.0.1',
    closed: controller.signal,
    disconnect: () => controller.abort(),
  };
}

function joinRequest(overrides: Partial<JoinGroupRequest> = {}): JoinGroupRequest {
  return {
    groupId: 'g',
    sessionTimeoutMs: SESSION,
    rebalanceTimeoutMs: REBALANCE,
    memberId: '',
    groupInstanceId: null,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: Buffer.from('subscription') }],
    ...overrides,
  };
}

/** The JoinGroup v4+ dance: an id is handed out first, the member rejoins with it. Returns the parked join. */
async function joinNewMember(coordinator: GroupCoordinator, overrides: Partial<JoinGroupRequest> = {}, context = connection()) {
  const first = await coordinator.joinGroup(joinRequest(overrides), true, context);
  expect(first.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
  const memberId = first.memberId;
  return { memberId, joined: coordinator.joinGroup(joinRequest({ ...overrides, memberId }), true, context), context };
}

/** What a promise holds right now, without waiting for it. */
async function peek<T>(promise: Promise<T>): Promise<T | 'pending'> {
  return Promise.race([promise, Promise.resolve('pending' as const)]);
}

function describeState(coordinator: GroupCoordinator, groupId = 'g'): string {
  return coordinator.describeGroups({ groups: [groupId] }).groups[0]!.groupState;
}

type JoiningMember = Awaited<ReturnType<typeof joinNewMember>>;

/** Members that joined together and got their JoinGroup answers: the group awaits the leader's SyncGroup. */
async function joinedGroup(coordinator: GroupCoordinator, names: string[]) {
  const members: JoiningMember[] = [];
  for (const name of names) members.push(await joinNewMember(coordinator, {}, connection(name)));
  // Joiners after the first extend the initial delay once.
  await vi.advanceTimersByTimeAsync(DELAY * 2);
  const joins = await Promise.all(members.map((m) => m.joined));
  return { members, generationId: joins[0]!.generationId };
}

/** A follower's SyncGroup: no assignments of its own to give. */
function followerSync(coordinator: GroupCoordinator, member: JoiningMember, generationId: number) {
  return coordinator.syncGroup({ groupId: 'g', generationId, memberId: member.memberId, groupInstanceId: null, assignments: [] }, member.context);
}

/** Brings a group of the given members to Stable; the first one is the leader. */
async function stableGroup(coordinator: GroupCoordinator, names: string[]) {
  const { members, generationId } = await joinedGroup(coordinator, names);
  const [leader, ...followers] = members;
  const assignments = members.map((x) => ({ memberId: x.memberId, assignment: Buffer.from(`for ${x.memberId}`) }));
  await Promise.all([
    coordinator.syncGroup({ groupId: 'g', generationId, memberId: leader!.memberId, groupInstanceId: null, assignments }, leader!.context),
    ...followers.map((m) => followerSync(coordinator, m, generationId)),
  ]);
  expect(describeState(coordinator)).toBe('Stable');
  return { members, generationId };
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('JoinGroup', () => {
  it('asks a v4+ member without id to rejoin with a generated one, then admits it after the initial delay', async () => {
    const coordinator = startCoordinator();
    const first = await coordinator.joinGroup(joinRequest(), true, connection('app'));
    expect(first).toMatchObject({ errorCode: ErrorCode.MEMBER_ID_REQUIRED, generationId: -1 });
    expect(first.memberId).toMatch(/^app-[0-9a-f-]{36}$/);

    const joined = coordinator.joinGroup(joinRequest({ memberId: first.memberId }), true, connection('app'));
    expect(describeState(coordinator)).toBe('PreparingRebalance');
    await vi.advanceTimersByTimeAsync(DELAY - 1);
    expect(await peek(joined)).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);

    expect(await joined).toEqual({
      errorCode: ErrorCode.NONE,
      generationId: 1,
      protocolName: 'range',
      leader: first.memberId,
      memberId: first.memberId,
      members: [{ memberId: first.memberId, groupInstanceId: null, metadata: Buffer.from('subscription') }],
    });
    expect(describeState(coordinator)).toBe('CompletingRebalance');
  });

  it('admits a v0-3 member without id at once (no MEMBER_ID_REQUIRED round)', async () => {
    const coordinator = startCoordinator();
    const joined = coordinator.joinGroup(joinRequest(), false, connection('old'));
    await vi.advanceTimersByTimeAsync(DELAY);
    const response = await joined;
    expect(response.errorCode).toBe(ErrorCode.NONE);
    expect(response.memberId).toMatch(/^old-/);
    expect(response.leader).toBe(response.memberId);
  });

  it('gives the leader (first joiner) every member metadata and followers none', async () => {
    const coordinator = startCoordinator();
    const a = await joinNewMember(coordinator, { protocols: [{ name: 'range', metadata: Buffer.from('a') }] });
    const b = await joinNewMember(coordinator, { protocols: [{ name: 'range', metadata: Buffer.from('b') }] });
    await vi.advanceTimersByTimeAsync(DELAY * 2);
    const [joinA, joinB] = await Promise.all([a.joined, b.joined]);

    expect(joinA.leader).toBe(a.memberId);
    expect(joinB.leader).toBe(a.memberId);
    expect(joinA.generationId).toBe(joinB.generationId);
    expect(joinA.members).toEqual([
      { memberId: a.memberId, groupInstanceId: null, metadata: Buffer.from('a') },
      { memberId: b.memberId, groupInstanceId: null, metadata: Buffer.from('b') },
    ]);
    expect(joinB.members).toEqual([]);
  });

  it('extends the initial delay for every newcomer during it, up to the rebalance timeout', async () => {
    const coordinator = startCoordinator();
    const a = await joinNewMember(coordinator, { rebalanceTimeoutMs: 250 });
    await vi.advanceTimersByTimeAsync(DELAY - 10);
    const b = await joinNewMember(coordinator, { rebalanceTimeoutMs: 250 });
    await vi.advanceTimersByTimeAsync(10);
    expect(await peek(a.joined)).toBe('pending'); // b arrived during the first delay: one more delay

    await vi.advanceTimersByTimeAsync(DELAY - 10);
    const c = await joinNewMember(coordinator, { rebalanceTimeoutMs: 250 });
    await vi.advanceTimersByTimeAsync(10);
    expect(await peek(a.joined)).toBe('pending'); // c arrived during the second delay: the last 50 ms

    await vi.advanceTimersByTimeAsync(50);
    const joins = await Promise.all([a.joined, b.joined, c.joined]);
    expect(joins.map((j) => j.generationId)).toEqual([1, 1, 1]);
    expect(joins[0]!.members).toHaveLength(3);
  });

  it('selects the protocol most members prefer among those all of them support', async () => {
    const coordinator = startCoordinator();
    const protocols = (...names: string[]) => names.map((name) => ({ name, metadata: Buffer.from(name) }));
    const a = await joinNewMember(coordinator, { protocols: protocols('roundrobin', 'range', 'sticky') });
    const b = await joinNewMember(coordinator, { protocols: protocols('range', 'roundrobin') });
    const c = await joinNewMember(coordinator, { protocols: protocols('range', 'roundrobin', 'sticky') });
    await vi.advanceTimersByTimeAsync(DELAY * 3);
    const [joinA] = await Promise.all([a.joined, b.joined, c.joined]);
    expect(joinA.protocolName).toBe('range');
    expect(joinA.members.map((m) => m.metadata.toString())).toEqual(['range', 'range', 'range']);
  });

  it('refuses inconsistent protocols, bad session timeouts, empty group ids and stale member ids', async () => {
    const coordinator = startCoordinator();
    await joinNewMember(coordinator);

    const refused = async (request: Partial<JoinGroupRequest>) => (await coordinator.joinGroup(joinRequest(request), true, connection())).errorCode;
    expect(await refused({ protocolType: 'connect' })).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    expect(await refused({ protocols: [{ name: 'sticky', metadata: Buffer.alloc(0) }] })).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    expect(await refused({ groupId: 'other', protocols: [] })).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    expect(await refused({ groupId: 'other', protocolType: '' })).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    expect(await refused({ sessionTimeoutMs: 999 })).toBe(ErrorCode.INVALID_SESSION_TIMEOUT);
    expect(await refused({ sessionTimeoutMs: 1_800_001 })).toBe(ErrorCode.INVALID_SESSION_TIMEOUT);
    expect(await refused({ groupId: '' })).toBe(ErrorCode.INVALID_GROUP_ID);
    expect(await refused({ memberId: 'nobody' })).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(await refused({ groupId: 'unknown', memberId: 'nobody' })).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    // Refused joins leave no trace of the groups they named.
    expect(describeState(coordinator, 'other')).toBe('Dead');
    expect(describeState(coordinator, 'unknown')).toBe('Dead');
  });

  it('gives a follower rejoining a stable group with unchanged metadata the current generation, without rebalancing', async () => {
    const coordinator = startCoordinator();
    const { members, generationId } = await stableGroup(coordinator, ['a', 'b']);
    const rejoin = await coordinator.joinGroup(joinRequest({ memberId: members[1]!.memberId }), true, members[1]!.context);
    expect(rejoin).toMatchObject({ errorCode: ErrorCode.NONE, generationId, leader: members[0]!.memberId, members: [] });
    expect(describeState(coordinator)).toBe('Stable');
  });

  it('answers a member that lost its JoinGroup answer with the same generation, leader included', async () => {
    const coordinator = startCoordinator();
    const { members, generationId } = await joinedGroup(coordinator, ['a', 'b']);
    const [a, b] = members as [JoiningMember, JoiningMember];
    const again = await coordinator.joinGroup(joinRequest({ memberId: a.memberId }), true, a.context);
    expect(again).toMatchObject({ errorCode: ErrorCode.NONE, generationId, leader: a.memberId });
    expect(again.members.map((m) => m.memberId)).toEqual([a.memberId, b.memberId]);
    expect(describeState(coordinator)).toBe('CompletingRebalance');
  });

  it('rebalances when the leader rejoins, and keeps it as leader', async () => {
    const coordinator = startCoordinator();
    const { members, generationId } = await stableGroup(coordinator, ['a', 'b']);
    const leaderJoin = coordinator.joinGroup(joinRequest({ memberId: members[0]!.memberId }), true, members[0]!.context);
    expect(describeState(coordinator)).toBe('PreparingRebalance');
    const followerJoin = coordinator.joinGroup(joinRequest({ memberId: members[1]!.memberId }), true, members[1]!.context);
    // Everybody rejoined: no need to wait for the rebalance timeout.
    const [leader, follower] = await Promise.all([leaderJoin, followerJoin]);
    expect(leader.generationId).toBe(generationId + 1);
    expect(follower.leader).toBe(members[0]!.memberId);
  });
});

describe('rebalancing', () => {
  it('makes members of the old generation rejoin through their heartbeat when a member joins', async () => {
    const coordinator = startCoordinator();
    const { members, generationId } = await stableGroup(coordinator, ['a', 'b']);
    const [a, b] = members as [JoiningMember, JoiningMember];

    const c = await joinNewMember(coordinator, {}, connection('c'));
    expect(describeState(coordinator)).toBe('PreparingRebalance');
    const heartbeat = (memberId: string) => coordinator.heartbeat({ groupId: 'g', generationId, memberId, groupInstanceId: null }).errorCode;
    expect(heartbeat(a.memberId)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    expect(
      (await followerSync(coordinator, b, generationId)).errorCode,
    ).toBe(ErrorCode.REBALANCE_IN_PROGRESS);

    const joinA = coordinator.joinGroup(joinRequest({ memberId: a.memberId }), true, a.context);
    expect(await peek(c.joined)).toBe('pending');
    const joinB = coordinator.joinGroup(joinRequest({ memberId: b.memberId }), true, b.context);
    const joins = await Promise.all([joinA, joinB, c.joined]);

    expect(joins.map((j) => j.generationId)).toEqual([generationId + 1, generationId + 1, generationId + 1]);
    expect(joins.map((j) => j.leader)).toEqual([a.memberId, a.memberId, a.memberId]);
    expect(heartbeat(a.memberId)).toBe(ErrorCode.ILLEGAL_GENERATION);
  });

  it('removes members that do not rejoin within the rebalance timeout', async () => {
    const coordinator = startCoordinator();
    const { members, generationId } = await stableGroup(coordinator, ['a', 'b']);
    const [a, b] = members as [JoiningMember, JoiningMember];
    // b keeps heartbeating but never rejoins, so only the rebalance timeout ends the rebalance.
    const joinA = coordinator.joinGroup(joinRequest({ memberId: a.memberId, rebalanceTimeoutMs: 3000 }), true, a.context);
    const beat = setInterval(() => coordinator.heartbeat({ groupId: 'g', generationId, memberId: b.memberId, groupInstanceId: null }), 1000);
    onTestFinished(() => clearInterval(beat));

    await vi.advanceTimersByTimeAsync(REBALANCE - 1);
    expect(await peek(joinA)).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    const joined = await joinA;
    expect(joined.generationId).toBe(generationId + 1);
    expect(joined.members.map((m) => m.memberId)).toEqual([a.memberId]);
    expect(coordinator.heartbeat({ groupId: 'g', generationId, memberId: b.memberId, groupInstanceId: null }).errorCode).toBe(
      ErrorCode.UNKNOWN_MEMBER_ID,
    );
  });

  it('elects the first rejoiner as leader when the old leader is gone', async () => {
    const coordinator = startCoordinator();
    const { members } = await stableGroup(coordinator, ['a', 'b', 'c']);
    const [a, b, c] = members as [JoiningMember, JoiningMember, JoiningMember];
    const left = coordinator.leaveGroup({ groupId: 'g', members: [{ memberId: a.memberId, groupInstanceId: null }] });
    expect(left.members[0]!.errorCode).toBe(ErrorCode.NONE);
    const joinC = coordinator.joinGroup(joinRequest({ memberId: c.memberId }), true, c.context);
    const joinB = coordinator.joinGroup(joinRequest({ memberId: b.memberId }), true, b.context);
    const [fromC, fromB] = await Promise.all([joinC, joinB]);
    expect(fromC.leader).toBe(c.memberId);
    expect(fromB.leader).toBe(c.memberId);
    expect(fromC.members.map((m) => m.memberId).sort()).toEqual([b.memberId, c.memberId].sort());
  });

  it('expires a silent member after its session timeout and rebalances the others', async () => {
    const coordinator = startCoordinator();
    const { members, generationId } = await stableGroup(coordinator, ['a', 'b']);
    const [a, b] = members as [JoiningMember, JoiningMember];
    const beat = setInterval(() => coordinator.heartbeat({ groupId: 'g', generationId, memberId: a.memberId, groupInstanceId: null }), 1000);
    onTestFinished(() => clearInterval(beat));

    await vi.advanceTimersByTimeAsync(SESSION - 1);
    expect(describeState(coordinator)).toBe('Stable');
    await vi.advanceTimersByTimeAsync(1);
    expect(describeState(coordinator)).toBe('PreparingRebalance');
    expect(coordinator.heartbeat({ groupId: 'g', generationId, memberId: b.memberId, groupInstanceId: null }).errorCode).toBe(
      ErrorCode.UNKNOWN_MEMBER_ID,
    );
    const rejoined = await coordinator.joinGroup(joinRequest({ memberId: a.memberId }), true, a.context);
    expect(rejoined.members.map((m) => m.memberId)).toEqual([a.memberId]);
  });

  it('does not expire members waiting for their JoinGroup answer', async () => {
    const coordinator = startCoordinator();
    const { members } = await stableGroup(coordinator, ['a', 'b']);
    const [a] = members as [JoiningMember];
    // a rejoins and then waits (no heartbeats possible) for b, which stays silent.
    const joinA = coordinator.joinGroup(joinRequest({ memberId: a.memberId, sessionTimeoutMs: 2000 }), true, a.context);
    await vi.advanceTimersByTimeAsync(REBALANCE);
    const joined = await joinA;
    expect(joined.errorCode).toBe(ErrorCode.NONE);
    expect(joined.members.map((m) => m.memberId)).toEqual([a.memberId]);
  });

  it('keeps a member whose connection closed during its join until its session expires', async () => {
    const coordinator = startCoordinator();
    const a = await joinNewMember(coordinator, {}, connection('a'));
    a.context.disconnect();
    expect((await a.joined).errorCode).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE); // nobody reads it anyway
    await vi.advanceTimersByTimeAsync(DELAY);
    expect(describeState(coordinator)).toBe('CompletingRebalance');
    await vi.advanceTimersByTimeAsync(SESSION);
    expect(describeState(coordinator)).toBe('Dead'); // expired, the group emptied and nothing was committed
  });

  it('goes back to Empty when the last member leaves, and forgets the group if nothing was committed', async () => {
    const coordinator = startCoordinator();
    const { members } = await stableGroup(coordinator, ['a']);
    coordinator.leaveGroup({ groupId: 'g', members: [{ memberId: members[0]!.memberId, groupInstanceId: null }] });
    expect(describeState(coordinator)).toBe('Dead');
    expect(coordinator.listGroups().groups).toEqual([]);
  });
});

describe('SyncGroup', () => {
  it('parks followers until the leader sends the assignment, then serves it from the stable group', async () => {
    const coordinator = startCoordinator();
    const { members, generationId } = await joinedGroup(coordinator, ['a', 'b']);
    const [a, b] = members as [JoiningMember, JoiningMember];
    const syncB = followerSync(coordinator, b, generationId);
    expect(await peek(syncB)).toBe('pending');
    const syncA = coordinator.syncGroup(
      {
        groupId: 'g',
        generationId,
        memberId: a.memberId,
        groupInstanceId: null,
        assignments: [
          { memberId: a.memberId, assignment: Buffer.from('A') },
          { memberId: b.memberId, assignment: Buffer.from('B') },
          { memberId: 'not-a-member', assignment: Buffer.from('X') },
        ],
      },
      a.context,
    );
    expect(await syncA).toEqual({ errorCode: ErrorCode.NONE, assignment: Buffer.from('A') });
    expect(await syncB).toEqual({ errorCode: ErrorCode.NONE, assignment: Buffer.from('B') });
    expect(describeState(coordinator)).toBe('Stable');

    const again = await followerSync(coordinator, b, generationId);
    expect(again).toEqual({ errorCode: ErrorCode.NONE, assignment: Buffer.from('B') });
  });

  it('answers parked followers REBALANCE_IN_PROGRESS when a member joins before the leader syncs', async () => {
    const coordinator = startCoordinator();
    const { members, generationId } = await joinedGroup(coordinator, ['a', 'b']);
    const b = members[1]!;
    const syncB = followerSync(coordinator, b, generationId);
    await joinNewMember(coordinator, {}, connection('c'));
    expect(await syncB).toEqual({ errorCode: ErrorCode.REBALANCE_IN_PROGRESS, assignment: Buffer.alloc(0) });
  });

  it('refuses unknown groups and members and wrong generations', async () => {
    const coordinator = startCoordinator();
    const { members, generationId } = await stableGroup(coordinator, ['a']);
    const sync = async (groupId: string, generation: number, memberId: string) =>
      (await coordinator.syncGroup({ groupId, generationId: generation, memberId, groupInstanceId: null, assignments: [] }, connection())).errorCode;
    expect(await sync('nope', generationId, members[0]!.memberId)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(await sync('g', generationId, 'nobody')).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(await sync('g', generationId + 1, members[0]!.memberId)).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect(await sync('', generationId, members[0]!.memberId)).toBe(ErrorCode.INVALID_GROUP_ID);
  });

  it('drops a parked sync whose connection closed; the member then expires with its session', async () => {
    const coordinator = startCoordinator();
    const { members, generationId } = await joinedGroup(coordinator, ['a', 'b']);
    const b = members[1]!;
    const syncB = followerSync(coordinator, b, generationId);
    b.context.disconnect();
    expect((await syncB).errorCode).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE);

    // The leader never syncs either: both sessions run out and the group is gone.
    await vi.advanceTimersByTimeAsync(SESSION - 1);
    expect(describeState(coordinator)).toBe('CompletingRebalance');
    await vi.advanceTimersByTimeAsync(1);
    expect(describeState(coordinator)).toBe('Dead');
  });
});

describe('Heartbeat and LeaveGroup', () => {
  it('answers heartbeats by state, membership and generation', async () => {
    const coordinator = startCoordinator();
    const { members, generationId } = await stableGroup(coordinator, ['a']);
    const memberId = members[0]!.memberId;
    const heartbeat = (groupId: string, generation: number, member: string) =>
      coordinator.heartbeat({ groupId, generationId: generation, memberId: member, groupInstanceId: null }).errorCode;
    expect(heartbeat('g', generationId, memberId)).toBe(ErrorCode.NONE);
    expect(heartbeat('g', generationId - 1, memberId)).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect(heartbeat('g', generationId, 'nobody')).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(heartbeat('unknown', generationId, memberId)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(heartbeat('', generationId, memberId)).toBe(ErrorCode.INVALID_GROUP_ID);
  });

  it('reports per-member results in the v3 shape and lets pending members leave', async () => {
    const coordinator = startCoordinator();
    const { members } = await stableGroup(coordinator, ['a', 'b']);
    const pending = await coordinator.joinGroup(joinRequest(), true, connection('c'));
    const response = coordinator.leaveGroup({
      groupId: 'g',
      members: [
        { memberId: members[1]!.memberId, groupInstanceId: null },
        { memberId: pending.memberId, groupInstanceId: null },
        { memberId: 'nobody', groupInstanceId: 'instance-1' },
      ],
    });
    expect(response).toEqual({
      errorCode: ErrorCode.NONE,
      members: [
        { memberId: members[1]!.memberId, groupInstanceId: null, errorCode: ErrorCode.NONE },
        { memberId: pending.memberId, groupInstanceId: null, errorCode: ErrorCode.NONE },
        { memberId: 'nobody', groupInstanceId: 'instance-1', errorCode: ErrorCode.UNKNOWN_MEMBER_ID },
      ],
    });
    expect(describeState(coordinator)).toBe('PreparingRebalance');
    expect(coordinator.leaveGroup({ groupId: 'unknown', members: [{ memberId: 'x', groupInstanceId: null }] }).members[0]!.errorCode).toBe(
      ErrorCode.UNKNOWN_MEMBER_ID,
    );
  });
});

describe('offsets', () => {
  const commit = (overrides: Partial<OffsetCommitRequest> = {}): OffsetCommitRequest => ({
    groupId: 'g',
    generationId: -1,
    memberId: '',
    groupInstanceId: null,
    retentionTimeMs: -1,
    topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, committedOffset: 42, committedLeaderEpoch: 3, commitTimestamp: -1, committedMetadata: 'meta' }] }],
    ...overrides,
  });
  const errors = (response: { topics: { partitions: { errorCode: number }[] }[] }) => response.topics.flatMap((t) => t.partitions.map((p) => p.errorCode));

  it('accepts unmanaged commits (generation -1) for a group without members, and fetches them back', () => {
    const coordinator = startCoordinator();
    expect(errors(coordinator.commitOffsets(commit()))).toEqual([ErrorCode.NONE]);
    const fetched = coordinator.fetchOffsets({ groupId: 'g', topics: [{ name: 'orders', partitionIndexes: [0, 1, 7] }, { name: 'nope', partitionIndexes: [0] }] });
    expect(fetched).toEqual({
      groupId: 'g',
      errorCode: ErrorCode.NONE,
      topics: [
        {
          name: 'orders',
          partitions: [
            { partitionIndex: 0, committedOffset: 42, committedLeaderEpoch: 3, metadata: 'meta', errorCode: ErrorCode.NONE },
            { partitionIndex: 1, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode: ErrorCode.NONE },
            { partitionIndex: 7, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION },
          ],
        },
        {
          name: 'nope',
          partitions: [{ partitionIndex: 0, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION }],
        },
      ],
    });
    expect(describeState(coordinator)).toBe('Empty');
  });

  it('fetches every committed offset of the group when topics is null, and stores null metadata as empty', () => {
    const coordinator = startCoordinator();
    coordinator.commitOffsets(
      commit({
        topics: [
          { name: 'payments', partitions: [{ partitionIndex: 0, committedOffset: 5, committedLeaderEpoch: -1, commitTimestamp: -1, committedMetadata: null }] },
          { name: 'orders', partitions: [{ partitionIndex: 2, committedOffset: 7, committedLeaderEpoch: -1, commitTimestamp: -1, committedMetadata: 'x' }] },
        ],
      }),
    );
    coordinator.commitOffsets(commit({ groupId: 'other' }));
    expect(coordinator.fetchOffsets({ groupId: 'g', topics: null })).toEqual({
      groupId: 'g',
      errorCode: ErrorCode.NONE,
      topics: [
        { name: 'orders', partitions: [{ partitionIndex: 2, committedOffset: 7, committedLeaderEpoch: -1, metadata: 'x', errorCode: 0 }] },
        { name: 'payments', partitions: [{ partitionIndex: 0, committedOffset: 5, committedLeaderEpoch: -1, metadata: '', errorCode: 0 }] },
      ],
    });
  });

  it('checks membership and generation of managed commits', async () => {
    const coordinator = startCoordinator();
    const { members, generationId } = await stableGroup(coordinator, ['a']);
    const memberId = members[0]!.memberId;
    expect(errors(coordinator.commitOffsets(commit({ generationId, memberId })))).toEqual([ErrorCode.NONE]);
    expect(errors(coordinator.commitOffsets(commit()))).toEqual([ErrorCode.UNKNOWN_MEMBER_ID]);
    expect(errors(coordinator.commitOffsets(commit({ generationId, memberId: 'nobody' })))).toEqual([ErrorCode.UNKNOWN_MEMBER_ID]);
    expect(errors(coordinator.commitOffsets(commit({ generationId: generationId + 1, memberId })))).toEqual([ErrorCode.ILLEGAL_GENERATION]);
    expect(errors(coordinator.commitOffsets(commit({ groupId: 'unknown', generationId: 3, memberId }), 7))).toEqual([ErrorCode.ILLEGAL_GENERATION]);
    // v9+ may carry a consumer group's member epoch: Kafka reports the group missing instead.
    expect(errors(coordinator.commitOffsets(commit({ groupId: 'unknown', generationId: 3, memberId }), 9))).toEqual([ErrorCode.GROUP_ID_NOT_FOUND]);

    // PreparingRebalance: the current generation may still commit what it processed.
    await joinNewMember(coordinator, {}, connection('b'));
    expect(describeState(coordinator)).toBe('PreparingRebalance');
    expect(errors(coordinator.commitOffsets(commit({ generationId, memberId })))).toEqual([ErrorCode.NONE]);

    // CompletingRebalance: a member of the new generation must sync first.
    await coordinator.joinGroup(joinRequest({ memberId }), true, members[0]!.context);
    expect(describeState(coordinator)).toBe('CompletingRebalance');
    expect(errors(coordinator.commitOffsets(commit({ generationId: generationId + 1, memberId })))).toEqual([ErrorCode.REBALANCE_IN_PROGRESS]);
  });

  it('reports unknown partitions and oversized metadata per partition', () => {
    const coordinator = startCoordinator();
    const response = coordinator.commitOffsets(
      commit({
        topics: [
          {
            name: 'orders',
            partitions: [
              { partitionIndex: 1, committedOffset: 1, committedLeaderEpoch: -1, commitTimestamp: -1, committedMetadata: 'x'.repeat(4097) },
              { partitionIndex: 3, committedOffset: 1, committedLeaderEpoch: -1, commitTimestamp: -1, committedMetadata: null },
              { partitionIndex: 2, committedOffset: 9, committedLeaderEpoch: -1, commitTimestamp: -1, committedMetadata: null },
            ],
          },
          { name: 'nope', partitions: [{ partitionIndex: 0, committedOffset: 1, committedLeaderEpoch: -1, commitTimestamp: -1, committedMetadata: null }] },
        ],
      }),
    );
    expect(errors(response)).toEqual([
      ErrorCode.OFFSET_METADATA_TOO_LARGE,
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      ErrorCode.NONE,
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    ]);
    expect(coordinator.fetchOffsets({ groupId: 'g', topics: null }).topics).toEqual([
      { name: 'orders', partitions: [{ partitionIndex: 2, committedOffset: 9, committedLeaderEpoch: -1, metadata: '', errorCode: 0 }] },
    ]);
  });

  it('keeps committed offsets across a restart, where the group shows as Empty', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shoal-groups-'));
    onTestFinished(() => fs.rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'broker.db');

    const before = startCoordinator({}, new Database(file));
    before.commitOffsets(commit());
    before.close();

    const after = startCoordinator({}, new Database(file));
    expect(after.fetchOffsets({ groupId: 'g', topics: [{ name: 'orders', partitionIndexes: [0] }] }).topics[0]!.partitions[0]).toMatchObject({
      committedOffset: 42,
      committedLeaderEpoch: 3,
      metadata: 'meta',
    });
    expect(after.listGroups()).toEqual({ errorCode: ErrorCode.NONE, groups: [{ groupId: 'g', protocolType: '', groupState: 'Empty', groupType: 'classic' }] });
    expect(describeState(after)).toBe('Empty');
  });

  it('forgets the offsets of a deleted topic', () => {
    const coordinator = startCoordinator();
    coordinator.commitOffsets(commit());
    coordinator.deleteTopicOffsets('orders');
    expect(coordinator.fetchOffsets({ groupId: 'g', topics: null }).topics).toEqual([]);
    expect(describeState(coordinator)).toBe('Dead');
  });
});

describe('DescribeGroups, ListGroups and DeleteGroups', () => {
  it('describes a stable group with its members, metadata and assignments', async () => {
    const coordinator = startCoordinator();
    const { members } = await stableGroup(coordinator, ['a', 'b']);
    const described = coordinator.describeGroups({ groups: ['g', 'unknown'] });
    expect(described.groups[0]).toEqual({
      errorCode: ErrorCode.NONE,
      groupId: 'g',
      groupState: 'Stable',
      protocolType: 'consumer',
      protocolData: 'range',
      members: members.map((m, i) => ({
        memberId: m.memberId,
        clientId: ['a', 'b'][i],
        clientHost: '/127.0.0.1',
        memberMetadata: Buffer.from('subscription'),
        memberAssignment: Buffer.from(`for ${m.memberId}`),
      })),
    });
    expect(described.groups[1]).toEqual({ errorCode: 0, groupId: 'unknown', groupState: 'Dead', protocolType: '', protocolData: '', members: [] });
  });

  it('lists groups with members and groups with only offsets', async () => {
    const coordinator = startCoordinator();
    await stableGroup(coordinator, ['a']);
    coordinator.commitOffsets({ groupId: 'offsets-only', generationId: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1, topics: [] });
    expect(coordinator.listGroups().groups).toEqual([{ groupId: 'g', protocolType: 'consumer', groupState: 'Stable', groupType: 'classic' }]); // nothing was committed for offsets-only
    coordinator.commitOffsets({
      groupId: 'offsets-only',
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      retentionTimeMs: -1,
      topics: [{ name: 'payments', partitions: [{ partitionIndex: 0, committedOffset: 1, committedLeaderEpoch: -1, commitTimestamp: -1, committedMetadata: null }] }],
    });
    expect(coordinator.listGroups().groups).toEqual([
      { groupId: 'g', protocolType: 'consumer', groupState: 'Stable', groupType: 'classic' },
      { groupId: 'offsets-only', protocolType: '', groupState: 'Empty', groupType: 'classic' },
    ]);
  });

  it('deletes only groups without members, with their offsets', async () => {
    const coordinator = startCoordinator();
    await stableGroup(coordinator, ['a']);
    coordinator.commitOffsets({
      groupId: 'idle',
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      retentionTimeMs: -1,
      topics: [{ name: 'payments', partitions: [{ partitionIndex: 0, committedOffset: 1, committedLeaderEpoch: -1, commitTimestamp: -1, committedMetadata: null }] }],
    });
    expect(coordinator.deleteGroups({ groupsNames: ['g', 'idle', 'unknown'] }).results).toEqual([
      { groupId: 'g', errorCode: ErrorCode.NON_EMPTY_GROUP },
      { groupId: 'idle', errorCode: ErrorCode.NONE },
      { groupId: 'unknown', errorCode: ErrorCode.GROUP_ID_NOT_FOUND },
    ]);
    expect(describeState(coordinator, 'idle')).toBe('Dead');
    expect(coordinator.fetchOffsets({ groupId: 'idle', topics: null }).topics).toEqual([]);
  });
});

describe('close', () => {
  it('answers parked requests and every later request with COORDINATOR_NOT_AVAILABLE', async () => {
    const coordinator = startCoordinator();
    const a = await joinNewMember(coordinator);
    coordinator.close();
    const parked: JoinGroupResponse = await a.joined;
    expect(parked.errorCode).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    expect((await coordinator.joinGroup(joinRequest(), true, connection())).errorCode).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    expect(coordinator.heartbeat({ groupId: 'g', generationId: 1, memberId: a.memberId, groupInstanceId: null }).errorCode).toBe(
      ErrorCode.COORDINATOR_NOT_AVAILABLE,
    );
    expect(coordinator.fetchOffsets({ groupId: 'g', topics: null }).errorCode).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    expect(coordinator.listGroups().errorCode).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    expect(vi.getTimerCount()).toBe(0);
  });
});
