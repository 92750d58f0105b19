/**
 * Where a projection's topics begin and end, asked of the broker with ListOffsets (kafkajs's admin):
 * earliest (the log start, which retention may have moved past 0), latest (the high watermark: the offset the
 * next record will get), or the first offset whose timestamp is at or after a time (none: the high watermark).
 */
import type { Admin } from 'kafkajs';
import { PartitionMap } from './partition-map.js';
import type { BuildFrom } from './read-model.js';

/** The high watermark of every partition of `topics`. */
export async function endOffsets(admin: Admin, topics: readonly string[]): Promise<PartitionMap<number>> {
  const offsets = new PartitionMap<number>();
  for (const topic of topics) {
    for (const { partition, high } of await admin.fetchTopicOffsets(topic)) offsets.set(topic, partition, Number(high));
  }
  return offsets;
}

/** The first offset a build from `from` applies in every partition of `topics`. */
export async function startOffsets(admin: Admin, topics: readonly string[], from: BuildFrom): Promise<PartitionMap<number>> {
  const offsets = new PartitionMap<number>();
  for (const topic of topics) {
    if (from === 'beginning') {
      for (const { partition, low } of await admin.fetchTopicOffsets(topic)) offsets.set(topic, partition, Number(low));
    } else {
      for (const { partition, offset } of await admin.fetchTopicOffsetsByTimestamp(topic, from.timestamp)) offsets.set(topic, partition, Number(offset));
    }
  }
  return offsets;
}
