/**
 * The consumer groups of a cluster as the console and `shoal groups` show them, through kafkajs's admin
 * client: each group's state and members (client id, host, the topics it subscribed to and the partitions it
 * was assigned), and per partition its committed offset, the end of the log and the lag between them. A
 * partition the group never committed on counts its whole retained log as lag (what the group would read).
 */
import { AssignerProtocol, type Admin } from 'kafkajs';

export interface GroupMember {
  memberId: string;
  clientId: string;
  host: string;
  /** The topics the member subscribed to (its join metadata). */
  topics: string[];
  assignment: Array<{ topic: string; partitions: number[] }>;
}

export interface GroupPartition {
  topic: string;
  partition: number;
  /** The committed offset, null for none. Offsets are int64: strings. */
  committed: string | null;
  end: string;
  lag: number;
}

export interface GroupReport {
  group: string;
  state: string;
  members: GroupMember[];
  partitions: GroupPartition[];
  lag: number;
}

/** Every consumer group (or the ones named), by name. */
export async function consumerGroups(admin: Admin, only?: readonly string[]): Promise<GroupReport[]> {
  const names = only ?? (await admin.listGroups()).groups.filter((group) => group.protocolType === 'consumer' || group.protocolType === '').map((group) => group.groupId);
  if (names.length === 0) return [];
  const { groups } = await admin.describeGroups([...names]);
  const ends = new Map<string, Promise<Array<{ partition: number; high: string; low: string }>>>();
  const endsOf = (topic: string) => {
    let found = ends.get(topic);
    if (found === undefined) ends.set(topic, (found = admin.fetchTopicOffsets(topic)));
    return found;
  };
  const reports: GroupReport[] = [];
  for (const described of groups) {
    const members = described.members.map((member): GroupMember => ({
      memberId: member.memberId,
      clientId: member.clientId,
      host: member.clientHost,
      topics: decodeTopics(member.memberMetadata),
      assignment: decodeAssignment(member.memberAssignment),
    }));
    const committed = await admin.fetchOffsets({ groupId: described.groupId });
    const topics = new Set([...committed.map((topic) => topic.topic), ...members.flatMap((member) => [...member.topics, ...member.assignment.map((assigned) => assigned.topic)])]);
    const byTopic = new Map(committed.map((topic) => [topic.topic, new Map(topic.partitions.map((partition) => [partition.partition, partition.offset]))]));
    const partitions: GroupPartition[] = [];
    for (const topic of [...topics].sort()) {
      let offsets: Awaited<ReturnType<typeof endsOf>>;
      try {
        offsets = await endsOf(topic);
      } catch {
        continue; // a topic deleted since the group used it
      }
      for (const { partition, high, low } of [...offsets].sort((a, b) => a.partition - b.partition)) {
        const offset = byTopic.get(topic)?.get(partition);
        const has = offset !== undefined && offset !== '-1';
        const from = has ? BigInt(offset) : BigInt(low);
        partitions.push({ topic, partition, committed: has ? offset : null, end: high, lag: Math.max(0, Number(BigInt(high) - from)) });
      }
    }
    reports.push({ group: described.groupId, state: described.state, members, partitions, lag: partitions.reduce((sum, partition) => sum + partition.lag, 0) });
  }
  return reports.sort((a, b) => a.group.localeCompare(b.group));
}

function decodeTopics(metadata: Buffer): string[] {
  try {
    return metadata.length === 0 ? [] : [...AssignerProtocol.MemberMetadata.decode(metadata)!.topics].sort();
  } catch {
    return [];
  }
}

function decodeAssignment(assignment: Buffer): GroupMember['assignment'] {
  try {
    if (assignment.length === 0) return [];
    const decoded = AssignerProtocol.MemberAssignment.decode(assignment);
    return Object.entries(decoded?.assignment ?? {})
      .map(([topic, partitions]) => ({ topic, partitions: [...partitions].sort((a, b) => a - b) }))
      .sort((a, b) => a.topic.localeCompare(b.topic));
  } catch {
    return [];
  }
}
