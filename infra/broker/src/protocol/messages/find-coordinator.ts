import { ApiKey } from '../api-keys.js';
import type { ApiDefinition } from '../api.js';

/**
 * FindCoordinator, versions 0-2.
 *
 *   Request  => key:STRING [v1+ key_type:INT8]
 *   Response => [v1+ throttle_time_ms:INT32] error_code:INT16 [v1+ error_message:NULLABLE_STRING]
 *               node_id:INT32 host:STRING port:INT32
 *
 * key_type 0 names a consumer group, 1 a transactional id; v0 can only ask for groups.
 */
export interface FindCoordinatorRequest {
  key: string;
  keyType: number;
}

export interface FindCoordinatorResponse {
  errorCode: number;
  errorMessage: string | null;
  nodeId: number;
  host: string;
  port: number;
}

export const FindCoordinator: ApiDefinition<FindCoordinatorRequest, FindCoordinatorResponse> = {
  apiKey: ApiKey.FindCoordinator,
  name: 'FindCoordinator',
  minVersion: 0,
  maxVersion: 2,
  decodeRequest(r, version) {
    return {
      key: r.string(),
      keyType: version >= 1 ? r.int8() : 0,
    };
  },
  encodeResponse(w, version, response) {
    if (version >= 1) w.int32(0);
    w.int16(response.errorCode);
    if (version >= 1) w.nullableString(response.errorMessage);
    w.int32(response.nodeId);
    w.string(response.host);
    w.int32(response.port);
  },
};
