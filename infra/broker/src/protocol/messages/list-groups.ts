import { ApiKey } from '../api-keys.js';
import type { ApiDefinition } from '../api.js';

/**
 * ListGroups, versions 0-2.
 *
 *   Request  => (no fields)
 *   Response => [v1+ throttle_time_ms:INT32] error_code:INT16 groups:[group_id:STRING protocol_type:STRING]
 */
export type ListGroupsRequest = Record<string, never>;

export interface ListedGroup {
  groupId: string;
  protocolType: string;
}

export interface ListGroupsResponse {
  errorCode: number;
  groups: ListedGroup[];
}

export const ListGroups: ApiDefinition<ListGroupsRequest, ListGroupsResponse> = {
  apiKey: ApiKey.ListGroups,
  name: 'ListGroups',
  minVersion: 0,
  maxVersion: 2,
  decodeRequest() {
    return {};
  },
  encodeResponse(w, version, response) {
    if (version >= 1) w.int32(0);
    w.int16(response.errorCode);
    w.array(response.groups, (g, group) => {
      g.string(group.groupId);
      g.string(group.protocolType);
    });
  },
};
