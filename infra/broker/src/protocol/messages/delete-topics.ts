import { ApiKey } from '../api-keys.js';
import type { ApiDefinition } from '../api.js';

/**
 * DeleteTopics, versions 0-3.
 *
 *   Request  => [topic_name:STRING] timeout_ms:INT32
 *   Response => v1+ throttle_time_ms:INT32 [name:STRING error_code:INT16]
 */
export interface DeleteTopicsRequest {
  topicNames: string[];
  timeoutMs: number;
}

export interface DeleteTopicsResponse {
  responses: { name: string; errorCode: number }[];
}

export const DeleteTopics: ApiDefinition<DeleteTopicsRequest, DeleteTopicsResponse> = {
  apiKey: ApiKey.DeleteTopics,
  name: 'DeleteTopics',
  minVersion: 0,
  maxVersion: 3,
  decodeRequest(r) {
    return { topicNames: r.array((r) => r.string()), timeoutMs: r.int32() };
  },
  encodeResponse(w, version, response) {
    if (version >= 1) w.int32(0);
    w.array(response.responses, (w, result) => void w.string(result.name).int16(result.errorCode));
  },
};
