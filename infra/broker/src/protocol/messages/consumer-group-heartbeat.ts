import { ApiKey } from '../api-keys.js';
import type { ApiDefinition } from '../api.js';
import type { Reader } from '../reader.js';
import type { Writer } from '../writer.js';

/**
 * ConsumerGroupHeartbeat, versions 0-1 (flexible): the consumer group protocol of KIP-848. A member
 * joins with epoch 0, then heartbeats with its epoch; the answer carries its epoch and, when it changed,
 * its assignment. Fields a heartbeat leaves null did not change since the previous one.
 *
 *   Request  => group_id:COMPACT_STRING member_id:COMPACT_STRING member_epoch:INT32
 *               instance_id:COMPACT_NULLABLE_STRING rack_id:COMPACT_NULLABLE_STRING rebalance_timeout_ms:INT32
 *               subscribed_topic_names:COMPACT_NULLABLE_ARRAY[COMPACT_STRING]
 *               v1+ subscribed_topic_regex:COMPACT_NULLABLE_STRING
 *               server_assignor:COMPACT_NULLABLE_STRING
 *               topic_partitions:COMPACT_NULLABLE_ARRAY[topic_id:UUID partitions:COMPACT_ARRAY[INT32] TAGGED_FIELDS]
 *               TAGGED_FIELDS
 *   Response => throttle_time_ms:INT32 error_code:INT16 error_message:COMPACT_NULLABLE_STRING
 *               member_id:COMPACT_NULLABLE_STRING member_epoch:INT32 heartbeat_interval_ms:INT32
 *               assignment:NULLABLE(INT8 -1 = null)[topic_partitions:COMPACT_ARRAY[topic_id:UUID
 *                 partitions:COMPACT_ARRAY[INT32] TAGGED_FIELDS] TAGGED_FIELDS]
 *               TAGGED_FIELDS
 *
 * v1 has the client choose its member id (a UUID) on joining; v0 lets the coordinator choose one.
 */
export interface HeartbeatTopicPartitions {
  topicId: string;
  partitions: number[];
}

export interface ConsumerGroupHeartbeatRequest {
  groupId: string;
  memberId: string;
  memberEpoch: number;
  instanceId: string | null;
  rackId: string | null;
  rebalanceTimeoutMs: number;
  subscribedTopicNames: string[] | null;
  subscribedTopicRegex: string | null;
  serverAssignor: string | null;
  topicPartitions: HeartbeatTopicPartitions[] | null;
}

export interface ConsumerGroupHeartbeatResponse {
  errorCode: number;
  errorMessage: string | null;
  memberId: string | null;
  memberEpoch: number;
  heartbeatIntervalMs: number;
  assignment: HeartbeatTopicPartitions[] | null;
}

const readTopicPartitions = (r: Reader): HeartbeatTopicPartitions => {
  const topicId = r.uuid();
  const partitions = r.compactArray((p) => p.int32());
  r.skipTaggedFields();
  return { topicId, partitions };
};

export function writeTopicPartitions(w: Writer, topics: readonly HeartbeatTopicPartitions[]): void {
  w.compactArray(topics, (w, topic) => {
    w.uuid(topic.topicId);
    w.compactArray(topic.partitions, (w, p) => void w.int32(p));
    w.emptyTaggedFields();
  });
}

export const ConsumerGroupHeartbeat: ApiDefinition<ConsumerGroupHeartbeatRequest, ConsumerGroupHeartbeatResponse> = {
  apiKey: ApiKey.ConsumerGroupHeartbeat,
  name: 'ConsumerGroupHeartbeat',
  minVersion: 0,
  maxVersion: 1,
  firstFlexibleVersion: 0,
  decodeRequest(r, version) {
    const request: ConsumerGroupHeartbeatRequest = {
      groupId: r.compactString(),
      memberId: r.compactString(),
      memberEpoch: r.int32(),
      instanceId: r.compactNullableString(),
      rackId: r.compactNullableString(),
      rebalanceTimeoutMs: r.int32(),
      subscribedTopicNames: r.compactNullableArray((t) => t.compactString()),
      subscribedTopicRegex: version >= 1 ? r.compactNullableString() : null,
      serverAssignor: r.compactNullableString(),
      topicPartitions: r.compactNullableArray(readTopicPartitions),
    };
    r.skipTaggedFields();
    return request;
  },
  encodeResponse(w, _version, response) {
    w.int32(0).int16(response.errorCode).compactNullableString(response.errorMessage);
    w.compactNullableString(response.memberId).int32(response.memberEpoch).int32(response.heartbeatIntervalMs);
    if (response.assignment === null) {
      w.int8(-1);
    } else {
      w.int8(1);
      writeTopicPartitions(w, response.assignment);
      w.emptyTaggedFields();
    }
    w.emptyTaggedFields();
  },
};
