import { ApiKey } from '../api-keys.js';
import type { ApiDefinition } from '../api.js';
import type { Reader } from '../reader.js';
import type { Writer } from '../writer.js';

/**
 * ListOffsets, versions 0-7 (v6+ flexible).
 *
 *   Request  => replica_id:INT32 v2+ isolation_level:INT8
 *               [name:STRING [partition_index:INT32 v4+ current_leader_epoch:INT32 timestamp:INT64
 *                v0 max_num_offsets:INT32]]
 *   Response => v2+ throttle_time_ms:INT32
 *               [name:STRING [partition_index:INT32 error_code:INT16
 *                v0 old_style_offsets:[INT64]  |  v1+ timestamp:INT64 offset:INT64 v4+ leader_epoch:INT32]]
 *
 * timestamp -1 = latest (log end offset), -2 = earliest (log start offset), -3 (v7+) = the record with the
 * largest timestamp, otherwise the first offset whose record timestamp is at or after it. This one-node
 * broker never changes leader, so every leader epoch is 0.
 */
export const LATEST_TIMESTAMP = -1;
export const EARLIEST_TIMESTAMP = -2;
export const MAX_TIMESTAMP = -3;

export interface ListOffsetsRequest {
  topics: { name: string; partitions: { partitionIndex: number; currentLeaderEpoch: number; timestamp: number; maxNumOffsets: number }[] }[];
}

export interface ListOffsetsPartitionResponse {
  partitionIndex: number;
  errorCode: number;
  timestamp: number;
  offset: number;
  /** -1 when no offset was found; defaults to 0, this broker's only epoch. */
  leaderEpoch?: number;
}

export interface ListOffsetsResponse {
  topics: { name: string; partitions: ListOffsetsPartitionResponse[] }[];
}

export const ListOffsets: ApiDefinition<ListOffsetsRequest, ListOffsetsResponse> = {
  apiKey: ApiKey.ListOffsets,
  name: 'ListOffsets',
  minVersion: 0,
  maxVersion: 7,
  firstFlexibleVersion: 6,
  decodeRequest(r, version) {
    const flexible = version >= 6;
    r.int32();
    if (version >= 2) r.int8();
    const list = <T>(read: (r: Reader) => T) => (flexible ? r.compactArray(read) : r.array(read));
    const topics = list((r) => {
      const name = flexible ? r.compactString() : r.string();
      const partitions = list((r) => {
        const partitionIndex = r.int32();
        const currentLeaderEpoch = version >= 4 ? r.int32() : -1;
        const timestamp = r.int64();
        const maxNumOffsets = version === 0 ? r.int32() : 1;
        if (flexible) r.skipTaggedFields();
        return { partitionIndex, currentLeaderEpoch, timestamp, maxNumOffsets };
      });
      if (flexible) r.skipTaggedFields();
      return { name, partitions };
    });
    if (flexible) r.skipTaggedFields();
    return { topics };
  },
  encodeResponse(w, version, response) {
    const flexible = version >= 6;
    if (version >= 2) w.int32(0);
    const writePartition = (w: Writer, p: ListOffsetsPartitionResponse) => {
      w.int32(p.partitionIndex).int16(p.errorCode);
      if (version === 0) {
        const offsets = p.errorCode === 0 && p.offset >= 0 ? [p.offset] : [];
        w.array(offsets, (w, offset) => void w.int64(offset));
      } else {
        w.int64(p.timestamp).int64(p.offset);
        if (version >= 4) w.int32(p.leaderEpoch ?? (p.errorCode === 0 && p.offset >= 0 ? 0 : -1));
      }
      if (flexible) w.emptyTaggedFields();
    };
    const writeTopic = (w: Writer, topic: ListOffsetsResponse['topics'][number]) => {
      if (flexible) {
        w.compactString(topic.name).compactArray(topic.partitions, writePartition).emptyTaggedFields();
      } else {
        w.string(topic.name).array(topic.partitions, writePartition);
      }
    };
    if (flexible) w.compactArray(response.topics, writeTopic).emptyTaggedFields();
    else w.array(response.topics, writeTopic);
  },
};
