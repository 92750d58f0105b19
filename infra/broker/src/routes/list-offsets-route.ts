import { route, type ApiRoute } from '../protocol/api.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, ListOffsets, MAX_TIMESTAMP, type ListOffsetsPartitionResponse } from '../protocol/messages/list-offsets.js';
import type { LogManager } from '../log/log-manager.js';

/** ListOffsets: earliest (-2), latest (-1), the largest timestamp (-3) or the first offset at or after a timestamp. */
export function listOffsetsRoute(logs: LogManager): ApiRoute {
  return route(ListOffsets, (request) => ({
    topics: request.topics.map((topic) => ({
      name: topic.name,
      partitions: topic.partitions.map(({ partitionIndex, timestamp }): ListOffsetsPartitionResponse => {
        const log = logs.getPartition(topic.name, partitionIndex);
        if (!log) return { partitionIndex, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, timestamp: -1, offset: -1 };
        if (timestamp === LATEST_TIMESTAMP) return { partitionIndex, errorCode: ErrorCode.NONE, timestamp: -1, offset: log.logEndOffset };
        if (timestamp === EARLIEST_TIMESTAMP) return { partitionIndex, errorCode: ErrorCode.NONE, timestamp: -1, offset: log.logStartOffset };
        if (timestamp === MAX_TIMESTAMP) {
          const max = logs.offsetOfMaxTimestamp(log);
          return { partitionIndex, errorCode: ErrorCode.NONE, timestamp: max?.timestamp ?? -1, offset: max?.offset ?? -1 };
        }
        const found = logs.offsetForTimestamp(log, timestamp);
        return { partitionIndex, errorCode: ErrorCode.NONE, timestamp: found?.timestamp ?? -1, offset: found?.offset ?? -1 };
      }),
    })),
  }));
}
