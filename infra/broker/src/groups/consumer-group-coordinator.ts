import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { RequestContext } from '../protocol/api.js';
import { ErrorCode } from '../protocol/error-codes.js';
import type { ConsumerGroupDescribeGroup, ConsumerGroupDescribeRequest, ConsumerGroupDescribeResponse, DescribedTopicPartitions } from '../protocol/messages/consumer-group-describe.js';
import type { DescribedGroup } from '../protocol/messages/describe-groups.js';
import type { ConsumerGroupHeartbeatRequest, ConsumerGroupHeartbeatResponse, HeartbeatTopicPartitions } from '../protocol/messages/consumer-group-heartbeat.js';
import { assignors, UNIFORM_ASSIGNOR, type AssignorMember, type TopicPartitions } from './assignors.js';
import {
  assignmentKey,
  ConsumerGroup,
  ConsumerMember,
  isSubset,
  LEAVE_GROUP_MEMBER_EPOCH,
  LEAVE_GROUP_STATIC_MEMBER_EPOCH,
  reconcile,
} from './consumer-group.js';

/** What the coordinator needs to know of the broker's topics: ids (32 hex digits) and partition counts. */
export interface TopicDirectory {
  byName(name: string): { uuid: string; partitions: number } | undefined;
  byUuid(uuid: string): { name: string; partitions: number } | undefined;
  /** Every topic name, for regex subscriptions. */
  names(): string[];
}

export interface ConsumerGroupCoordinatorOptions {
  logger: Logger;
  topics: TopicDirectory;
  /** group.consumer.heartbeat.interval.ms: how often members heartbeat (Kafka's default 5000). */
  heartbeatIntervalMs: number;
  /** group.consumer.session.timeout.ms: a member silent this long is removed (Kafka's default 45000). */
  sessionTimeoutMs: number;
  /** Whether a classic group (JoinGroup/SyncGroup) with members holds the id. */
  isClassicGroup(groupId: string): boolean;
  /** Runs `work` so that a failure inside a timer is logged, never thrown. */
  timer(delayMs: number, work: () => void): NodeJS.Timeout;
}

export const consumerGroupDefaults = {
  heartbeatIntervalMs: 5000,
  sessionTimeoutMs: 45_000,
} satisfies Partial<ConsumerGroupCoordinatorOptions>;

class HeartbeatError extends Error {
  constructor(
    readonly errorCode: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The coordinator of the consumer group protocol (KIP-848): ConsumerGroupHeartbeat and
 * ConsumerGroupDescribe, and the member-epoch checks of OffsetCommit v9+ and OffsetFetch v9+ for such
 * groups. Membership lives in memory, as with classic groups: after a restart members rejoin (their
 * heartbeat answers UNKNOWN_MEMBER_ID, and the client rejoins with epoch 0); offsets are durable.
 */
export class ConsumerGroupCoordinator {
  private readonly groups = new Map<string, ConsumerGroup>();
  private readonly logger: Logger;
  private readonly topics: TopicDirectory;
  private readonly heartbeatIntervalMs: number;
  private readonly sessionTimeoutMs: number;
  private readonly isClassicGroup: (groupId: string) => boolean;
  private readonly timer: (delayMs: number, work: () => void) => NodeJS.Timeout;

  constructor(options: ConsumerGroupCoordinatorOptions) {
    this.logger = options.logger;
    this.topics = options.topics;
    this.heartbeatIntervalMs = options.heartbeatIntervalMs;
    this.sessionTimeoutMs = options.sessionTimeoutMs;
    this.isClassicGroup = options.isClassicGroup;
    this.timer = options.timer;
  }

  get(groupId: string): ConsumerGroup | undefined {
    return this.groups.get(groupId);
  }

  list(): ConsumerGroup[] {
    return [...this.groups.values()];
  }

  heartbeat(request: ConsumerGroupHeartbeatRequest, version: number, context: RequestContext): ConsumerGroupHeartbeatResponse {
    try {
      this.validate(request, version);
      if (request.memberEpoch === LEAVE_GROUP_MEMBER_EPOCH || request.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) return this.leave(request);
      return this.join(request, context);
    } catch (error) {
      if (!(error instanceof HeartbeatError)) throw error;
      this.logger.debug({ groupId: request.groupId, memberId: request.memberId, memberEpoch: request.memberEpoch, errorCode: error.errorCode, reason: error.message }, 'heartbeat refused');
      return { errorCode: error.errorCode, errorMessage: error.message, memberId: null, memberEpoch: 0, heartbeatIntervalMs: 0, assignment: null };
    }
  }

  /** Kafka's checks of a heartbeat, with its messages. */
  private validate(request: ConsumerGroupHeartbeatRequest, version: number): void {
    const invalid = (message: string) => new HeartbeatError(ErrorCode.INVALID_REQUEST, message);
    if (request.groupId.trim() === '') throw invalid("GroupId can't be empty.");
    if (request.instanceId !== null && request.instanceId.trim() === '') throw invalid("InstanceId can't be empty.");
    if (request.rackId !== null && request.rackId.trim() === '') throw invalid("RackId can't be empty.");
    if (version >= 1 || request.memberEpoch !== 0) {
      if (request.memberId.trim() === '') throw invalid("MemberId can't be empty.");
    }
    if (request.memberEpoch === 0) {
      if (request.rebalanceTimeoutMs === -1) throw invalid('RebalanceTimeoutMs must be provided in first request.');
      if (request.topicPartitions === null || request.topicPartitions.length > 0) throw invalid('TopicPartitions must be empty when (re-)joining.');
      if (request.subscribedTopicNames === null && request.subscribedTopicRegex === null) {
        throw invalid('SubscribedTopicNames or SubscribedTopicRegex must be set in first request.');
      }
    } else if (request.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
      if (request.instanceId === null) throw invalid('InstanceId can\'t be null.');
    } else if (request.memberEpoch < LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
      throw invalid(`MemberEpoch is invalid.`);
    }
    // An empty regex means none (librdkafka sends one beside its topic names; Kafka describes "none" so too).
    if (request.subscribedTopicRegex !== null && request.subscribedTopicRegex !== '') {
      if (toRegExp(request.subscribedTopicRegex) === null) {
        throw new HeartbeatError(ErrorCode.INVALID_REGULAR_EXPRESSION, `SubscribedTopicRegex \`${request.subscribedTopicRegex}\` is not a valid regular expression.`);
      }
    }
    if (request.serverAssignor !== null && assignors[request.serverAssignor] === undefined) {
      throw new HeartbeatError(ErrorCode.UNSUPPORTED_ASSIGNOR, `ServerAssignor ${request.serverAssignor} is not supported. Supported assignors: ${Object.keys(assignors).join(', ')}.`);
    }
  }

  private leave(request: ConsumerGroupHeartbeatRequest): ConsumerGroupHeartbeatResponse {
    const group = this.groups.get(request.groupId);
    if (group === undefined) throw new HeartbeatError(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${request.groupId} not found.`);
    const member = request.instanceId !== null ? group.memberByInstanceId(request.instanceId) : group.members.get(request.memberId);
    if (member === undefined || member.memberId !== request.memberId) {
      throw new HeartbeatError(ErrorCode.UNKNOWN_MEMBER_ID, `Member ${request.memberId} is not a member of group ${request.groupId}.`);
    }
    if (request.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
      // The static member keeps its assignment until it comes back under its instance id or its session ends.
      member.memberEpoch = LEAVE_GROUP_STATIC_MEMBER_EPOCH;
      this.scheduleSession(group, member);
      this.logger.debug({ groupId: group.groupId, memberId: member.memberId }, 'static member left temporarily');
    } else {
      this.removeMember(group, member, 'member left the group');
    }
    return { errorCode: ErrorCode.NONE, errorMessage: null, memberId: request.memberId, memberEpoch: request.memberEpoch, heartbeatIntervalMs: 0, assignment: null };
  }

  private join(request: ConsumerGroupHeartbeatRequest, context: RequestContext): ConsumerGroupHeartbeatResponse {
    const joining = request.memberEpoch === 0;
    let group = this.groups.get(request.groupId);
    if (group === undefined) {
      if (this.isClassicGroup(request.groupId)) throw new HeartbeatError(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${request.groupId} is not a consumer group.`);
      if (!joining) throw new HeartbeatError(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${request.groupId} not found.`);
      group = new ConsumerGroup(request.groupId, UNIFORM_ASSIGNOR);
      this.groups.set(request.groupId, group);
    }

    let member = group.members.get(request.memberId);
    let bump = false;
    const owned = request.topicPartitions === null ? null : toAssignment(request.topicPartitions);
    if (joining) {
      const replaced = request.instanceId === null ? undefined : group.memberByInstanceId(request.instanceId);
      if (replaced !== undefined && replaced.memberId !== request.memberId) {
        if (replaced.memberEpoch !== LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
          throw new HeartbeatError(ErrorCode.UNRELEASED_INSTANCE_ID, `Static member ${request.memberId} with instance id ${request.instanceId} cannot join the group because the instance id is owned by member ${replaced.memberId}.`);
        }
        // A static member back under a new member id takes over its predecessor's assignment and epoch.
        member = this.replaceStaticMember(group, replaced, request.memberId === '' ? newMemberId() : request.memberId);
      } else if (member === undefined) {
        member = new ConsumerMember(request.memberId === '' ? newMemberId() : request.memberId);
        group.members.set(member.memberId, member);
        bump = true;
      } else {
        // A known member rejoining from epoch 0 has lost its partitions: it starts over from its target.
        member.assigned = new Map();
        member.pendingRevocation = new Map();
        member.state = 'stable';
        member.memberEpoch = 0;
      }
    } else {
      if (member === undefined) throw new HeartbeatError(ErrorCode.UNKNOWN_MEMBER_ID, `Member ${request.memberId} is not a member of group ${request.groupId}.`);
      if (request.memberEpoch > member.memberEpoch) {
        throw new HeartbeatError(ErrorCode.FENCED_MEMBER_EPOCH, `The consumer group member has a greater member epoch (${request.memberEpoch}) than the one known by the group coordinator (${member.memberEpoch}). The member must abandon all its partitions and rejoin.`);
      }
      if (request.memberEpoch < member.memberEpoch) {
        // A member whose answer got lost may come back with its previous epoch while holding a subset of its partitions.
        if (request.memberEpoch !== member.previousMemberEpoch || owned === null || !isSubset(owned, member.assigned)) {
          throw new HeartbeatError(ErrorCode.FENCED_MEMBER_EPOCH, `The consumer group member has a smaller member epoch (${request.memberEpoch}) than the one known by the group coordinator (${member.memberEpoch}). The member must abandon all its partitions and rejoin.`);
        }
      }
    }

    const before = { epoch: member.memberEpoch, assignment: assignmentKey(member.assigned) };
    member.clientId = context.clientId ?? '';
    member.clientHost = context.clientHost;
    if (request.instanceId !== null) member.instanceId = request.instanceId;
    if (request.rackId !== null) member.rackId = request.rackId;
    if (request.rebalanceTimeoutMs !== -1) member.rebalanceTimeoutMs = Math.max(0, request.rebalanceTimeoutMs);
    if (request.serverAssignor !== null && request.serverAssignor !== member.serverAssignor) {
      member.serverAssignor = request.serverAssignor;
      bump = true;
    }
    if (request.subscribedTopicNames !== null && !sameNames(request.subscribedTopicNames, member.subscribedTopicNames)) {
      member.subscribedTopicNames = [...new Set(request.subscribedTopicNames)].sort();
      bump = true;
    }
    const regex = request.subscribedTopicRegex === '' ? null : request.subscribedTopicRegex;
    if (request.subscribedTopicRegex !== null && regex !== member.subscribedTopicRegex) {
      member.subscribedTopicRegex = regex;
      bump = true;
    }

    // A subscribed topic created, deleted or grown since the last target also calls for a new one.
    if (bump || this.subscriptionMetadata(group) !== group.subscriptionMetadata) this.computeTarget(group);

    reconcile(group, member, owned);
    this.scheduleSession(group, member);
    this.scheduleRevocationDeadline(group, member);

    const full = joining || (request.rebalanceTimeoutMs !== -1 && request.subscribedTopicNames !== null && request.topicPartitions !== null);
    const changed = member.memberEpoch !== before.epoch || assignmentKey(member.assigned) !== before.assignment;
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      memberId: member.memberId,
      memberEpoch: member.memberEpoch,
      heartbeatIntervalMs: this.heartbeatIntervalMs,
      assignment: full || changed ? fromAssignment(member.assigned) : null,
    };
  }

  /**
   * A static member back under a new member id takes the place of its predecessor, with its subscription
   * and target, without a new group epoch; like any member joining from epoch 0, it starts from its target.
   */
  private replaceStaticMember(group: ConsumerGroup, old: ConsumerMember, memberId: string): ConsumerMember {
    const member = new ConsumerMember(memberId);
    member.instanceId = old.instanceId;
    member.rackId = old.rackId;
    member.rebalanceTimeoutMs = old.rebalanceTimeoutMs;
    member.subscribedTopicNames = old.subscribedTopicNames;
    member.subscribedTopicRegex = old.subscribedTopicRegex;
    member.serverAssignor = old.serverAssignor;
    clearMemberTimers(old);
    group.members.delete(old.memberId);
    group.members.set(memberId, member);
    const target = group.targetAssignment.get(old.memberId);
    group.targetAssignment.delete(old.memberId);
    if (target !== undefined) group.targetAssignment.set(memberId, target);
    this.logger.debug({ groupId: group.groupId, memberId, replaced: old.memberId }, 'static member rejoined');
    return member;
  }

  /** Bumps the group epoch and computes the target assignment at it. */
  private computeTarget(group: ConsumerGroup): void {
    group.groupEpoch += 1;
    const partitionCounts = new Map<string, number>();
    const resolve = (member: ConsumerMember): Set<string> => {
      const ids = new Set<string>();
      for (const name of this.subscribedNames(member)) {
        const topic = this.topics.byName(name);
        if (topic === undefined) continue;
        ids.add(topic.uuid);
        partitionCounts.set(topic.uuid, topic.partitions);
      }
      return ids;
    };
    const members: AssignorMember[] = [...group.members.values()].map((m) => ({
      memberId: m.memberId,
      topicIds: resolve(m),
      previous: group.targetAssignment.get(m.memberId) ?? new Map(),
    }));
    // Like Kafka, the members' most wanted assignor wins; the default is uniform.
    group.assignorName = preferredAssignor(group) ?? UNIFORM_ASSIGNOR;
    group.targetAssignment = assignors[group.assignorName]!(members, partitionCounts);
    group.assignmentEpoch = group.groupEpoch;
    group.subscriptionMetadata = this.subscriptionMetadata(group);
    this.logger.debug({ groupId: group.groupId, groupEpoch: group.groupEpoch, members: members.length, assignor: group.assignorName }, 'target assignment computed');
  }

  private subscribedNames(member: ConsumerMember): string[] {
    if (member.subscribedTopicRegex === null) return member.subscribedTopicNames;
    const pattern = toRegExp(member.subscribedTopicRegex);
    const matched = new Set(member.subscribedTopicNames);
    if (pattern !== null) for (const name of this.topics.names()) if (pattern.test(name)) matched.add(name);
    return [...matched].sort();
  }

  private subscriptionMetadata(group: ConsumerGroup): string {
    const names = new Set<string>();
    for (const member of group.members.values()) for (const name of this.subscribedNames(member)) names.add(name);
    return [...names]
      .sort()
      .map((name) => {
        const topic = this.topics.byName(name);
        return topic === undefined ? `${name}:-` : `${name}:${topic.uuid}:${topic.partitions}`;
      })
      .join(';');
  }

  private removeMember(group: ConsumerGroup, member: ConsumerMember, reason: string): void {
    clearMemberTimers(member);
    group.members.delete(member.memberId);
    group.targetAssignment.delete(member.memberId);
    this.logger.debug({ groupId: group.groupId, memberId: member.memberId, reason }, 'member removed');
    this.computeTarget(group);
  }

  private scheduleSession(group: ConsumerGroup, member: ConsumerMember): void {
    if (member.sessionTimer !== null) clearTimeout(member.sessionTimer);
    member.sessionTimer = this.timer(this.sessionTimeoutMs, () => {
      member.sessionTimer = null;
      if (group.members.get(member.memberId) === member) this.removeMember(group, member, 'session expired');
    });
  }

  /** A member asked to revoke partitions has its rebalance timeout to do so, or it is removed. */
  private scheduleRevocationDeadline(group: ConsumerGroup, member: ConsumerMember): void {
    if (member.state !== 'unrevoked-partitions') {
      if (member.rebalanceTimer !== null) clearTimeout(member.rebalanceTimer);
      member.rebalanceTimer = null;
      return;
    }
    if (member.rebalanceTimer !== null) return;
    const epoch = member.memberEpoch;
    member.rebalanceTimer = this.timer(member.rebalanceTimeoutMs, () => {
      member.rebalanceTimer = null;
      if (group.members.get(member.memberId) === member && member.state === 'unrevoked-partitions' && member.memberEpoch === epoch) {
        this.removeMember(group, member, 'did not revoke its partitions within its rebalance timeout');
      }
    });
  }

  /**
   * OffsetCommit into a consumer group (Kafka's rules): a commit without a member into an empty group
   * is allowed; otherwise the member must be known, its epoch current, and the request v9+.
   */
  validateCommit(group: ConsumerGroup, memberId: string, memberEpoch: number, version: number): number {
    if (memberEpoch < 0 && group.members.size === 0) return ErrorCode.NONE;
    const member = group.members.get(memberId);
    if (member === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (version < 9) return ErrorCode.UNSUPPORTED_VERSION;
    if (memberEpoch !== member.memberEpoch) return ErrorCode.STALE_MEMBER_EPOCH;
    return ErrorCode.NONE;
  }

  /** OffsetFetch v9+ of a consumer group's member: the member must be known and its epoch current. */
  validateFetch(group: ConsumerGroup, memberId: string | null, memberEpoch: number): number {
    if (memberId === null || (memberEpoch < 0 && memberId === '')) return ErrorCode.NONE;
    const member = group.members.get(memberId);
    if (member === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (memberEpoch !== member.memberEpoch) return ErrorCode.STALE_MEMBER_EPOCH;
    return ErrorCode.NONE;
  }

  describe(request: ConsumerGroupDescribeRequest): ConsumerGroupDescribeResponse {
    return { groups: request.groupIds.map((groupId) => this.describeGroup(groupId)) };
  }

  private describeGroup(groupId: string): ConsumerGroupDescribeGroup {
    const group = this.groups.get(groupId);
    if (group === undefined) {
      const message = this.isClassicGroup(groupId) ? `Group ${groupId} is not a consumer group.` : `Group ${groupId} not found.`;
      return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: message, groupId, groupState: '', groupEpoch: 0, assignmentEpoch: 0, assignorName: '', members: [] };
    }
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      groupId,
      groupState: group.state,
      groupEpoch: group.groupEpoch,
      assignmentEpoch: group.assignmentEpoch,
      assignorName: group.assignorName,
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        instanceId: m.instanceId,
        rackId: m.rackId,
        memberEpoch: m.memberEpoch,
        clientId: m.clientId,
        clientHost: m.clientHost,
        subscribedTopicNames: m.subscribedTopicNames,
        // Kafka describes "no regex" as the empty string.
        subscribedTopicRegex: m.subscribedTopicRegex ?? '',
        assignment: this.named(m.assigned),
        targetAssignment: this.named(group.targetAssignment.get(m.memberId) ?? new Map()),
      })),
    };
  }

  private named(assignment: TopicPartitions): DescribedTopicPartitions[] {
    return fromAssignment(assignment).map((t) => ({ ...t, topicName: this.topics.byUuid(t.topicId)?.name ?? '' }));
  }

  /**
   * DescribeGroups (the classic API) of a consumer group: its state and members, protocol type
   * "consumer", the assignor as the protocol; the classic subscription and assignment bytes are left empty.
   */
  describeAsClassic(group: ConsumerGroup): DescribedGroup {
    return {
      errorCode: ErrorCode.NONE,
      groupId: group.groupId,
      groupState: group.state,
      protocolType: 'consumer',
      protocolData: group.assignorName,
      members: [...group.members.values()].map((m) => ({ memberId: m.memberId, clientId: m.clientId, clientHost: m.clientHost, memberMetadata: Buffer.alloc(0), memberAssignment: Buffer.alloc(0) })),
    };
  }

  /** DeleteGroups: only an Empty group goes. */
  delete(groupId: string): number {
    const group = this.groups.get(groupId);
    if (group === undefined) return ErrorCode.GROUP_ID_NOT_FOUND;
    if (group.members.size > 0) return ErrorCode.NON_EMPTY_GROUP;
    this.groups.delete(groupId);
    return ErrorCode.NONE;
  }

  close(): void {
    for (const group of this.groups.values()) for (const member of group.members.values()) clearMemberTimers(member);
    this.groups.clear();
  }
}

function clearMemberTimers(member: ConsumerMember): void {
  if (member.sessionTimer !== null) clearTimeout(member.sessionTimer);
  if (member.rebalanceTimer !== null) clearTimeout(member.rebalanceTimer);
  member.sessionTimer = null;
  member.rebalanceTimer = null;
}

function preferredAssignor(group: ConsumerGroup): string | undefined {
  const votes = new Map<string, number>();
  for (const member of group.members.values()) {
    if (member.serverAssignor !== null) votes.set(member.serverAssignor, (votes.get(member.serverAssignor) ?? 0) + 1);
  }
  let best: string | undefined;
  for (const [name, count] of votes) if (best === undefined || count > votes.get(best)!) best = name;
  return best;
}

function toAssignment(topics: readonly HeartbeatTopicPartitions[]): TopicPartitions {
  const assignment: TopicPartitions = new Map();
  for (const { topicId, partitions } of topics) assignment.set(topicId, [...(assignment.get(topicId) ?? []), ...partitions]);
  return assignment;
}

function fromAssignment(assignment: TopicPartitions): HeartbeatTopicPartitions[] {
  return [...assignment]
    .filter(([, partitions]) => partitions.length > 0)
    .map(([topicId, partitions]) => ({ topicId, partitions: [...partitions].sort((a, b) => a - b) }));
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  const set = new Set(a);
  return set.size === b.length && b.every((name) => set.has(name));
}

/** Kafka matches the regex against the whole name (RE2J); JavaScript's syntax covers what clients send. */
function toRegExp(regex: string): RegExp | null {
  try {
    return new RegExp(`^(?:${regex})$`);
  } catch {
    return null;
  }
}

/** The v0 protocol lets the coordinator choose ids; Kafka's are 22 characters of base64, a UUID here. */
function newMemberId(): string {
  return randomUUID();
}
