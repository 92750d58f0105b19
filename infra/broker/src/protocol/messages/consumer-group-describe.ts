import { ApiKey } from '../api-keys.js';
import type { ApiDefinition } from '../api.js';
import type { Writer } from '../writer.js';

/**
 * ConsumerGroupDescribe, version 0 (flexible): groups of the consumer group protocol (KIP-848), each
 * member with its current and its target assignment.
 *
 *   Request  => group_ids:COMPACT_ARRAY[COMPACT_STRING] include_authorized_operations:BOOLEAN TAGGED_FIELDS
 *   Response => throttle_time_ms:INT32
 *               groups:COMPACT_ARRAY[error_code:INT16 error_message:COMPACT_NULLABLE_STRING group_id:COMPACT_STRING
 *                 group_state:COMPACT_STRING group_epoch:INT32 assignment_epoch:INT32 assignor_name:COMPACT_STRING
 *                 members:COMPACT_ARRAY[member_id:COMPACT_STRING instance_id:COMPACT_NULLABLE_STRING
 *                   rack_id:COMPACT_NULLABLE_STRING member_epoch:INT32 client_id:COMPACT_STRING
 *                   client_host:COMPACT_STRING subscribed_topic_names:COMPACT_ARRAY[COMPACT_STRING]
 *                   subscribed_topic_regex:COMPACT_NULLABLE_STRING assignment:ASSIGNMENT target_assignment:ASSIGNMENT
 *                   TAGGED_FIELDS]
 *                 authorized_operations:INT32 TAGGED_FIELDS]
 *               TAGGED_FIELDS
 *   ASSIGNMENT => topic_partitions:COMPACT_ARRAY[topic_id:UUID topic_name:COMPACT_STRING
 *                   partitions:COMPACT_ARRAY[INT32] TAGGED_FIELDS] TAGGED_FIELDS
 */
export interface ConsumerGroupDescribeRequest {
  groupIds: string[];
}

export interface DescribedTopicPartitions {
  topicId: string;
  topicName: string;
  partitions: number[];
}

export interface ConsumerGroupDescribeMember {
  memberId: string;
  instanceId: string | null;
  rackId: string | null;
  memberEpoch: number;
  clientId: string;
  clientHost: string;
  subscribedTopicNames: string[];
  subscribedTopicRegex: string | null;
  assignment: DescribedTopicPartitions[];
  targetAssignment: DescribedTopicPartitions[];
}

export interface ConsumerGroupDescribeGroup {
  errorCode: number;
  errorMessage: string | null;
  groupId: string;
  groupState: string;
  groupEpoch: number;
  assignmentEpoch: number;
  assignorName: string;
  members: ConsumerGroupDescribeMember[];
}

export interface ConsumerGroupDescribeResponse {
  groups: ConsumerGroupDescribeGroup[];
}

/** Kafka's "authorized operations were not requested" sentinel. */
const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;

function writeAssignment(w: Writer, topics: readonly DescribedTopicPartitions[]): void {
  w.compactArray(topics, (w, topic) => {
    w.uuid(topic.topicId).compactString(topic.topicName);
    w.compactArray(topic.partitions, (w, p) => void w.int32(p));
    w.emptyTaggedFields();
  });
  w.emptyTaggedFields();
}

export const ConsumerGroupDescribe: ApiDefinition<ConsumerGroupDescribeRequest, ConsumerGroupDescribeResponse> = {
  apiKey: ApiKey.ConsumerGroupDescribe,
  name: 'ConsumerGroupDescribe',
  minVersion: 0,
  maxVersion: 0,
  firstFlexibleVersion: 0,
  decodeRequest(r) {
    const groupIds = r.compactArray((g) => g.compactString());
    r.bool();
    r.skipTaggedFields();
    return { groupIds };
  },
  encodeResponse(w, _version, response) {
    w.int32(0);
    w.compactArray(response.groups, (w, group) => {
      w.int16(group.errorCode).compactNullableString(group.errorMessage).compactString(group.groupId);
      w.compactString(group.groupState).int32(group.groupEpoch).int32(group.assignmentEpoch).compactString(group.assignorName);
      w.compactArray(group.members, (w, m) => {
        w.compactString(m.memberId).compactNullableString(m.instanceId).compactNullableString(m.rackId);
        w.int32(m.memberEpoch).compactString(m.clientId).compactString(m.clientHost);
        w.compactArray(m.subscribedTopicNames, (w, name) => void w.compactString(name));
        w.compactNullableString(m.subscribedTopicRegex);
        writeAssignment(w, m.assignment);
        writeAssignment(w, m.targetAssignment);
        w.emptyTaggedFields();
      });
      w.int32(AUTHORIZED_OPERATIONS_OMITTED);
      w.emptyTaggedFields();
    });
    w.emptyTaggedFields();
  },
};
