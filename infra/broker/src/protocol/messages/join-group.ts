import { ApiKey } from '../api-keys.js';
import type { ApiDefinition } from '../api.js';

/**
 * JoinGroup, versions 0-5.
 *
 *   Request  => group_id:STRING session_timeout_ms:INT32 [v1+ rebalance_timeout_ms:INT32] member_id:STRING
 *               [v5+ group_instance_id:NULLABLE_STRING] protocol_type:STRING
 *               protocols:[name:STRING metadata:BYTES]
 *   Response => [v2+ throttle_time_ms:INT32] error_code:INT16 generation_id:INT32 protocol_name:STRING
 *               leader:STRING member_id:STRING
 *               members:[member_id:STRING [v5+ group_instance_id:NULLABLE_STRING] metadata:BYTES]
 *
 * v0 has no rebalance timeout; Kafka then uses the session timeout for it, and so does the decoder.
 * From v4 on, a member joining with an empty member id is answered MEMBER_ID_REQUIRED and must rejoin
 * with the id it was given (the coordinator is told through `requireKnownMemberId`).
 */
export interface JoinGroupProtocol {
  name: string;
  /** A view on the request frame: copy it before keeping it. */
  metadata: Buffer;
}

export interface JoinGroupRequest {
  groupId: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string;
  protocols: JoinGroupProtocol[];
}

export interface JoinGroupResponseMember {
  memberId: string;
  groupInstanceId: string | null;
  metadata: Buffer;
}

export interface JoinGroupResponse {
  errorCode: number;
  generationId: number;
  protocolName: string;
  leader: string;
  memberId: string;
  members: JoinGroupResponseMember[];
}

export const JoinGroup: ApiDefinition<JoinGroupRequest, JoinGroupResponse> = {
  apiKey: ApiKey.JoinGroup,
  name: 'JoinGroup',
  minVersion: 0,
  maxVersion: 5,
  decodeRequest(r, version) {
    const groupId = r.string();
    const sessionTimeoutMs = r.int32();
    const rebalanceTimeoutMs = version >= 1 ? r.int32() : sessionTimeoutMs;
    return {
      groupId,
      sessionTimeoutMs,
      rebalanceTimeoutMs,
      memberId: r.string(),
      groupInstanceId: version >= 5 ? r.nullableString() : null,
      protocolType: r.string(),
      protocols: r.array((p) => ({ name: p.string(), metadata: p.bytes() })),
    };
  },
  encodeResponse(w, version, response) {
    if (version >= 2) w.int32(0);
    w.int16(response.errorCode);
    w.int32(response.generationId);
    w.string(response.protocolName);
    w.string(response.leader);
    w.string(response.memberId);
    w.array(response.members, (m, member) => {
      m.string(member.memberId);
      if (version >= 5) m.nullableString(member.groupInstanceId);
      m.bytes(member.metadata);
    });
  },
};
