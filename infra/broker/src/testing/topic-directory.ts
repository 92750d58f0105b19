import type { TopicDirectory } from '../groups/consumer-group-coordinator.js';

/** A TopicDirectory over fixed topics (name -> partition count), each with an id derived from its name. */
export function topicDirectory(partitionCounts: ReadonlyMap<string, number>): TopicDirectory {
  const uuidOf = (name: string) => Buffer.from(name.padEnd(16, '\0').slice(0, 16)).toString('hex');
  return {
    byName: (name) => (partitionCounts.has(name) ? { uuid: uuidOf(name), partitions: partitionCounts.get(name)! } : undefined),
    byUuid: (uuid) => {
      for (const [name, partitions] of partitionCounts) if (uuidOf(name) === uuid) return { name, partitions };
      return undefined;
    },
    names: () => [...partitionCounts.keys()],
  };
}
