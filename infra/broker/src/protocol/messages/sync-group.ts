import { ApiKey } from '../api-keys.js';
import type { ApiDefinition } from '../api.js';

/**
 * SyncGroup, versions 0-3.
 *
 *   Request  => group_id:STRING generation_id:INT32 member_id:STRING [v3+ group_instance_id:NULLABLE_STRING]
 *               assignments:[member_id:STRING assignment:BYTES]
 *   Response => [v1+ throttle_time_ms:INT32] error_code:INT16 assignment:BYTES
 *
 * Only the group leader sends assignments; followers send an empty array.
 */
export interface SyncGroupAssignment {
  memberId: string;
  /** A view on the request frame: copy it before keeping it. */
  assignment: Buffer;
}

export interface SyncGroupRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  assignments: SyncGroupAssignment[];
}

export interface SyncGroupResponse {
  errorCode: number;
  assignment: Buffer;
}

export const SyncGroup: ApiDefinition<SyncGroupRequest, SyncGroupResponse> = {
  apiKey: ApiKey.SyncGroup,
  name: 'SyncGroup',
  minVersion: 0,
  maxVersion: 3,
  decodeRequest(r, version) {
    return {
      groupId: r.string(),
      generationId: r.int32(),
      memberId: r.string(),
      groupInstanceId: version >= 3 ? r.nullableString() : null,
      assignments: r.array((a) => ({ memberId: a.string(), assignment: a.bytes() })),
    };
  },
  encodeResponse(w, version, response) {
    if (version >= 1) w.int32(0);
    w.int16(response.errorCode);
    w.bytes(response.assignment);
  },
};
