import { ApiKey } from '../api-keys.js';
import type { ApiDefinition } from '../api.js';

/**
 * ListGroups, versions 0-5 (v3+ flexible: compact strings and arrays, tagged fields per struct).
 *
 *   Request  => v4+ states_filter:[STRING] v5+ types_filter:[STRING]
 *   Response => [v1+ throttle_time_ms:INT32] error_code:INT16
 *               groups:[group_id:STRING protocol_type:STRING v4+ group_state:STRING v5+ group_type:STRING]
 *
 * An empty filter matches every group. Filters compare case-insensitively, as Kafka's do; group_type is
 * "classic" or "consumer" (the protocol the group's members speak).
 */
export interface ListGroupsRequest {
  statesFilter: string[];
  typesFilter: string[];
}

export interface ListedGroup {
  groupId: string;
  protocolType: string;
  groupState: string;
  groupType: 'classic' | 'consumer';
}

export interface ListGroupsResponse {
  errorCode: number;
  groups: ListedGroup[];
}

export const ListGroups: ApiDefinition<ListGroupsRequest, ListGroupsResponse> = {
  apiKey: ApiKey.ListGroups,
  name: 'ListGroups',
  minVersion: 0,
  maxVersion: 5,
  firstFlexibleVersion: 3,
  decodeRequest(r, version) {
    const strings = () => (version >= 3 ? r.compactArray((s) => s.compactString()) : r.array((s) => s.string()));
    const statesFilter = version >= 4 ? strings() : [];
    const typesFilter = version >= 5 ? strings() : [];
    if (version >= 3) r.skipTaggedFields();
    return { statesFilter, typesFilter };
  },
  encodeResponse(w, version, response) {
    const flexible = version >= 3;
    const string = (value: string) => (flexible ? w.compactString(value) : w.string(value));
    if (version >= 1) w.int32(0);
    w.int16(response.errorCode);
    if (flexible) w.uvarint(response.groups.length + 1);
    else w.int32(response.groups.length);
    for (const group of response.groups) {
      string(group.groupId);
      string(group.protocolType);
      if (version >= 4) string(group.groupState);
      if (version >= 5) string(group.groupType);
      if (flexible) w.emptyTaggedFields();
    }
    if (flexible) w.emptyTaggedFields();
  },
};
