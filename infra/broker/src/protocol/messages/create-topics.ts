import { ApiKey } from '../api-keys.js';
import type { ApiDefinition } from '../api.js';

/**
 * CreateTopics, versions 0-4.
 *
 *   Request  => [name:STRING num_partitions:INT32 replication_factor:INT16
 *                [partition_index:INT32 [broker_id:INT32]] [name:STRING value:NULLABLE_STRING]]
 *               timeout_ms:INT32 v1+ validate_only:BOOLEAN
 *   Response => v2+ throttle_time_ms:INT32 [name:STRING error_code:INT16 v1+ error_message:NULLABLE_STRING]
 *
 * num_partitions / replication_factor of -1 mean "broker default" (v4+).
 */
export interface CreatableTopic {
  name: string;
  numPartitions: number;
  replicationFactor: number;
  assignments: { partitionIndex: number; brokerIds: number[] }[];
  configs: { name: string; value: string | null }[];
}

export interface CreateTopicsRequest {
  topics: CreatableTopic[];
  timeoutMs: number;
  validateOnly: boolean;
}

export interface TopicResult {
  name: string;
  errorCode: number;
  errorMessage: string | null;
}

export interface CreateTopicsResponse {
  topics: TopicResult[];
}

export const CreateTopics: ApiDefinition<CreateTopicsRequest, CreateTopicsResponse> = {
  apiKey: ApiKey.CreateTopics,
  name: 'CreateTopics',
  minVersion: 0,
  maxVersion: 4,
  decodeRequest(r, version) {
    const topics = r.array((r) => ({
      name: r.string(),
      numPartitions: r.int32(),
      replicationFactor: r.int16(),
      assignments: r.array((r) => ({ partitionIndex: r.int32(), brokerIds: r.array((r) => r.int32()) })),
      configs: r.array((r) => ({ name: r.string(), value: r.nullableString() })),
    }));
    const timeoutMs = r.int32();
    const validateOnly = version >= 1 ? r.bool() : false;
    return { topics, timeoutMs, validateOnly };
  },
  encodeResponse(w, version, response) {
    if (version >= 2) w.int32(0);
    w.array(response.topics, (w, topic) => {
      w.string(topic.name).int16(topic.errorCode);
      if (version >= 1) w.nullableString(topic.errorMessage);
    });
  },
};
