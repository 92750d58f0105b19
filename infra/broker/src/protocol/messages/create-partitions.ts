import { ApiKey } from '../api-keys.js';
import type { ApiDefinition } from '../api.js';

/**
 * CreatePartitions, versions 0-1.
 *
 *   Request  => [name:STRING count:INT32 assignments:NULLABLE_ARRAY[[broker_id:INT32]]]
 *               timeout_ms:INT32 validate_only:BOOLEAN
 *   Response => throttle_time_ms:INT32 [name:STRING error_code:INT16 error_message:NULLABLE_STRING]
 */
export interface CreatePartitionsRequest {
  topics: { name: string; count: number }[];
  timeoutMs: number;
  validateOnly: boolean;
}

export interface CreatePartitionsResponse {
  results: { name: string; errorCode: number; errorMessage: string | null }[];
}

export const CreatePartitions: ApiDefinition<CreatePartitionsRequest, CreatePartitionsResponse> = {
  apiKey: ApiKey.CreatePartitions,
  name: 'CreatePartitions',
  minVersion: 0,
  maxVersion: 1,
  decodeRequest(r) {
    const topics = r.array((r) => {
      const topic = { name: r.string(), count: r.int32() };
      r.nullableArray((r) => r.array((r) => r.int32()));
      return topic;
    });
    return { topics, timeoutMs: r.int32(), validateOnly: r.bool() };
  },
  encodeResponse(w, _version, response) {
    w.int32(0);
    w.array(response.results, (w, result) => {
      w.string(result.name).int16(result.errorCode).nullableString(result.errorMessage);
    });
  },
};
