import type { TopicPartitions } from './assignors.js';

/**
 * A group of the consumer group protocol (KIP-848, ConsumerGroupHeartbeat): the coordinator computes
 * the target assignment, and moves each member towards its target one heartbeat at a time.
 *
 *   group epoch       bumped when a member joins, leaves, changes its subscription, or a subscribed
 *                     topic's partitions change; the target assignment is recomputed with it
 *   assignment epoch  the group epoch the target assignment was computed at (always equal here: the
 *                     assignors run synchronously)
 *   member epoch      the epoch of the assignment the member holds; it reaches the assignment epoch
 *                     once the member has given up every partition its target no longer has
 *
 * A member's states (Kafka's MemberState):
 *
 *   stable                 holds its whole target at the assignment epoch
 *   unrevoked-partitions   at the new epoch, but must give up `pendingRevocation` before it gets more
 *   unreleased-partitions  at the new epoch, but part of its target is still held by a member that has
 *                          not revoked it; it gets those partitions on a later heartbeat
 *
 * A partition is only ever held by one member: a partition in another member's `assigned` or
 * `pendingRevocation` is not handed out.
 */
export type ConsumerMemberState = 'stable' | 'unrevoked-partitions' | 'unreleased-partitions';

/** Member epoch -1: the member leaves; -2: a static member leaves and will be back under its instance id. */
export const LEAVE_GROUP_MEMBER_EPOCH = -1;
export const LEAVE_GROUP_STATIC_MEMBER_EPOCH = -2;

export class ConsumerMember {
  memberEpoch = 0;
  previousMemberEpoch = -1;
  state: ConsumerMemberState = 'stable';
  instanceId: string | null = null;
  rackId: string | null = null;
  clientId = '';
  clientHost = '';
  rebalanceTimeoutMs = 0;
  subscribedTopicNames: string[] = [];
  subscribedTopicRegex: string | null = null;
  serverAssignor: string | null = null;
  assigned: TopicPartitions = new Map();
  pendingRevocation: TopicPartitions = new Map();
  sessionTimer: NodeJS.Timeout | null = null;
  /** Runs while the member owes a revocation: a member that does not revoke in time is fenced. */
  rebalanceTimer: NodeJS.Timeout | null = null;

  constructor(readonly memberId: string) {}
}

export type ConsumerGroupState = 'Empty' | 'Assigning' | 'Reconciling' | 'Stable';

export class ConsumerGroup {
  /** Kafka creates a group at epoch 1; its first member's join makes it 2. */
  groupEpoch = 1;
  assignmentEpoch = 1;
  readonly members = new Map<string, ConsumerMember>();
  /** Target assignment of each member, computed at `assignmentEpoch`. */
  targetAssignment = new Map<string, TopicPartitions>();
  /** The subscribed topics' ids and partition counts the target was computed from. */
  subscriptionMetadata = '';
  /** The assignor of the last target assignment. */
  assignorName: string;

  constructor(
    readonly groupId: string,
    defaultAssignor: string,
  ) {
    this.assignorName = defaultAssignor;
  }

  get state(): ConsumerGroupState {
    if (this.members.size === 0) return 'Empty';
    if (this.assignmentEpoch < this.groupEpoch) return 'Assigning';
    for (const member of this.members.values()) {
      if (member.memberEpoch !== this.assignmentEpoch || member.state !== 'stable') return 'Reconciling';
    }
    return 'Stable';
  }

  /** Topic names any member subscribes to. */
  subscribedTopicNames(): Set<string> {
    const names = new Set<string>();
    for (const member of this.members.values()) for (const name of member.subscribedTopicNames) names.add(name);
    return names;
  }

  memberByInstanceId(instanceId: string): ConsumerMember | undefined {
    for (const member of this.members.values()) if (member.instanceId === instanceId) return member;
    return undefined;
  }

  /** Whether a member other than `memberId` holds the partition (assigned, or not yet revoked). */
  heldByOther(memberId: string, topicId: string, partition: number): boolean {
    for (const member of this.members.values()) {
      if (member.memberId === memberId) continue;
      if (member.assigned.get(topicId)?.includes(partition) || member.pendingRevocation.get(topicId)?.includes(partition)) return true;
    }
    return false;
  }
}

/**
 * Moves `member` towards its target (Kafka's CurrentAssignmentBuilder). `owned` is what the member says
 * it holds (null: unchanged since its last heartbeat, so assumed to still hold what it was asked to revoke).
 */
export function reconcile(group: ConsumerGroup, member: ConsumerMember, owned: TopicPartitions | null): void {
  const target = group.targetAssignment.get(member.memberId) ?? new Map<string, number[]>();
  const stillOwnsRevoked = (pending: TopicPartitions): boolean => {
    if (owned === null) return size(pending) > 0;
    for (const [topicId, partitions] of pending) {
      const held = owned.get(topicId);
      if (held !== undefined && partitions.some((p) => held.includes(p))) return true;
    }
    return false;
  };

  if (member.state === 'unrevoked-partitions') {
    if (stillOwnsRevoked(member.pendingRevocation)) return;
    member.pendingRevocation = new Map();
  } else if (member.state === 'stable' && member.memberEpoch === group.assignmentEpoch) {
    return;
  }

  const kept: TopicPartitions = new Map();
  const revoke: TopicPartitions = new Map();
  for (const [topicId, partitions] of member.assigned) {
    const targeted = target.get(topicId) ?? [];
    const keep = partitions.filter((p) => targeted.includes(p));
    const drop = partitions.filter((p) => !targeted.includes(p));
    if (keep.length > 0) kept.set(topicId, keep);
    if (drop.length > 0) revoke.set(topicId, drop);
  }

  if (size(revoke) > 0) {
    // The member first gives up what its target no longer has. Like Kafka 4.4, it moves to the new epoch
    // at once (its commits for the partitions it gives up carry that epoch), holding only what it keeps.
    bumpEpoch(group, member);
    member.assigned = kept;
    member.pendingRevocation = revoke;
    member.state = 'unrevoked-partitions';
    return;
  }

  let unreleased = false;
  const next: TopicPartitions = new Map();
  for (const [topicId, partitions] of target) {
    const mine = kept.get(topicId) ?? [];
    const granted = partitions.filter((p) => {
      if (mine.includes(p)) return true;
      if (group.heldByOther(member.memberId, topicId, p)) {
        unreleased = true;
        return false;
      }
      return true;
    });
    if (granted.length > 0) next.set(topicId, granted);
  }
  bumpEpoch(group, member);
  member.assigned = next;
  member.pendingRevocation = new Map();
  member.state = unreleased ? 'unreleased-partitions' : 'stable';
}

function bumpEpoch(group: ConsumerGroup, member: ConsumerMember): void {
  if (member.memberEpoch === group.assignmentEpoch) return;
  member.previousMemberEpoch = member.memberEpoch;
  member.memberEpoch = group.assignmentEpoch;
}

export function size(assignment: TopicPartitions): number {
  let count = 0;
  for (const partitions of assignment.values()) count += partitions.length;
  return count;
}

/** Whether every partition of `a` is in `b`. */
export function isSubset(a: TopicPartitions, b: TopicPartitions): boolean {
  for (const [topicId, partitions] of a) {
    const other = b.get(topicId) ?? [];
    if (partitions.some((p) => !other.includes(p))) return false;
  }
  return true;
}

/** A comparable key of an assignment, to tell whether it changed. */
export function assignmentKey(assignment: TopicPartitions): string {
  return [...assignment]
    .filter(([, partitions]) => partitions.length > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([topicId, partitions]) => `${topicId}:${[...partitions].sort((x, y) => x - y).join(',')}`)
    .join(';');
}
