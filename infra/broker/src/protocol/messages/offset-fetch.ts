import { ApiKey } from '../api-keys.js';
import type { ApiDefinition } from '../api.js';
import type { Reader } from '../reader.js';

/**
 * OffsetFetch, versions 0-9 (v6+ flexible: compact strings and arrays, tagged fields per struct).
 *
 *   Request  => v0-7 group_id:STRING topics:[name:STRING partition_indexes:[INT32]]   (v2+: topics may be null)
 *               v8+  groups:[group_id:STRING v9+ member_id:NULLABLE_STRING v9+ member_epoch:INT32
 *                            topics:NULLABLE[name:STRING partition_indexes:[INT32]]]
 *               v7+ require_stable:BOOLEAN
 *   Response => [v3+ throttle_time_ms:INT32]
 *               v0-7 topics:[name:STRING
 *                            partitions:[partition_index:INT32 committed_offset:INT64 [v5+ committed_leader_epoch:INT32]
 *                                        metadata:NULLABLE_STRING error_code:INT16]]
 *                    [v2+ error_code:INT16]
 *               v8+  groups:[group_id:STRING topics:(as above, with the leader epoch) error_code:INT16]
 *
 * Null topics (v2+) asks for every offset the group has committed. v0-1 have no top-level error code,
 * so a group-level error must be repeated on each requested partition (see `offsetFetchError`). v8+
 * asks for several groups at once; v9+ names the member (KIP-848), whose epoch must be current.
 */
export interface OffsetFetchRequestTopic {
  name: string;
  partitionIndexes: number[];
}

export interface OffsetFetchRequestGroup {
  groupId: string;
  /** null (and epoch -1) for an admin's fetch; v9+ only. */
  memberId: string | null;
  memberEpoch: number;
  topics: OffsetFetchRequestTopic[] | null;
}

export interface OffsetFetchRequest {
  /** One group before v8. */
  groups: OffsetFetchRequestGroup[];
}

export interface OffsetFetchResponsePartition {
  partitionIndex: number;
  committedOffset: number;
  committedLeaderEpoch: number;
  metadata: string | null;
  errorCode: number;
}

export interface OffsetFetchResponseTopic {
  name: string;
  partitions: OffsetFetchResponsePartition[];
}

export interface OffsetFetchResponseGroup {
  groupId: string;
  errorCode: number;
  topics: OffsetFetchResponseTopic[];
}

export interface OffsetFetchResponse {
  /** One group before v8, in the request's order. */
  groups: OffsetFetchResponseGroup[];
}

export const OffsetFetch: ApiDefinition<OffsetFetchRequest, OffsetFetchResponse> = {
  apiKey: ApiKey.OffsetFetch,
  name: 'OffsetFetch',
  minVersion: 0,
  maxVersion: 9,
  firstFlexibleVersion: 6,
  decodeRequest(r, version) {
    const flexible = version >= 6;
    const string = () => (flexible ? r.compactString() : r.string());
    const readTopic = (t: Reader): OffsetFetchRequestTopic => {
      const topic = { name: string(), partitionIndexes: flexible ? t.compactArray((p) => p.int32()) : t.array((p) => p.int32()) };
      if (flexible) t.skipTaggedFields();
      return topic;
    };
    const topicsOrNull = (): OffsetFetchRequestTopic[] | null => {
      if (flexible) return r.compactNullableArray(readTopic);
      return version >= 2 ? r.nullableArray(readTopic) : r.array(readTopic);
    };
    let groups: OffsetFetchRequestGroup[];
    if (version < 8) {
      const groupId = string();
      groups = [{ groupId, memberId: null, memberEpoch: -1, topics: topicsOrNull() }];
    } else {
      groups = r.compactArray(() => {
        const groupId = r.compactString();
        const memberId = version >= 9 ? r.compactNullableString() : null;
        const memberEpoch = version >= 9 ? r.int32() : -1;
        const topics = topicsOrNull();
        r.skipTaggedFields();
        return { groupId, memberId, memberEpoch, topics };
      });
    }
    if (version >= 7) r.bool();
    if (flexible) r.skipTaggedFields();
    return { groups };
  },
  encodeResponse(w, version, response) {
    const flexible = version >= 6;
    const string = (value: string) => (flexible ? w.compactString(value) : w.string(value));
    const list = <T>(items: readonly T[], write: (item: T) => void) => {
      if (flexible) w.uvarint(items.length + 1);
      else w.int32(items.length);
      for (const item of items) write(item);
    };
    const writeTopics = (topics: OffsetFetchResponseTopic[]) =>
      list(topics, (topic) => {
        string(topic.name);
        list(topic.partitions, (partition) => {
          w.int32(partition.partitionIndex).int64(partition.committedOffset);
          if (version >= 5) w.int32(partition.committedLeaderEpoch);
          if (flexible) w.compactNullableString(partition.metadata);
          else w.nullableString(partition.metadata);
          w.int16(partition.errorCode);
          if (flexible) w.emptyTaggedFields();
        });
        if (flexible) w.emptyTaggedFields();
      });
    if (version >= 3) w.int32(0);
    if (version < 8) {
      const group = response.groups[0] ?? { groupId: '', errorCode: 0, topics: [] };
      writeTopics(group.topics);
      if (version >= 2) w.int16(group.errorCode);
    } else {
      list(response.groups, (group) => {
        w.compactString(group.groupId);
        writeTopics(group.topics);
        w.int16(group.errorCode);
        w.emptyTaggedFields();
      });
    }
    if (flexible) w.emptyTaggedFields();
  },
};

/** The answer to a request refused as a whole, in the shape its version can carry. */
export function offsetFetchError(request: OffsetFetchRequest, version: number, errorCode: number): OffsetFetchResponse {
  return { groups: request.groups.map((group) => offsetFetchGroupError(group, version, errorCode)) };
}

/** One group's refusal, in the shape its version can carry. */
export function offsetFetchGroupError(group: OffsetFetchRequestGroup, version: number, errorCode: number): OffsetFetchResponseGroup {
  if (version >= 2 || group.topics === null) return { groupId: group.groupId, errorCode, topics: [] };
  return {
    groupId: group.groupId,
    errorCode,
    topics: group.topics.map((topic) => ({
      name: topic.name,
      partitions: topic.partitionIndexes.map((partitionIndex) => ({
        partitionIndex,
        committedOffset: -1,
        committedLeaderEpoch: -1,
        metadata: '',
        errorCode,
      })),
    })),
  };
}
