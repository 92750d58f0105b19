import { route, type ApiRoute } from '../protocol/api.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { DescribeLogDirs, type DescribeLogDirsPartition, type DescribeLogDirsResult } from '../protocol/messages/describe-log-dirs.js';
import type { LogManager, PartitionLog, Topic } from '../log/log-manager.js';

export interface LogDirsOptions {
  /** The one log dir this broker reports: its data directory, as an absolute path. */
  logDir: string;
}

/**
 * DescribeLogDirs: one log dir holding every partition. Sizes are the bytes of the stored record batches,
 * the in-memory figure the log manager keeps for retention.bytes (updated on append, DeleteRecords and
 * retention), so a request costs no table scan. Like Kafka, topics and partitions this broker does not
 * hold are left out rather than answered with an error; there is no follower or future replica, so
 * offset_lag is 0 and is_future_key false.
 */
export function describeLogDirsRoute(logs: LogManager, options: LogDirsOptions): ApiRoute {
  const describe = (log: PartitionLog): DescribeLogDirsPartition => ({ partitionIndex: log.index, partitionSize: log.sizeBytes, offsetLag: 0, isFutureKey: false });
  const describeTopic = (topic: Topic, partitions: readonly PartitionLog[]) => ({ name: topic.name, partitions: partitions.map(describe) });

  return route(DescribeLogDirs, (request) => {
    let topics: DescribeLogDirsResult['topics'];
    if (request.topics === null) {
      topics = logs.listTopics().map((topic) => describeTopic(topic, topic.partitions));
    } else {
      topics = [];
      // A topic named twice is answered once, its partitions merged, as Kafka's request is keyed by topic.
      const wanted = new Map<string, Set<number>>();
      for (const { topic, partitions } of request.topics) {
        const indexes = wanted.get(topic) ?? new Set<number>();
        partitions.forEach((p) => indexes.add(p));
        wanted.set(topic, indexes);
      }
      for (const [name, indexes] of wanted) {
        const topic = logs.getTopic(name);
        if (!topic) continue;
        const held = [...indexes].flatMap((p) => topic.partitions[p] ?? []);
        if (held.length > 0) topics.push(describeTopic(topic, held));
      }
    }
    return { results: [{ errorCode: ErrorCode.NONE, logDir: options.logDir, topics }] };
  });
}
