import { ApiKey } from '../api-keys.js';
import type { ApiDefinition } from '../api.js';

/**
 * DeleteGroups, versions 0-1.
 *
 *   Request  => groups_names:[STRING]
 *   Response => throttle_time_ms:INT32 results:[group_id:STRING error_code:INT16]
 *
 * Unlike most APIs, throttle_time_ms is present from v0 on.
 */
export interface DeleteGroupsRequest {
  groupsNames: string[];
}

export interface DeletableGroupResult {
  groupId: string;
  errorCode: number;
}

export interface DeleteGroupsResponse {
  results: DeletableGroupResult[];
}

export const DeleteGroups: ApiDefinition<DeleteGroupsRequest, DeleteGroupsResponse> = {
  apiKey: ApiKey.DeleteGroups,
  name: 'DeleteGroups',
  minVersion: 0,
  maxVersion: 1,
  decodeRequest(r) {
    return { groupsNames: r.array((g) => g.string()) };
  },
  encodeResponse(w, _version, response) {
    w.int32(0);
    w.array(response.results, (r, result) => {
      r.string(result.groupId);
      r.int16(result.errorCode);
    });
  },
};
