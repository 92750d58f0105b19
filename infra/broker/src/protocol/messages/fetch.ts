import { ApiKey } from '../api-keys.js';
import type { ApiDefinition } from '../api.js';
import { ErrorCode } from '../error-codes.js';

/**
 * Fetch, versions 0-11. Stored batches are served as they are (magic v2); versions below 4 are
 * advertised for librdkafka's feature detection, not for clients that cannot read v2 batches.
 *
 *   Request  => replica_id:INT32 max_wait_ms:INT32 min_bytes:INT32 v3+ max_bytes:INT32 v4+ isolation_level:INT8
 *               v7+ session_id:INT32 session_epoch:INT32
 *               [topic:STRING [partition:INT32 v9+ current_leader_epoch:INT32 fetch_offset:INT64
 *                v5+ log_start_offset:INT64 partition_max_bytes:INT32]]
 *               v7+ [forgotten_topic:STRING [partition:INT32]]  v11+ rack_id:STRING
 *   Response => v1+ throttle_time_ms:INT32 v7+ error_code:INT16 session_id:INT32
 *               [topic:STRING [partition_index:INT32 error_code:INT16 high_watermark:INT64
 *                v4+ last_stable_offset:INT64 v5+ log_start_offset:INT64
 *                v4+ aborted_transactions:NULLABLE_ARRAY[producer_id:INT64 first_offset:INT64]
 *                v11+ preferred_read_replica:INT32 records:NULLABLE_BYTES]]
 *
 * Incremental fetch sessions (KIP-227) are not offered: session_id 0 in the response tells the client
 * to keep sending full fetch requests.
 */
export interface FetchPartitionRequest {
  partition: number;
  fetchOffset: number;
  partitionMaxBytes: number;
}

export interface FetchRequest {
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
  isolationLevel: number;
  topics: { topic: string; partitions: FetchPartitionRequest[] }[];
}

export interface FetchPartitionResponse {
  partitionIndex: number;
  errorCode: number;
  highWatermark: number;
  logStartOffset: number;
  /** Stored record batches, concatenated on the wire without copying. */
  batches: Buffer[];
  batchBytes: number;
}

export interface FetchResponse {
  topics: { topic: string; partitions: FetchPartitionResponse[] }[];
}

export const Fetch: ApiDefinition<FetchRequest, FetchResponse> = {
  apiKey: ApiKey.Fetch,
  name: 'Fetch',
  minVersion: 0,
  maxVersion: 11,
  decodeRequest(r, version) {
    r.int32(); // replica_id: always a consumer here
    const maxWaitMs = r.int32();
    const minBytes = r.int32();
    const maxBytes = version >= 3 ? r.int32() : 0x7fffffff;
    const isolationLevel = version >= 4 ? r.int8() : 0;
    if (version >= 7) {
      r.int32(); // session_id
      r.int32(); // session_epoch
    }
    const topics = r.array((r) => ({
      topic: r.string(),
      partitions: r.array((r) => {
        const partition = r.int32();
        if (version >= 9) r.int32(); // current_leader_epoch
        const fetchOffset = r.int64();
        if (version >= 5) r.int64(); // log_start_offset: only followers send a meaningful one
        return { partition, fetchOffset, partitionMaxBytes: r.int32() };
      }),
    }));
    if (version >= 7) r.array((r) => ({ topic: r.string(), partitions: r.array((r) => r.int32()) }));
    if (version >= 11) r.string();
    return { maxWaitMs, minBytes, maxBytes, isolationLevel, topics };
  },
  encodeResponse(w, version, response) {
    if (version >= 1) w.int32(0);
    if (version >= 7) w.int16(0).int32(0);
    w.array(response.topics, (w, topic) => {
      w.string(topic.topic);
      w.array(topic.partitions, (w, p) => {
        w.int32(p.partitionIndex).int16(p.errorCode).int64(p.highWatermark);
        if (version >= 4) w.int64(p.highWatermark); // last_stable_offset: no transactions, so the high watermark
        if (version >= 5) w.int64(p.logStartOffset);
        // aborted_transactions: none without transactions. Kafka sends null, except an empty array for a
        // partition it does not host; so does this broker, so the answers match byte for byte.
        if (version >= 4) w.int32(p.errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION ? 0 : -1);
        if (version >= 11) w.int32(-1);
        w.int32(p.batchBytes);
        for (const batch of p.batches) w.raw(batch);
      });
    });
  },
};
