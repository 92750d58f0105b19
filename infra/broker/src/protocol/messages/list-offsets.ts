import { ApiKey } from '../api-keys.js';
import type { ApiDefinition } from '../api.js';

/**
 * ListOffsets, versions 0-3.
 *
 *   Request  => replica_id:INT32 v2+ isolation_level:INT8
 *               [name:STRING [partition_index:INT32 timestamp:INT64 v0 max_num_offsets:INT32]]
 *   Response => v2+ throttle_time_ms:INT32
 *               [name:STRING [partition_index:INT32 error_code:INT16
 *                v0 old_style_offsets:[INT64]  |  v1+ timestamp:INT64 offset:INT64]]
 *
 * timestamp -1 = latest (log end offset), -2 = earliest (log start offset), otherwise the first offset
 * whose record timestamp is at or after it.
 */
export const LATEST_TIMESTAMP = -1;
export const EARLIEST_TIMESTAMP = -2;

export interface ListOffsetsRequest {
  topics: { name: string; partitions: { partitionIndex: number; timestamp: number; maxNumOffsets: number }[] }[];
}

export interface ListOffsetsPartitionResponse {
  partitionIndex: number;
  errorCode: number;
  timestamp: number;
  offset: number;
}

export interface ListOffsetsResponse {
  topics: { name: string; partitions: ListOffsetsPartitionResponse[] }[];
}

export const ListOffsets: ApiDefinition<ListOffsetsRequest, ListOffsetsResponse> = {
  apiKey: ApiKey.ListOffsets,
  name: 'ListOffsets',
  minVersion: 0,
  maxVersion: 3,
  decodeRequest(r, version) {
    r.int32();
    if (version >= 2) r.int8();
    return {
      topics: r.array((r) => ({
        name: r.string(),
        partitions: r.array((r) => ({
          partitionIndex: r.int32(),
          timestamp: r.int64(),
          maxNumOffsets: version === 0 ? r.int32() : 1,
        })),
      })),
    };
  },
  encodeResponse(w, version, response) {
    if (version >= 2) w.int32(0);
    w.array(response.topics, (w, topic) => {
      w.string(topic.name);
      w.array(topic.partitions, (w, p) => {
        w.int32(p.partitionIndex).int16(p.errorCode);
        if (version === 0) {
          const offsets = p.errorCode === 0 && p.offset >= 0 ? [p.offset] : [];
          w.array(offsets, (w, offset) => void w.int64(offset));
        } else {
          w.int64(p.timestamp).int64(p.offset);
        }
      });
    });
  },
};
