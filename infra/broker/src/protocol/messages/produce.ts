import { ApiKey } from '../api-keys.js';
import type { ApiDefinition } from '../api.js';

/**
 * Produce, versions 0-7. Only record batches of magic v2 are accepted, whatever the version: v0-2 are
 * advertised because librdkafka enables features only when version ranges overlap from 0, but a legacy
 * message set gets UNSUPPORTED_FOR_MESSAGE_FORMAT for its partition.
 *
 *   Request  => v3+ transactional_id:NULLABLE_STRING acks:INT16 timeout_ms:INT32
 *               [name:STRING [index:INT32 records:NULLABLE_BYTES]]
 *   Response => [name:STRING [index:INT32 error_code:INT16 base_offset:INT64 v2+ log_append_time_ms:INT64
 *               v5+ log_start_offset:INT64]] v1+ throttle_time_ms:INT32
 *
 * `records` stays a view on the request frame: the batch is validated and stored without a copy here.
 */
export interface ProducePartitionData {
  index: number;
  records: Buffer | null;
}

export interface ProduceTopicData {
  name: string;
  partitions: ProducePartitionData[];
}

export interface ProduceRequest {
  transactionalId: string | null;
  acks: number;
  timeoutMs: number;
  topics: ProduceTopicData[];
}

export interface ProducePartitionResponse {
  index: number;
  errorCode: number;
  baseOffset: number;
  logAppendTimeMs: number;
  logStartOffset: number;
}

export interface ProduceResponse {
  topics: { name: string; partitions: ProducePartitionResponse[] }[];
}

export const Produce: ApiDefinition<ProduceRequest, ProduceResponse> = {
  apiKey: ApiKey.Produce,
  name: 'Produce',
  minVersion: 0,
  maxVersion: 7,
  decodeRequest(r, version) {
    return {
      transactionalId: version >= 3 ? r.nullableString() : null,
      acks: r.int16(),
      timeoutMs: r.int32(),
      topics: r.array((r) => ({
        name: r.string(),
        partitions: r.array((r) => ({ index: r.int32(), records: r.nullableBytes() })),
      })),
    };
  },
  encodeResponse(w, version, response) {
    w.array(response.topics, (w, topic) => {
      w.string(topic.name);
      w.array(topic.partitions, (w, p) => {
        w.int32(p.index).int16(p.errorCode).int64(p.baseOffset);
        if (version >= 2) w.int64(p.logAppendTimeMs);
        if (version >= 5) w.int64(p.logStartOffset);
      });
    });
    if (version >= 1) w.int32(0);
  },
};
