import { ApiKey } from '../api-keys.js';
import type { ApiDefinition } from '../api.js';

/**
 * Heartbeat, versions 0-3.
 *
 *   Request  => group_id:STRING generation_id:INT32 member_id:STRING [v3+ group_instance_id:NULLABLE_STRING]
 *   Response => [v1+ throttle_time_ms:INT32] error_code:INT16
 */
export interface HeartbeatRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
}

export interface HeartbeatResponse {
  errorCode: number;
}

export const Heartbeat: ApiDefinition<HeartbeatRequest, HeartbeatResponse> = {
  apiKey: ApiKey.Heartbeat,
  name: 'Heartbeat',
  minVersion: 0,
  maxVersion: 3,
  decodeRequest(r, version) {
    return {
      groupId: r.string(),
      generationId: r.int32(),
      memberId: r.string(),
      groupInstanceId: version >= 3 ? r.nullableString() : null,
    };
  },
  encodeResponse(w, version, response) {
    if (version >= 1) w.int32(0);
    w.int16(response.errorCode);
  },
};
