import { randomUUID } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import type { Logger } from 'pino';
import type { RequestContext } from '../protocol/api.js';
import { ErrorCode } from '../protocol/error-codes.js';
import type { DescribedGroup, DescribeGroupsRequest, DescribeGroupsResponse } from '../protocol/messages/describe-groups.js';
import type { DeleteGroupsRequest, DeleteGroupsResponse } from '../protocol/messages/delete-groups.js';
import type { HeartbeatRequest, HeartbeatResponse } from '../protocol/messages/heartbeat.js';
import type { JoinGroupRequest, JoinGroupResponse } from '../protocol/messages/join-group.js';
import type { LeaveGroupRequest, LeaveGroupResponse } from '../protocol/messages/leave-group.js';
import type { ListedGroup, ListGroupsRequest, ListGroupsResponse } from '../protocol/messages/list-groups.js';
import type { OffsetCommitRequest, OffsetCommitResponse } from '../protocol/messages/offset-commit.js';
import { offsetFetchGroupError, type OffsetFetchRequestGroup, type OffsetFetchResponseGroup, type OffsetFetchResponsePartition } from '../protocol/messages/offset-fetch.js';
import type { ConsumerGroupDescribeRequest, ConsumerGroupDescribeResponse } from '../protocol/messages/consumer-group-describe.js';
import type { ConsumerGroupHeartbeatRequest, ConsumerGroupHeartbeatResponse } from '../protocol/messages/consumer-group-heartbeat.js';
import { OffsetCommit } from '../protocol/messages/offset-commit.js';
import { OffsetFetch } from '../protocol/messages/offset-fetch.js';
import { ConsumerGroupCoordinator, consumerGroupDefaults, type TopicDirectory } from './consumer-group-coordinator.js';
import type { SyncGroupRequest, SyncGroupResponse } from '../protocol/messages/sync-group.js';
import { EMPTY_BYTES, Group, Member, ParkedResponse, type MemberProtocol } from './group.js';
import { OffsetStore, type CommittedOffset } from './offset-store.js';

/**
 * Kafka's classic group coordinator (the JoinGroup/SyncGroup protocol), for one broker that coordinates
 * every group. States and transitions follow Kafka's GroupCoordinator:
 *
 *   Empty --join--> PreparingRebalance --all rejoined / rebalance timeout--> CompletingRebalance
 *   CompletingRebalance --leader's SyncGroup--> Stable
 *   Stable / CompletingRebalance --join with new metadata, leader join, leave, session expiry--> PreparingRebalance
 *   PreparingRebalance --nobody left--> Empty
 *
 * "Dead" is only ever reported, for groups this broker does not know: an Empty group with no member is
 * dropped from memory at once, and from then on it exists only through its committed offsets.
 *
 * Static membership (group_instance_id, KIP-345) is accepted on the wire but handled as dynamic membership:
 * a restarted static member gets a new member id and causes a rebalance, which is always safe, only slower.
 *
 * Groups of the consumer group protocol (KIP-848, ConsumerGroupHeartbeat) are run by the
 * ConsumerGroupCoordinator this coordinator owns; a group id belongs to one protocol at a time. Offsets,
 * listing, describing and deleting cover both.
 */
export interface GroupCoordinatorOptions {
  /** The broker's SQLite database; the coordinator creates its tables in it. */
  db: Database;
  logger: Logger;
  /** Like group.initial.rebalance.delay.ms: how long a group leaving Empty waits for more members. */
  initialRebalanceDelayMs: number;
  /** Kafka's default is 6000; lower by default so tests can use short sessions. */
  minSessionTimeoutMs?: number;
  maxSessionTimeoutMs?: number;
  topicPartitionExists(topic: string, partition: number): boolean;
  /** Topic ids and partition counts, for the consumer group protocol's assignments. */
  topics: TopicDirectory;
  /** group.consumer.heartbeat.interval.ms (consumer group protocol); Kafka's default 5000. */
  consumerHeartbeatIntervalMs?: number;
  /** group.consumer.session.timeout.ms (consumer group protocol); Kafka's default 45000. */
  consumerSessionTimeoutMs?: number;
  /** Clock for commit timestamps; injected for tests. */
  now?: () => number;
}

const defaultOptions = {
  minSessionTimeoutMs: 1000,
  maxSessionTimeoutMs: 1_800_000,
} satisfies Partial<GroupCoordinatorOptions>;

/** Kafka's offset.metadata.max.bytes default. */
const MAX_OFFSET_METADATA_LENGTH = 4096;

/** Member ids embed the client id; a longer one could not be written back as a protocol STRING (32767 bytes). */
const MAX_MEMBER_ID_PREFIX_CHARS = 1000;

export class GroupCoordinator {
  readonly logger: Logger;
  private readonly offsets: OffsetStore;
  private readonly groups = new Map<string, Group>();
  private readonly initialRebalanceDelayMs: number;
  private readonly minSessionTimeoutMs: number;
  private readonly maxSessionTimeoutMs: number;
  private readonly topicPartitionExists: (topic: string, partition: number) => boolean;
  private readonly consumerGroups: ConsumerGroupCoordinator;
  private joinSequence = 0;
  private closed = false;

  constructor(options: GroupCoordinatorOptions) {
    this.logger = options.logger;
    this.offsets = new OffsetStore(options.db, options.now);
    this.initialRebalanceDelayMs = Math.max(0, options.initialRebalanceDelayMs);
    this.minSessionTimeoutMs = options.minSessionTimeoutMs ?? defaultOptions.minSessionTimeoutMs;
    this.maxSessionTimeoutMs = options.maxSessionTimeoutMs ?? defaultOptions.maxSessionTimeoutMs;
    this.topicPartitionExists = options.topicPartitionExists;
    this.consumerGroups = new ConsumerGroupCoordinator({
      logger: options.logger.child({ protocol: 'consumer' }),
      topics: options.topics,
      heartbeatIntervalMs: options.consumerHeartbeatIntervalMs ?? consumerGroupDefaults.heartbeatIntervalMs,
      sessionTimeoutMs: options.consumerSessionTimeoutMs ?? consumerGroupDefaults.sessionTimeoutMs,
      isClassicGroup: (groupId) => this.groups.has(groupId),
      timer: (delayMs, work) => this.timer(delayMs, work),
    });
  }

  // ---------------------------------------------------------------------------------------------------
  // The consumer group protocol: ConsumerGroupHeartbeat, ConsumerGroupDescribe

  consumerGroupHeartbeat(request: ConsumerGroupHeartbeatRequest, version: number, context: RequestContext): ConsumerGroupHeartbeatResponse {
    if (this.closed) {
      return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, errorMessage: null, memberId: null, memberEpoch: 0, heartbeatIntervalMs: 0, assignment: null };
    }
    return this.consumerGroups.heartbeat(request, version, context);
  }

  consumerGroupDescribe(request: ConsumerGroupDescribeRequest): ConsumerGroupDescribeResponse {
    if (this.closed) {
      return {
        groups: request.groupIds.map((groupId) => ({
          errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE,
          errorMessage: null,
          groupId,
          groupState: '',
          groupEpoch: 0,
          assignmentEpoch: 0,
          assignorName: '',
          members: [],
        })),
      };
    }
    return this.consumerGroups.describe(request);
  }

  // ---------------------------------------------------------------------------------------------------
  // Membership: JoinGroup, SyncGroup, Heartbeat, LeaveGroup

  /**
   * Answers at once for errors and for members whose join changes nothing; otherwise parks the answer
   * until the rebalance completes. `requireKnownMemberId` is JoinGroup v4+.
   */
  joinGroup(request: JoinGroupRequest, requireKnownMemberId: boolean, context: RequestContext): Promise<JoinGroupResponse> {
    const { groupId, memberId } = request;
    if (this.closed) return Promise.resolve(joinError(memberId, ErrorCode.COORDINATOR_NOT_AVAILABLE));
    if (groupId === '') return Promise.resolve(joinError(memberId, ErrorCode.INVALID_GROUP_ID));
    if (request.sessionTimeoutMs < this.minSessionTimeoutMs || request.sessionTimeoutMs > this.maxSessionTimeoutMs) {
      return Promise.resolve(joinError(memberId, ErrorCode.INVALID_SESSION_TIMEOUT));
    }

    // Kafka lets classic members into a consumer group (migration); the embedded broker keeps the protocols apart.
    if (this.consumerGroups.get(groupId) !== undefined) return Promise.resolve(joinError(memberId, ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    let group = this.groups.get(groupId);
    if (group === undefined) {
      // Only a member without an id may create a group; a known id for an unknown group is stale.
      if (memberId !== '') return Promise.resolve(joinError(memberId, ErrorCode.UNKNOWN_MEMBER_ID));
      group = new Group(groupId);
      this.groups.set(groupId, group);
    }

    const response = this.join(group, request, requireKnownMemberId, context);
    if (group.state === 'PreparingRebalance') this.tryCompleteJoin(group);
    this.forgetIfUnused(group);
    return response;
  }

  private join(
    group: Group,
    request: JoinGroupRequest,
    requireKnownMemberId: boolean,
    context: RequestContext,
  ): Promise<JoinGroupResponse> {
    const { memberId } = request;
    const protocols = copyProtocols(request.protocols);
    if (!group.supportsProtocols(request.protocolType, protocols, memberId)) {
      return Promise.resolve(joinError(memberId, ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    }

    if (memberId === '') {
      const newMemberId = `${memberIdPrefix(context.clientId)}-${randomUUID()}`;
      if (requireKnownMemberId) {
        this.addPendingMember(group, newMemberId, request.sessionTimeoutMs);
        return Promise.resolve(joinError(newMemberId, ErrorCode.MEMBER_ID_REQUIRED));
      }
      return this.addMemberAndRebalance(group, newMemberId, request, protocols, context);
    }

    if (group.pendingMembers.has(memberId)) {
      return this.addMemberAndRebalance(group, memberId, request, protocols, context);
    }

    const member = group.members.get(memberId);
    if (member === undefined) return Promise.resolve(joinError(memberId, ErrorCode.UNKNOWN_MEMBER_ID));

    switch (group.state) {
      case 'PreparingRebalance':
        return this.updateMemberAndRebalance(group, member, request, protocols, context);
      case 'CompletingRebalance':
        // Same metadata: most likely the member lost our JoinGroup answer; give it the current generation again.
        if (member.matches(protocols)) return Promise.resolve(this.currentGenerationJoin(group, member));
        return this.updateMemberAndRebalance(group, member, request, protocols, context);
      case 'Stable':
        // A leader's join means it wants a new assignment (e.g. topic metadata changed), so it rebalances too.
        if (group.leaderId !== memberId && member.matches(protocols)) {
          return Promise.resolve(this.currentGenerationJoin(group, member));
        }
        return this.updateMemberAndRebalance(group, member, request, protocols, context);
      case 'Empty':
      case 'Dead':
        this.logger.warn({ groupId: group.groupId, memberId, state: group.state }, 'join of a member in a group without members');
        return Promise.resolve(joinError(memberId, ErrorCode.UNKNOWN_MEMBER_ID));
    }
  }

  syncGroup(request: SyncGroupRequest, context: RequestContext): Promise<SyncGroupResponse> {
    const immediate = (errorCode: number, assignment: Buffer = EMPTY_BYTES) => Promise.resolve({ errorCode, assignment });
    if (this.closed) return immediate(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    if (request.groupId === '') return immediate(ErrorCode.INVALID_GROUP_ID);
    const group = this.groups.get(request.groupId);
    const member = group?.members.get(request.memberId);
    if (group === undefined || member === undefined) return immediate(ErrorCode.UNKNOWN_MEMBER_ID);
    if (request.generationId !== group.generationId) return immediate(ErrorCode.ILLEGAL_GENERATION);

    switch (group.state) {
      case 'Empty':
      case 'Dead':
        return immediate(ErrorCode.UNKNOWN_MEMBER_ID);
      case 'PreparingRebalance':
        return immediate(ErrorCode.REBALANCE_IN_PROGRESS);
      case 'Stable':
        this.scheduleSessionTimeout(group, member);
        return immediate(ErrorCode.NONE, member.assignment);
      case 'CompletingRebalance': {
        member.awaitingSync?.settle({ errorCode: ErrorCode.REBALANCE_IN_PROGRESS, assignment: EMPTY_BYTES });
        const parked = new ParkedResponse<SyncGroupResponse>(
          context.closed,
          { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, assignment: EMPTY_BYTES },
          // A closed connection no longer waits for its assignment, so it no longer keeps the member alive.
          () => {
            if (member.awaitingSync === parked) member.awaitingSync = null;
          },
        );
        if (!parked.abandoned) member.awaitingSync = parked;
        this.scheduleSessionTimeout(group, member);
        if (group.leaderId === member.memberId) this.completeSync(group, request);
        return parked.promise;
      }
    }
  }

  heartbeat(request: HeartbeatRequest): HeartbeatResponse {
    if (this.closed) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE };
    if (request.groupId === '') return { errorCode: ErrorCode.INVALID_GROUP_ID };
    const group = this.groups.get(request.groupId);
    const member = group?.members.get(request.memberId);
    if (group === undefined || member === undefined) return { errorCode: ErrorCode.UNKNOWN_MEMBER_ID };
    if (request.generationId !== group.generationId) return { errorCode: ErrorCode.ILLEGAL_GENERATION };

    switch (group.state) {
      case 'Empty':
      case 'Dead':
        return { errorCode: ErrorCode.UNKNOWN_MEMBER_ID };
      case 'PreparingRebalance':
        // The heartbeat is how members of the old generation learn that they must rejoin.
        this.scheduleSessionTimeout(group, member);
        return { errorCode: ErrorCode.REBALANCE_IN_PROGRESS };
      case 'CompletingRebalance':
      case 'Stable':
        // Members may heartbeat between their JoinGroup and SyncGroup answers: a normal heartbeat (Kafka 2.5+).
        this.scheduleSessionTimeout(group, member);
        return { errorCode: ErrorCode.NONE };
    }
  }

  leaveGroup(request: LeaveGroupRequest): LeaveGroupResponse {
    if (this.closed) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, members: [] };
    if (request.groupId === '') return { errorCode: ErrorCode.INVALID_GROUP_ID, members: [] };
    const group = this.groups.get(request.groupId);
    const members = request.members.map(({ memberId, groupInstanceId }) => {
      let errorCode: number = ErrorCode.UNKNOWN_MEMBER_ID;
      if (group !== undefined) {
        const member = group.members.get(memberId);
        if (group.pendingMembers.has(memberId)) {
          this.removePendingMember(group, memberId);
          errorCode = ErrorCode.NONE;
        } else if (member !== undefined) {
          this.removeMemberAndUpdateGroup(group, member, 'member left the group');
          errorCode = ErrorCode.NONE;
        }
      }
      return { memberId, groupInstanceId, errorCode };
    });
    if (group !== undefined) this.forgetIfUnused(group);
    return { errorCode: ErrorCode.NONE, members };
  }

  // ---------------------------------------------------------------------------------------------------
  // Offsets: OffsetCommit, OffsetFetch

  commitOffsets(request: OffsetCommitRequest, version: number = OffsetCommit.maxVersion): OffsetCommitResponse {
    const groupError = this.closed ? ErrorCode.COORDINATOR_NOT_AVAILABLE : this.validateCommit(request, version);
    const partitionError = (topic: string, partition: number, offset: number, metadata: string | null): number => {
      if (this.closed) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
      if (!this.topicPartitionExists(topic, partition)) return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
      if (groupError !== ErrorCode.NONE) return groupError;
      if ((metadata?.length ?? 0) > MAX_OFFSET_METADATA_LENGTH) return ErrorCode.OFFSET_METADATA_TOO_LARGE;
      if (!Number.isSafeInteger(offset)) return ErrorCode.INVALID_COMMIT_OFFSET_SIZE;
      return ErrorCode.NONE;
    };
    const accepted: CommittedOffset[] = [];
    const topics = request.topics.map((topic) => ({
      name: topic.name,
      partitions: topic.partitions.map((p) => {
        const errorCode = partitionError(topic.name, p.partitionIndex, p.committedOffset, p.committedMetadata);
        if (errorCode === ErrorCode.NONE) {
          accepted.push({
            topic: topic.name,
            partition: p.partitionIndex,
            offset: p.committedOffset,
            leaderEpoch: p.committedLeaderEpoch,
            // Kafka stores a null metadata as the empty string, and OffsetFetch returns it so.
            metadata: p.committedMetadata ?? '',
          });
        }
        return { partitionIndex: p.partitionIndex, errorCode };
      }),
    }));
    this.offsets.commit(request.groupId, accepted);
    return { topics };
  }

  /** Kafka's rules: unmanaged commits (generation < 0) only into a group without members. */
  private validateCommit(request: OffsetCommitRequest, version: number): number {
    const consumerGroup = this.consumerGroups.get(request.groupId);
    if (consumerGroup !== undefined) return this.consumerGroups.validateCommit(consumerGroup, request.memberId, request.generationId, version);
    const group = this.groups.get(request.groupId);
    if (group === undefined) {
      if (request.generationId < 0) return ErrorCode.NONE;
      // v9+ may carry a member epoch of a consumer group, which Kafka reports missing as such.
      return version >= 9 ? ErrorCode.GROUP_ID_NOT_FOUND : ErrorCode.ILLEGAL_GENERATION;
    }
    if (request.generationId < 0 && group.state === 'Empty') return ErrorCode.NONE;
    const member = group.members.get(request.memberId);
    if (member === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (request.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    // Its member id and generation are current, so it got the JoinGroup answer but must sync before committing.
    if (group.state === 'CompletingRebalance') return ErrorCode.REBALANCE_IN_PROGRESS;
    // Commits stay allowed while preparing a rebalance: the member learns of it through its next heartbeat.
    this.scheduleSessionTimeout(group, member);
    return ErrorCode.NONE;
  }

  /** One group of an OffsetFetch; `version` decides whether a consumer group's member epoch is checked (v9+). */
  fetchOffsets(request: OffsetFetchGroupQuery, version: number = OffsetFetch.maxVersion): OffsetFetchResponseGroup {
    const { groupId } = request;
    const query: OffsetFetchRequestGroup = { memberId: null, memberEpoch: -1, ...request };
    if (this.closed) return offsetFetchGroupError(query, version, ErrorCode.COORDINATOR_NOT_AVAILABLE);
    const consumerGroup = this.consumerGroups.get(groupId);
    if (consumerGroup !== undefined && version >= 9) {
      const errorCode = this.consumerGroups.validateFetch(consumerGroup, query.memberId, query.memberEpoch);
      if (errorCode !== ErrorCode.NONE) return offsetFetchGroupError(query, version, errorCode);
    }
    if (query.topics === null) {
      const byTopic = new Map<string, OffsetFetchResponsePartition[]>();
      for (const committed of this.offsets.fetchAll(groupId)) {
        let partitions = byTopic.get(committed.topic);
        if (partitions === undefined) byTopic.set(committed.topic, (partitions = []));
        partitions.push(fetchedPartition(committed.partition, committed, ErrorCode.NONE));
      }
      return { groupId, errorCode: ErrorCode.NONE, topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })) };
    }
    return {
      groupId,
      errorCode: ErrorCode.NONE,
      topics: query.topics.map((topic) => ({
        name: topic.name,
        partitions: topic.partitionIndexes.map((partition) =>
          this.topicPartitionExists(topic.name, partition)
            ? fetchedPartition(partition, this.offsets.fetch(groupId, topic.name, partition), ErrorCode.NONE)
            : fetchedPartition(partition, undefined, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION),
        ),
      })),
    };
  }

  // ---------------------------------------------------------------------------------------------------
  // Administration: DescribeGroups, ListGroups, DeleteGroups, topic deletion

  describeGroups(request: DescribeGroupsRequest): DescribeGroupsResponse {
    return { groups: request.groups.map((groupId) => this.describeGroup(groupId)) };
  }

  private describeGroup(groupId: string): DescribedGroup {
    const summary = (groupState: string, errorCode: number = ErrorCode.NONE): DescribedGroup => ({
      errorCode,
      groupId,
      groupState,
      protocolType: '',
      protocolData: '',
      members: [],
    });
    if (this.closed) return summary('', ErrorCode.COORDINATOR_NOT_AVAILABLE);
    const consumerGroup = this.consumerGroups.get(groupId);
    if (consumerGroup !== undefined) return this.consumerGroups.describeAsClassic(consumerGroup);
    const group = this.groups.get(groupId);
    // Like Kafka, an unknown group is not an error: it is described as Dead.
    if (group === undefined) return summary(this.offsets.hasGroup(groupId) ? 'Empty' : 'Dead');
    const stable = group.state === 'Stable';
    return {
      errorCode: ErrorCode.NONE,
      groupId,
      groupState: group.state,
      protocolType: group.protocolType ?? '',
      protocolData: stable ? (group.protocolName ?? '') : '',
      members: [...group.members.values()].map((member) => ({
        memberId: member.memberId,
        clientId: member.clientId,
        clientHost: member.clientHost,
        memberMetadata: stable ? member.metadataFor(group.protocolName) : EMPTY_BYTES,
        memberAssignment: stable ? member.assignment : EMPTY_BYTES,
      })),
    };
  }

  listGroups(request: ListGroupsRequest = { statesFilter: [], typesFilter: [] }): ListGroupsResponse {
    if (this.closed) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, groups: [] };
    const groups: ListedGroup[] = [...this.groups.values()].map((group) => ({
      groupId: group.groupId,
      protocolType: group.protocolType ?? '',
      groupState: group.state,
      groupType: 'classic',
    }));
    for (const group of this.consumerGroups.list()) {
      groups.push({ groupId: group.groupId, protocolType: 'consumer', groupState: group.state, groupType: 'consumer' });
    }
    for (const groupId of this.offsets.groupIds()) {
      if (!this.groups.has(groupId) && this.consumerGroups.get(groupId) === undefined) {
        groups.push({ groupId, protocolType: '', groupState: 'Empty', groupType: 'classic' });
      }
    }
    const states = new Set(request.statesFilter.map((s) => s.toLowerCase()));
    const types = new Set(request.typesFilter.map((t) => t.toLowerCase()));
    return {
      errorCode: ErrorCode.NONE,
      groups: groups.filter((g) => (states.size === 0 || states.has(g.groupState.toLowerCase())) && (types.size === 0 || types.has(g.groupType))),
    };
  }

  deleteGroups(request: DeleteGroupsRequest): DeleteGroupsResponse {
    return {
      results: request.groupsNames.map((groupId) => ({ groupId, errorCode: this.deleteGroup(groupId) })),
    };
  }

  private deleteGroup(groupId: string): number {
    if (this.closed) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (this.consumerGroups.get(groupId) !== undefined) {
      const errorCode = this.consumerGroups.delete(groupId);
      if (errorCode !== ErrorCode.NONE) return errorCode;
      this.offsets.deleteGroup(groupId);
      return ErrorCode.NONE;
    }
    const group = this.groups.get(groupId);
    if (group !== undefined && group.state !== 'Empty') return ErrorCode.NON_EMPTY_GROUP;
    if (group === undefined && !this.offsets.hasGroup(groupId)) return ErrorCode.GROUP_ID_NOT_FOUND;
    if (group !== undefined) this.discard(group);
    this.offsets.deleteGroup(groupId);
    this.logger.debug({ groupId }, 'group deleted');
    return ErrorCode.NONE;
  }

  /** The topic is gone: its committed offsets would only mislead a group that recreates it. */
  deleteTopicOffsets(topic: string): void {
    if (this.closed) return;
    this.offsets.deleteTopic(topic);
  }

  /** Stops every timer and answers every parked request; afterwards every API answers COORDINATOR_NOT_AVAILABLE. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.consumerGroups.close();
    for (const group of this.groups.values()) this.discard(group);
    this.groups.clear();
  }

  // ---------------------------------------------------------------------------------------------------
  // Rebalance machinery

  private addPendingMember(group: Group, memberId: string, sessionTimeoutMs: number): void {
    // A member id handed out but never used expires like a session, so a vanished client does not
    // hold up the group's next rebalance for long.
    const timer = this.timer(sessionTimeoutMs, () => {
      if (group.pendingMembers.get(memberId) !== timer) return;
      this.logger.debug({ groupId: group.groupId, memberId }, 'pending member expired before rejoining');
      this.removePendingMember(group, memberId);
      this.forgetIfUnused(group);
    });
    group.pendingMembers.set(memberId, timer);
  }

  private removePendingMember(group: Group, memberId: string): void {
    const timer = group.pendingMembers.get(memberId);
    if (timer !== undefined) clearTimeout(timer);
    group.pendingMembers.delete(memberId);
    if (group.state === 'PreparingRebalance') this.tryCompleteJoin(group);
  }

  private addMemberAndRebalance(
    group: Group,
    memberId: string,
    request: JoinGroupRequest,
    protocols: MemberProtocol[],
    context: RequestContext,
  ): Promise<JoinGroupResponse> {
    const pendingTimer = group.pendingMembers.get(memberId);
    if (pendingTimer !== undefined) clearTimeout(pendingTimer);
    group.pendingMembers.delete(memberId);

    const member = new Member(memberId, request.groupInstanceId, request.protocolType, {
      protocols,
      sessionTimeoutMs: request.sessionTimeoutMs,
      rebalanceTimeoutMs: Math.max(0, request.rebalanceTimeoutMs),
      clientId: context.clientId ?? '',
      clientHost: context.clientHost,
    });
    if (group.members.size === 0) group.protocolType = request.protocolType;
    group.members.set(memberId, member);
    if (group.state === 'PreparingRebalance') group.newMemberAdded = true;
    const parked = this.parkJoin(member, context);
    this.scheduleSessionTimeout(group, member);
    this.logger.debug({ groupId: group.groupId, memberId, state: group.state }, 'new member joins');
    this.maybePrepareRebalance(group, `new member ${memberId} joined`);
    return parked;
  }

  private updateMemberAndRebalance(
    group: Group,
    member: Member,
    request: JoinGroupRequest,
    protocols: MemberProtocol[],
    context: RequestContext,
  ): Promise<JoinGroupResponse> {
    member.protocols = protocols;
    member.sessionTimeoutMs = request.sessionTimeoutMs;
    member.rebalanceTimeoutMs = Math.max(0, request.rebalanceTimeoutMs);
    member.clientId = context.clientId ?? '';
    member.clientHost = context.clientHost;
    const parked = this.parkJoin(member, context);
    this.maybePrepareRebalance(group, `member ${member.memberId} rejoined`);
    return parked;
  }

  private parkJoin(member: Member, context: RequestContext): Promise<JoinGroupResponse> {
    // A second JoinGroup replaces the first (its client gave up on it); answer the first so it is not left hanging.
    member.awaitingJoin?.settle(joinError(member.memberId, ErrorCode.REBALANCE_IN_PROGRESS));
    const parked = new ParkedResponse(context.closed, joinError(member.memberId, ErrorCode.COORDINATOR_NOT_AVAILABLE));
    member.awaitingJoin = parked;
    member.joinSequence = ++this.joinSequence;
    return parked.promise;
  }

  private maybePrepareRebalance(group: Group, reason: string): void {
    if (group.state === 'Empty' || group.state === 'Stable' || group.state === 'CompletingRebalance') {
      this.prepareRebalance(group, reason);
    }
  }

  private prepareRebalance(group: Group, reason: string): void {
    if (group.state === 'CompletingRebalance') {
      // Members waiting for the assignment of a generation that will never be stable must rejoin instead.
      this.resetAndPropagateAssignmentError(group, ErrorCode.REBALANCE_IN_PROGRESS);
    }
    const wasEmpty = group.state === 'Empty';
    group.state = 'PreparingRebalance';
    this.clearJoinTimer(group);
    this.logger.debug({ groupId: group.groupId, generationId: group.generationId, reason }, 'preparing to rebalance');
    if (wasEmpty) {
      const delay = this.initialRebalanceDelayMs;
      this.scheduleInitialDelayedJoin(group, delay, Math.max(group.rebalanceTimeoutMs - delay, 0));
    } else {
      group.joinTimer = this.timer(group.rebalanceTimeoutMs, () => {
        group.joinTimer = null;
        this.completeJoin(group);
      });
      // Nobody else to wait for (the last member left, or the only one rejoined): complete right away.
      this.tryCompleteJoin(group);
    }
  }

  /**
   * A group leaving Empty waits `delay` for more members, so that consumers started together get one
   * rebalance instead of one each; every newcomer during a delay buys one more delay, until the
   * rebalance timeout (`remaining`) is used up.
   */
  private scheduleInitialDelayedJoin(group: Group, delay: number, remaining: number): void {
    group.initialDelayRunning = true;
    group.newMemberAdded = false;
    group.joinTimer = this.timer(delay, () => {
      group.joinTimer = null;
      if (group.newMemberAdded && remaining > 0) {
        const next = Math.min(delay, remaining);
        this.scheduleInitialDelayedJoin(group, next, remaining - next);
        return;
      }
      group.initialDelayRunning = false;
      this.completeJoin(group);
    });
  }

  private tryCompleteJoin(group: Group): void {
    if (group.state === 'PreparingRebalance' && !group.initialDelayRunning && group.allMembersJoined()) {
      this.completeJoin(group);
    }
  }

  private completeJoin(group: Group): void {
    if (group.state !== 'PreparingRebalance') return;
    this.clearJoinTimer(group);
    group.initialDelayRunning = false;

    for (const member of [...group.members.values()]) {
      if (member.awaitingJoin !== null) continue;
      this.logger.debug({ groupId: group.groupId, memberId: member.memberId }, 'member did not rejoin in time; removed');
      this.removeMember(group, member);
    }

    group.generationId += 1;
    if (group.members.size === 0) {
      group.state = 'Empty';
      group.protocolName = null;
      group.leaderId = null;
      this.logger.debug({ groupId: group.groupId, generationId: group.generationId }, 'group is now empty');
      this.forgetIfUnused(group);
      return;
    }

    const members = [...group.members.values()];
    if (group.leaderId === null || !group.members.has(group.leaderId)) {
      group.leaderId = members.reduce((first, m) => (m.joinSequence < first.joinSequence ? m : first)).memberId;
    }
    group.protocolName = group.selectProtocol();
    group.state = 'CompletingRebalance';
    this.logger.debug(
      {
        groupId: group.groupId,
        generationId: group.generationId,
        protocol: group.protocolName,
        leader: group.leaderId,
        members: members.length,
      },
      'rebalance joined; awaiting the leader assignment',
    );
    for (const member of members) {
      member.awaitingJoin?.settle(this.currentGenerationJoin(group, member));
      member.awaitingJoin = null;
      this.scheduleSessionTimeout(group, member);
    }
  }

  private currentGenerationJoin(group: Group, member: Member): JoinGroupResponse {
    const isLeader = group.leaderId === member.memberId;
    return {
      errorCode: ErrorCode.NONE,
      generationId: group.generationId,
      protocolName: group.protocolName ?? '',
      leader: group.leaderId ?? '',
      memberId: member.memberId,
      // Only the leader computes the assignment, so only it needs everybody's subscription metadata.
      members: isLeader
        ? [...group.members.values()].map((m) => ({
            memberId: m.memberId,
            groupInstanceId: m.groupInstanceId,
            metadata: m.metadataFor(group.protocolName),
          }))
        : [],
    };
  }

  private completeSync(group: Group, request: SyncGroupRequest): void {
    const assignments = new Map<string, Buffer>();
    for (const { memberId, assignment } of request.assignments) {
      if (group.members.has(memberId)) assignments.set(memberId, Buffer.from(assignment));
    }
    group.state = 'Stable';
    this.logger.debug({ groupId: group.groupId, generationId: group.generationId }, 'group is stable');
    for (const member of group.members.values()) {
      // Members the leader left out get an empty assignment, as in Kafka.
      member.assignment = assignments.get(member.memberId) ?? EMPTY_BYTES;
      if (member.awaitingSync !== null) {
        member.awaitingSync.settle({ errorCode: ErrorCode.NONE, assignment: member.assignment });
        member.awaitingSync = null;
        this.scheduleSessionTimeout(group, member);
      }
    }
  }

  private resetAndPropagateAssignmentError(group: Group, errorCode: number): void {
    for (const member of group.members.values()) {
      member.assignment = EMPTY_BYTES;
      if (member.awaitingSync !== null) {
        member.awaitingSync.settle({ errorCode, assignment: EMPTY_BYTES });
        member.awaitingSync = null;
        this.scheduleSessionTimeout(group, member);
      }
    }
  }

  private removeMemberAndUpdateGroup(group: Group, member: Member, reason: string): void {
    // Answer what the member is waiting for, so a client that is still alive rejoins from scratch.
    member.awaitingJoin?.settle(joinError('', ErrorCode.UNKNOWN_MEMBER_ID));
    member.awaitingSync?.settle({ errorCode: ErrorCode.UNKNOWN_MEMBER_ID, assignment: EMPTY_BYTES });
    this.removeMember(group, member);
    this.logger.debug({ groupId: group.groupId, memberId: member.memberId, state: group.state, reason }, 'member removed');
    if (group.state === 'Stable' || group.state === 'CompletingRebalance') this.prepareRebalance(group, reason);
    else if (group.state === 'PreparingRebalance') this.tryCompleteJoin(group);
  }

  private removeMember(group: Group, member: Member): void {
    if (member.sessionTimer !== null) clearTimeout(member.sessionTimer);
    member.sessionTimer = null;
    member.awaitingJoin = null;
    member.awaitingSync = null;
    group.members.delete(member.memberId);
  }

  private scheduleSessionTimeout(group: Group, member: Member): void {
    if (member.sessionTimer !== null) clearTimeout(member.sessionTimer);
    member.sessionTimer = this.timer(member.sessionTimeoutMs, () => {
      member.sessionTimer = null;
      if (group.members.get(member.memberId) !== member) return;
      // A member waiting for a JoinGroup or SyncGroup answer cannot heartbeat; the rebalance timeout or
      // the leader's sync settles its fate instead.
      if (member.awaitingJoin !== null || member.awaitingSync !== null) {
        this.scheduleSessionTimeout(group, member);
        return;
      }
      this.removeMemberAndUpdateGroup(group, member, `session of ${member.memberId} expired`);
      this.forgetIfUnused(group);
    });
  }

  /** An Empty group without members or pending ids lives on only through its committed offsets. */
  private forgetIfUnused(group: Group): void {
    if (group.state !== 'Empty' || group.members.size > 0 || group.pendingMembers.size > 0) return;
    if (this.groups.get(group.groupId) === group) this.groups.delete(group.groupId);
    this.clearJoinTimer(group);
  }

  /** Drops a group from memory: timers stopped, parked requests answered COORDINATOR_NOT_AVAILABLE. */
  private discard(group: Group): void {
    this.clearJoinTimer(group);
    for (const timer of group.pendingMembers.values()) clearTimeout(timer);
    group.pendingMembers.clear();
    for (const member of group.members.values()) {
      member.awaitingJoin?.settle(joinError(member.memberId, ErrorCode.COORDINATOR_NOT_AVAILABLE));
      member.awaitingSync?.settle({ errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, assignment: EMPTY_BYTES });
      if (member.sessionTimer !== null) clearTimeout(member.sessionTimer);
    }
    group.members.clear();
    group.state = 'Dead';
    if (this.groups.get(group.groupId) === group) this.groups.delete(group.groupId);
  }

  private clearJoinTimer(group: Group): void {
    if (group.joinTimer !== null) clearTimeout(group.joinTimer);
    group.joinTimer = null;
  }

  /** Timers never keep the process alive, and a failure inside one is logged instead of crashing the broker. */
  private timer(delayMs: number, run: () => void): NodeJS.Timeout {
    const timeout = setTimeout(() => {
      if (this.closed) return;
      try {
        run();
      } catch (error) {
        this.logger.error({ err: error }, 'group coordinator timer failed');
      }
    }, delayMs);
    timeout.unref();
    return timeout;
  }
}

/** One group of an OffsetFetch request; the member (v9+) is optional. */
export type OffsetFetchGroupQuery = Pick<OffsetFetchRequestGroup, 'groupId' | 'topics'> & Partial<Pick<OffsetFetchRequestGroup, 'memberId' | 'memberEpoch'>>;

function joinError(memberId: string, errorCode: number): JoinGroupResponse {
  return { errorCode, generationId: -1, protocolName: '', leader: '', memberId, members: [] };
}

/** Request buffers are views on the connection's frame; a member keeps its metadata past the request. */
function copyProtocols(protocols: readonly MemberProtocol[]): MemberProtocol[] {
  return protocols.map((p) => ({ name: p.name, metadata: Buffer.from(p.metadata) }));
}

function fetchedPartition(partitionIndex: number, committed: CommittedOffset | undefined, errorCode: number): OffsetFetchResponsePartition {
  return {
    partitionIndex,
    committedOffset: committed?.offset ?? -1,
    committedLeaderEpoch: committed?.leaderEpoch ?? -1,
    metadata: committed?.metadata ?? '',
    errorCode,
  };
}

function memberIdPrefix(clientId: string | null): string {
  // Cut by code points, so the id stays valid UTF-8 and comes back from the client unchanged.
  return Array.from(clientId ?? '').slice(0, MAX_MEMBER_ID_PREFIX_CHARS).join('');
}

