import { ApiKey } from '../api-keys.js';
import type { ApiDefinition } from '../api.js';
import type { Reader } from '../reader.js';

/**
 * OffsetFetch, versions 0-5.
 *
 *   Request  => group_id:STRING topics:[name:STRING partition_indexes:[INT32]]   (v2+: topics may be null)
 *   Response => [v3+ throttle_time_ms:INT32]
 *               topics:[name:STRING
 *                       partitions:[partition_index:INT32 committed_offset:INT64 [v5+ committed_leader_epoch:INT32]
 *                                   metadata:NULLABLE_STRING error_code:INT16]]
 *               [v2+ error_code:INT16]
 *
 * Null topics (v2+) asks for every offset the group has committed. v0-1 have no top-level error code,
 * so a group-level error must be repeated on each requested partition (see `offsetFetchError`).
 */
export interface OffsetFetchRequestTopic {
  name: string;
  partitionIndexes: number[];
}

export interface OffsetFetchRequest {
  groupId: string;
  topics: OffsetFetchRequestTopic[] | null;
}

export interface OffsetFetchResponsePartition {
  partitionIndex: number;
  committedOffset: number;
  committedLeaderEpoch: number;
  metadata: string | null;
  errorCode: number;
}

export interface OffsetFetchResponseTopic {
  name: string;
  partitions: OffsetFetchResponsePartition[];
}

export interface OffsetFetchResponse {
  errorCode: number;
  topics: OffsetFetchResponseTopic[];
}

export const OffsetFetch: ApiDefinition<OffsetFetchRequest, OffsetFetchResponse> = {
  apiKey: ApiKey.OffsetFetch,
  name: 'OffsetFetch',
  minVersion: 0,
  maxVersion: 5,
  decodeRequest(r, version) {
    const groupId = r.string();
    const readTopic = (t: Reader): OffsetFetchRequestTopic => ({ name: t.string(), partitionIndexes: t.array((p) => p.int32()) });
    return { groupId, topics: version >= 2 ? r.nullableArray(readTopic) : r.array(readTopic) };
  },
  encodeResponse(w, version, response) {
    if (version >= 3) w.int32(0);
    w.array(response.topics, (t, topic) => {
      t.string(topic.name);
      t.array(topic.partitions, (p, partition) => {
        p.int32(partition.partitionIndex);
        p.int64(partition.committedOffset);
        if (version >= 5) p.int32(partition.committedLeaderEpoch);
        p.nullableString(partition.metadata);
        p.int16(partition.errorCode);
      });
    });
    if (version >= 2) w.int16(response.errorCode);
  },
};

/** The answer to a request refused as a whole, in the shape its version can carry. */
export function offsetFetchError(request: OffsetFetchRequest, version: number, errorCode: number): OffsetFetchResponse {
  if (version >= 2 || request.topics === null) return { errorCode, topics: [] };
  return {
    errorCode,
    topics: request.topics.map((topic) => ({
      name: topic.name,
      partitions: topic.partitionIndexes.map((partitionIndex) => ({
        partitionIndex,
        committedOffset: -1,
        committedLeaderEpoch: -1,
        metadata: '',
        errorCode,
      })),
    })),
  };
}
