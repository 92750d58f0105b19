import { route, type ApiRoute, type RequestContext } from '../protocol/api.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { Fetch, type FetchPartitionResponse, type FetchRequest, type FetchResponse } from '../protocol/messages/fetch.js';
import type { LogManager, PartitionLog } from '../log/log-manager.js';

/**
 * Kafka's broker-side fetch.max.bytes default (55 MiB): a response never holds more than this, whatever
 * max_bytes a client asks for, so one request cannot pull a whole log into memory.
 */
export const FETCH_MAX_BYTES = 57_671_680;

interface FetchAttempt {
  response: FetchResponse;
  bytes: number;
  hasError: boolean;
}

/**
 * Fetch with long-poll. A fetch that finds fewer than min_bytes (at least 1: an empty answer sent at
 * once makes consumers spin) is parked until an append to one of its partitions commits, the topic goes
 * away, max_wait_ms expires, or the connection closes. The parked request holds its place in the
 * connection's response order.
 */
export function fetchRoute(logs: LogManager): ApiRoute {
  const attempt = (request: FetchRequest): FetchAttempt => {
    let remaining = Math.min(request.maxBytes, FETCH_MAX_BYTES);
    let bytes = 0;
    let hasError = false;
    const topics = request.topics.map(({ topic, partitions }) => ({
      topic,
      partitions: partitions.map((p): FetchPartitionResponse => {
        const log = logs.getPartition(topic, p.partition);
        const base = { partitionIndex: p.partition, batches: [] as Buffer[], batchBytes: 0 };
        if (!log) {
          hasError = true;
          return { ...base, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, highWatermark: -1, logStartOffset: -1 };
        }
        const positions = { highWatermark: log.logEndOffset, logStartOffset: log.logStartOffset };
        if (p.fetchOffset < log.logStartOffset || p.fetchOffset > log.logEndOffset) {
          hasError = true;
          // As Kafka answers: an out-of-range fetch learns no positions (clients reset with ListOffsets).
          return { ...base, highWatermark: -1, logStartOffset: -1, errorCode: ErrorCode.OFFSET_OUT_OF_RANGE };
        }
        const limit = Math.max(0, Math.min(p.partitionMaxBytes, remaining));
        const read = logs.read(log, p.fetchOffset, limit, bytes === 0);
        bytes += read.bytes;
        remaining -= read.bytes;
        return { ...base, ...positions, errorCode: ErrorCode.NONE, batches: read.batches, batchBytes: read.bytes };
      }),
    }));
    return { response: { topics }, bytes, hasError };
  };

  return route(Fetch, (request, _version, context: RequestContext) => {
    const first = attempt(request);
    const minBytes = Math.max(1, request.minBytes);
    if (first.bytes >= minBytes || first.hasError || request.maxWaitMs <= 0) return first.response;

    const watched: PartitionLog[] = [];
    for (const { topic, partitions } of request.topics) {
      for (const p of partitions) {
        const log = logs.getPartition(topic, p.partition);
        if (log) watched.push(log);
      }
    }
    return new Promise<FetchResponse>((resolve) => {
      let settled = false;
      const unsubscribes = watched.map((log) => log.onAppend(onAppend));
      const timer = setTimeout(() => finish(attempt(request)), request.maxWaitMs);
      const onClosed = () => finish(first);
      context.closed.addEventListener('abort', onClosed, { once: true });

      function finish(result: FetchAttempt): void {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        for (const unsubscribe of unsubscribes) unsubscribe();
        context.closed.removeEventListener('abort', onClosed);
        resolve(result.response);
      }

      function onAppend(): void {
        if (settled) return;
        const next = attempt(request);
        if (next.bytes >= minBytes || next.hasError) finish(next);
      }
    });
  });
}
