import { ApiKey } from '../api-keys.js';
import type { ApiDefinition } from '../api.js';

/**
 * LeaveGroup, versions 0-3.
 *
 *   Request  => group_id:STRING
 *               v0-2: member_id:STRING
 *               v3:   members:[member_id:STRING group_instance_id:NULLABLE_STRING]
 *   Response => [v1+ throttle_time_ms:INT32] error_code:INT16
 *               [v3 members:[member_id:STRING group_instance_id:NULLABLE_STRING error_code:INT16]]
 *
 * The decoder turns v0-2's single member into a one-member list so the coordinator sees one shape.
 * Before v3 there is no per-member error, so (like Kafka) the first member error becomes the top-level one.
 */
export interface LeaveGroupMember {
  memberId: string;
  groupInstanceId: string | null;
}

export interface LeaveGroupRequest {
  groupId: string;
  members: LeaveGroupMember[];
}

export interface LeaveGroupMemberResponse {
  memberId: string;
  groupInstanceId: string | null;
  errorCode: number;
}

export interface LeaveGroupResponse {
  errorCode: number;
  members: LeaveGroupMemberResponse[];
}

export const LeaveGroup: ApiDefinition<LeaveGroupRequest, LeaveGroupResponse> = {
  apiKey: ApiKey.LeaveGroup,
  name: 'LeaveGroup',
  minVersion: 0,
  maxVersion: 3,
  decodeRequest(r, version) {
    const groupId = r.string();
    if (version < 3) return { groupId, members: [{ memberId: r.string(), groupInstanceId: null }] };
    return {
      groupId,
      members: r.array((m) => ({ memberId: m.string(), groupInstanceId: m.nullableString() })),
    };
  },
  encodeResponse(w, version, response) {
    if (version >= 1) w.int32(0);
    if (version < 3) {
      const memberError = response.members.find((member) => member.errorCode !== 0)?.errorCode ?? 0;
      w.int16(response.errorCode !== 0 ? response.errorCode : memberError);
      return;
    }
    w.int16(response.errorCode);
    w.array(response.members, (m, member) => {
      m.string(member.memberId);
      m.nullableString(member.groupInstanceId);
      m.int16(member.errorCode);
    });
  },
};
