import { ApiKey } from '../api-keys.js';
import type { ApiDefinition } from '../api.js';
import type { Reader } from '../reader.js';
import type { Writer } from '../writer.js';

/**
 * DescribeLogDirs, versions 0-1 (v1 changes only when a throttled response is sent, not its bytes; v2 is
 * the first flexible version and is not served).
 *
 *   Request  => topics:[topic:STRING partitions:[INT32]]        (nullable: null = every topic and partition)
 *   Response => throttle_time_ms:INT32
 *               results:[error_code:INT16 log_dir:STRING
 *                        topics:[name:STRING
 *                                partitions:[partition_index:INT32 partition_size:INT64 offset_lag:INT64 is_future_key:BOOLEAN]]]
 *
 * The broker decodes requests and encodes responses (the `DescribeLogDirs` definition); a client needs
 * the other direction, which `encodeDescribeLogDirsRequest` and `decodeDescribeLogDirsResponse` give, so
 * both sides of the wire layout above live in this one file.
 */
export interface DescribeLogDirsRequest {
  /** null asks for every topic and partition. */
  topics: { topic: string; partitions: number[] }[] | null;
}

export interface DescribeLogDirsPartition {
  partitionIndex: number;
  partitionSize: number;
  offsetLag: number;
  isFutureKey: boolean;
}

export interface DescribeLogDirsResult {
  errorCode: number;
  logDir: string;
  topics: { name: string; partitions: DescribeLogDirsPartition[] }[];
}

export interface DescribeLogDirsResponse {
  results: DescribeLogDirsResult[];
}

export const DescribeLogDirs: ApiDefinition<DescribeLogDirsRequest, DescribeLogDirsResponse> = {
  apiKey: ApiKey.DescribeLogDirs,
  name: 'DescribeLogDirs',
  minVersion: 0,
  maxVersion: 1,
  decodeRequest(r) {
    return { topics: r.nullableArray((r) => ({ topic: r.string(), partitions: r.array((r) => r.int32()) })) };
  },
  encodeResponse(w, _version, response) {
    w.int32(0);
    w.array(response.results, (w, result) => {
      w.int16(result.errorCode).string(result.logDir);
      w.array(result.topics, (w, topic) => {
        w.string(topic.name);
        w.array(topic.partitions, (w, p) => void w.int32(p.partitionIndex).int64(p.partitionSize).int64(p.offsetLag).bool(p.isFutureKey));
      });
    });
  },
};

/** Client side: writes a request body (versions 0-1 share it). */
export function encodeDescribeLogDirsRequest(w: Writer, request: DescribeLogDirsRequest): void {
  w.nullableArray(request.topics, (w, t) => void w.string(t.topic).array(t.partitions, (w, p) => void w.int32(p)));
}

/** Client side: reads a response body (versions 0-1 share it); a short or garbled body raises ProtocolDecodeError. */
export function decodeDescribeLogDirsResponse(r: Reader): DescribeLogDirsResponse & { throttleTimeMs: number } {
  return {
    throttleTimeMs: r.int32(),
    results: r.array((r) => ({
      errorCode: r.int16(),
      logDir: r.string(),
      topics: r.array((r) => ({
        name: r.string(),
        partitions: r.array((r) => ({ partitionIndex: r.int32(), partitionSize: r.int64(), offsetLag: r.int64(), isFutureKey: r.bool() })),
      })),
    })),
  };
}
