import { ApiKey } from '../api-keys.js';
import type { ApiDefinition } from '../api.js';

/**
 * DescribeGroups, versions 0-2.
 *
 *   Request  => groups:[STRING]
 *   Response => [v1+ throttle_time_ms:INT32]
 *               groups:[error_code:INT16 group_id:STRING group_state:STRING protocol_type:STRING
 *                       protocol_data:STRING
 *                       members:[member_id:STRING client_id:STRING client_host:STRING
 *                                member_metadata:BYTES member_assignment:BYTES]]
 *
 * protocol_data is the selected protocol name; like Kafka it and the member metadata/assignment are
 * only filled in while the group is Stable.
 */
export interface DescribeGroupsRequest {
  groups: string[];
}

export interface DescribedGroupMember {
  memberId: string;
  clientId: string;
  clientHost: string;
  memberMetadata: Buffer;
  memberAssignment: Buffer;
}

export interface DescribedGroup {
  errorCode: number;
  groupId: string;
  groupState: string;
  protocolType: string;
  protocolData: string;
  members: DescribedGroupMember[];
}

export interface DescribeGroupsResponse {
  groups: DescribedGroup[];
}

export const DescribeGroups: ApiDefinition<DescribeGroupsRequest, DescribeGroupsResponse> = {
  apiKey: ApiKey.DescribeGroups,
  name: 'DescribeGroups',
  minVersion: 0,
  maxVersion: 2,
  decodeRequest(r) {
    return { groups: r.array((g) => g.string()) };
  },
  encodeResponse(w, version, response) {
    if (version >= 1) w.int32(0);
    w.array(response.groups, (g, group) => {
      g.int16(group.errorCode);
      g.string(group.groupId);
      g.string(group.groupState);
      g.string(group.protocolType);
      g.string(group.protocolData);
      g.array(group.members, (m, member) => {
        m.string(member.memberId);
        m.string(member.clientId);
        m.string(member.clientHost);
        m.bytes(member.memberMetadata);
        m.bytes(member.memberAssignment);
      });
    });
  },
};
