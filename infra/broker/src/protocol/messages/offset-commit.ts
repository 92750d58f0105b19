import { ApiKey } from '../api-keys.js';
import type { ApiDefinition } from '../api.js';

/**
 * OffsetCommit, versions 0-7.
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
 * unmanaged (admin) commit looks like in later versions too.
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
  maxVersion: 7,
  decodeRequest(r, version) {
    const groupId = r.string();
    const generationId = version >= 1 ? r.int32() : -1;
    const memberId = version >= 1 ? r.string() : '';
    const groupInstanceId = version >= 7 ? r.nullableString() : null;
    const retentionTimeMs = version >= 2 && version <= 4 ? r.int64() : -1;
    const topics = r.array((t) => ({
      name: t.string(),
      partitions: t.array((p) => ({
        partitionIndex: p.int32(),
        committedOffset: p.int64(),
        committedLeaderEpoch: version >= 6 ? p.int32() : -1,
        commitTimestamp: version === 1 ? p.int64() : -1,
        committedMetadata: p.nullableString(),
      })),
    }));
    return { groupId, generationId, memberId, groupInstanceId, retentionTimeMs, topics };
  },
  encodeResponse(w, version, response) {
    if (version >= 3) w.int32(0);
    w.array(response.topics, (t, topic) => {
      t.string(topic.name);
      t.array(topic.partitions, (p, partition) => {
        p.int32(partition.partitionIndex);
        p.int16(partition.errorCode);
      });
    });
  },
};
