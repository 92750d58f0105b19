import { ApiKey } from '../api-keys.js';
import type { ApiDefinition } from '../api.js';
import type { Reader } from '../reader.js';

/**
 * OffsetCommit, versions 0-9 (v8+ flexible: compact strings and arrays, tagged fields per struct).
 *
 *   Request  => group_id:STRING [v1+ generation_id:INT32 member_id:STRING]
 *               [v7+ group_instance_id:NULLABLE_STRING] [v2-4 retention_time_ms:INT64]
 *               topics:[name:STRING
 *                       partitions:[partition_index:INT32 committed_offset:INT64
 *                                   [v6+ committed_leader_epoch:INT32] [v1 commit_timestamp:INT64]
 *                                   committed_metadata:NULLABLE_STRING]]
 *   Response => [v3+ throttle_time_ms:INT32]
 *               topics:[name:STRING partitions:[partition_index:INT32 error_code:INT16]]
 *
 * v0 carries no membership: it decodes as generation -1 with an empty member id, which is what an
 * unmanaged (admin) commit looks like in later versions too. For a group of the consumer protocol
 * (KIP-848), v9+ carries the member epoch in generation_id; older versions cannot commit into such a group.
 */
export interface OffsetCommitRequestPartition {
  partitionIndex: number;
  committedOffset: number;
  committedLeaderEpoch: number;
  commitTimestamp: number;
  committedMetadata: string | null;
}

export interface OffsetCommitRequestTopic {
  name: string;
  partitions: OffsetCommitRequestPartition[];
}

export interface OffsetCommitRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  retentionTimeMs: number;
  topics: OffsetCommitRequestTopic[];
}

export interface OffsetCommitResponsePartition {
  partitionIndex: number;
  errorCode: number;
}

export interface OffsetCommitResponseTopic {
  name: string;
  partitions: OffsetCommitResponsePartition[];
}

export interface OffsetCommitResponse {
  topics: OffsetCommitResponseTopic[];
}

export const OffsetCommit: ApiDefinition<OffsetCommitRequest, OffsetCommitResponse> = {
  apiKey: ApiKey.OffsetCommit,
  name: 'OffsetCommit',
  minVersion: 0,
  maxVersion: 9,
  firstFlexibleVersion: 8,
  decodeRequest(r, version) {
    const flexible = version >= 8;
    const string = () => (flexible ? r.compactString() : r.string());
    const nullableString = () => (flexible ? r.compactNullableString() : r.nullableString());
    const list = <T>(read: (r: Reader) => T) => (flexible ? r.compactArray(read) : r.array(read));
    const groupId = string();
    const generationId = version >= 1 ? r.int32() : -1;
    const memberId = version >= 1 ? string() : '';
    const groupInstanceId = version >= 7 ? nullableString() : null;
    const retentionTimeMs = version >= 2 && version <= 4 ? r.int64() : -1;
    const topics = list(() => {
      const name = string();
      const partitions = list(() => {
        const partition = {
          partitionIndex: r.int32(),
          committedOffset: r.int64(),
          committedLeaderEpoch: version >= 6 ? r.int32() : -1,
          commitTimestamp: version === 1 ? r.int64() : -1,
          committedMetadata: nullableString(),
        };
        if (flexible) r.skipTaggedFields();
        return partition;
      });
      if (flexible) r.skipTaggedFields();
      return { name, partitions };
    });
    if (flexible) r.skipTaggedFields();
    return { groupId, generationId, memberId, groupInstanceId, retentionTimeMs, topics };
  },
  encodeResponse(w, version, response) {
    const flexible = version >= 8;
    if (version >= 3) w.int32(0);
    const list = <T>(items: readonly T[], write: (item: T) => void) => {
      if (flexible) w.uvarint(items.length + 1);
      else w.int32(items.length);
      for (const item of items) write(item);
    };
    list(response.topics, (topic) => {
      if (flexible) w.compactString(topic.name);
      else w.string(topic.name);
      list(topic.partitions, (partition) => {
        w.int32(partition.partitionIndex).int16(partition.errorCode);
        if (flexible) w.emptyTaggedFields();
      });
      if (flexible) w.emptyTaggedFields();
    });
    if (flexible) w.emptyTaggedFields();
  },
};
