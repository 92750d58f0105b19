import { ApiKey } from '../api-keys.js';
import type { ApiDefinition } from '../api.js';

/**
 * DeleteRecords, versions 0-1.
 *
 *   Request  => [name:STRING [partition_index:INT32 offset:INT64]] timeout_ms:INT32
 *   Response => throttle_time_ms:INT32 [name:STRING [partition_index:INT32 low_watermark:INT64 error_code:INT16]]
 *
 * offset -1 means "up to the high watermark".
 */
export interface DeleteRecordsRequest {
  topics: { name: string; partitions: { partitionIndex: number; offset: number }[] }[];
  timeoutMs: number;
}

export interface DeleteRecordsResponse {
  topics: { name: string; partitions: { partitionIndex: number; lowWatermark: number; errorCode: number }[] }[];
}

export const DeleteRecords: ApiDefinition<DeleteRecordsRequest, DeleteRecordsResponse> = {
  apiKey: ApiKey.DeleteRecords,
  name: 'DeleteRecords',
  minVersion: 0,
  maxVersion: 1,
  decodeRequest(r) {
    return {
      topics: r.array((r) => ({
        name: r.string(),
        partitions: r.array((r) => ({ partitionIndex: r.int32(), offset: r.int64() })),
      })),
      timeoutMs: r.int32(),
    };
  },
  encodeResponse(w, _version, response) {
    w.int32(0);
    w.array(response.topics, (w, topic) => {
      w.string(topic.name);
      w.array(topic.partitions, (w, p) => void w.int32(p.partitionIndex).int64(p.lowWatermark).int16(p.errorCode));
    });
  },
};
