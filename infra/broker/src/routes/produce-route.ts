import { NO_RESPONSE, route, type ApiRoute } from '../protocol/api.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { Produce, type ProducePartitionResponse } from '../protocol/messages/produce.js';
import type { AppendRequest, LogManager } from '../log/log-manager.js';
import type { Logger } from 'pino';

/**
 * Produce: every partition's batch is validated and appended in one transaction. acks 0, 1 and -1 are
 * all durable once the transaction commits (there are no followers to wait for); with acks=0 the
 * protocol sends no response at all.
 */
export function produceRoute(logs: LogManager, logger: Logger): ApiRoute {
  return route(Produce, (request) => {
    const acksValid = request.acks === 0 || request.acks === 1 || request.acks === -1;
    const appends: AppendRequest[] = [];
    for (const topic of request.topics) {
      for (const partition of topic.partitions) appends.push({ topic: topic.name, partition: partition.index, records: partition.records });
    }
    const results = acksValid
      ? logs.append(appends)
      : appends.map(() => ({ errorCode: ErrorCode.INVALID_REQUIRED_ACKS, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1, errorMessage: `acks must be 0, 1 or -1, got ${request.acks}` }));
    let i = 0;
    const topics = request.topics.map((topic) => ({
      name: topic.name,
      partitions: topic.partitions.map((partition): ProducePartitionResponse => {
        const result = results[i++]!;
        if (result.errorCode !== ErrorCode.NONE && result.errorCode !== ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) {
          logger.warn({ topic: topic.name, partition: partition.index, errorCode: result.errorCode }, `produce rejected: ${result.errorMessage}`);
        }
        return { index: partition.index, ...result };
      }),
    }));
    return request.acks === 0 ? NO_RESPONSE : { topics };
  });
}
