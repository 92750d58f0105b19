/**
 * The server-side assignors of the consumer group protocol (KIP-848): the coordinator, not a group leader,
 * decides which member consumes which partition. Both are pure functions of the members' subscriptions,
 * the topics' partition counts and the previous target assignment.
 *
 *   uniform  every partition of the subscribed topics to one subscriber, counts even when members share
 *            their subscriptions; a partition with one subscriber goes to it, then a member keeps what it
 *            had up to its share (sticky), the rest goes to the subscriber with the fewest partitions,
 *            topics with fewest subscribers first (Kafka's
 *            default server assignor; Kafka balances mixed subscriptions more thoroughly)
 *   range    per topic, its subscribers in member-id order take contiguous ranges, the first
 *            (partitions % subscribers) one partition more (the classic RangeAssignor's layout)
 */

/** Partitions by topic id (32 hex digits), each list ascending. */
export type TopicPartitions = Map<string, number[]>;

export interface AssignorMember {
  memberId: string;
  /** Ids of the topics the member subscribes to that exist. */
  topicIds: ReadonlySet<string>;
  /** The member's previous target, kept where it still fits (uniform only). */
  previous: TopicPartitions;
}

export type Assignor = (members: readonly AssignorMember[], partitionCounts: ReadonlyMap<string, number>) => Map<string, TopicPartitions>;

export const UNIFORM_ASSIGNOR = 'uniform';
export const RANGE_ASSIGNOR = 'range';

export const assignors: Readonly<Record<string, Assignor>> = {
  [UNIFORM_ASSIGNOR]: uniformAssignment,
  [RANGE_ASSIGNOR]: rangeAssignment,
};

function uniformAssignment(members: readonly AssignorMember[], partitionCounts: ReadonlyMap<string, number>): Map<string, TopicPartitions> {
  const sorted = [...members].sort((a, b) => compare(a.memberId, b.memberId));
  const counts = new Map(sorted.map((m) => [m.memberId, 0]));
  const owner = new Map<string, string>();
  const wanted: [string, number][] = [];
  // Topics with fewer subscribers first: they have fewer places to go, so they are placed while every
  // member still has room (a shared topic then fills up whoever got less).
  const subscribers = (topicId: string) => sorted.filter((m) => m.topicIds.has(topicId)).length;
  const topics = [...partitionCounts].filter(([topicId]) => subscribers(topicId) > 0);
  topics.sort(([a], [b]) => subscribers(a) - subscribers(b) || compare(a, b));
  for (const [topicId, count] of topics) for (let p = 0; p < count; p++) wanted.push([topicId, p]);
  const share = sorted.length === 0 ? 0 : Math.ceil(wanted.length / sorted.length);
  const give = (key: string, memberId: string) => {
    owner.set(key, memberId);
    counts.set(memberId, counts.get(memberId)! + 1);
  };
  // A partition only one member can take is that member's before anything else is weighed.
  for (const [topicId, p] of wanted) {
    const only = sorted.filter((m) => m.topicIds.has(topicId));
    if (only.length === 1) give(`${topicId}:${p}`, only[0]!.memberId);
  }
  for (const member of sorted) {
    for (const [topicId, partitions] of member.previous) {
      if (!member.topicIds.has(topicId)) continue;
      const count = partitionCounts.get(topicId) ?? 0;
      for (const p of partitions) {
        const key = `${topicId}:${p}`;
        if (p >= count || owner.has(key) || counts.get(member.memberId)! >= share) continue;
        give(key, member.memberId);
      }
    }
  }
  for (const [topicId, p] of wanted) {
    const key = `${topicId}:${p}`;
    if (owner.has(key)) continue;
    let fewest: AssignorMember | undefined;
    for (const member of sorted) {
      if (member.topicIds.has(topicId) && (fewest === undefined || counts.get(member.memberId)! < counts.get(fewest.memberId)!)) fewest = member;
    }
    if (fewest !== undefined) give(key, fewest.memberId);
  }
  const result = new Map(sorted.map((m) => [m.memberId, new Map() as TopicPartitions]));
  for (const [topicId, p] of wanted) {
    const memberId = owner.get(`${topicId}:${p}`);
    if (memberId !== undefined) add(result.get(memberId)!, topicId, p);
  }
  return result;
}

function rangeAssignment(members: readonly AssignorMember[], partitionCounts: ReadonlyMap<string, number>): Map<string, TopicPartitions> {
  const sorted = [...members].sort((a, b) => compare(a.memberId, b.memberId));
  const result = new Map(sorted.map((m) => [m.memberId, new Map() as TopicPartitions]));
  for (const [topicId, count] of partitionCounts) {
    const subscribers = sorted.filter((m) => m.topicIds.has(topicId));
    if (subscribers.length === 0) continue;
    const each = Math.floor(count / subscribers.length);
    const extra = count % subscribers.length;
    let next = 0;
    subscribers.forEach((member, i) => {
      const take = each + (i < extra ? 1 : 0);
      for (let p = next; p < next + take; p++) add(result.get(member.memberId)!, topicId, p);
      next += take;
    });
  }
  return result;
}

function add(assignment: TopicPartitions, topicId: string, partition: number): void {
  const partitions = assignment.get(topicId);
  if (partitions === undefined) assignment.set(topicId, [partition]);
  else partitions.push(partition);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
