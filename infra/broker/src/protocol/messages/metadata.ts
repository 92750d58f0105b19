import { ApiKey } from '../api-keys.js';
import type { ApiDefinition } from '../api.js';
import { ProtocolDecodeError, type Reader } from '../reader.js';

/**
 * Metadata, versions 0-12 (v9+ flexible: compact strings and arrays, a tagged-field section per struct).
 *
 *   Request  => topics:v0 [name:STRING] | v1+ NULLABLE_ARRAY[v10+ topic_id:UUID name:STRING (v10+ nullable)]
 *               (null = all; v0 empty = all; v12+ a null name looks the topic up by id)
 *               v4+ allow_auto_topic_creation:BOOLEAN
 *               v8-10 include_cluster_authorized_operations:BOOLEAN v8+ include_topic_authorized_operations:BOOLEAN
 *   Response => v3+ throttle_time_ms:INT32
 *               [node_id:INT32 host:STRING port:INT32 v1+ rack:NULLABLE_STRING]
 *               v2+ cluster_id:NULLABLE_STRING  v1+ controller_id:INT32
 *               [error_code:INT16 name:STRING (v12+ nullable) v10+ topic_id:UUID v1+ is_internal:BOOLEAN
 *                [error_code:INT16 partition_index:INT32 leader_id:INT32 v7+ leader_epoch:INT32
 *                 replica_nodes:[INT32] isr_nodes:[INT32] v5+ offline_replicas:[INT32]]
 *                v8+ topic_authorized_operations:INT32]
 *               v8-10 cluster_authorized_operations:INT32
 */
export interface MetadataRequestTopic {
  /** All zeros when the topic is named. */
  topicId: string;
  name: string | null;
}

export interface MetadataRequest {
  /** null = every topic. */
  topics: MetadataRequestTopic[] | null;
  allowAutoTopicCreation: boolean;
}

export interface MetadataBroker {
  nodeId: number;
  host: string;
  port: number;
}

export interface MetadataTopic {
  errorCode: number;
  name: string | null;
  topicId: string;
  partitions: { errorCode: number; partitionIndex: number; leaderId: number }[];
}

export interface MetadataResponse {
  brokers: MetadataBroker[];
  clusterId: string;
  controllerId: number;
  topics: MetadataTopic[];
}

/** Kafka's "no topic id": all zeros. */
export const ZERO_UUID = '0'.repeat(32);

/** Kafka's "authorized operations were not requested" sentinel. */
const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;

export const Metadata: ApiDefinition<MetadataRequest, MetadataResponse> = {
  apiKey: ApiKey.Metadata,
  name: 'Metadata',
  minVersion: 0,
  maxVersion: 12,
  firstFlexibleVersion: 9,
  decodeRequest(r, version) {
    const flexible = version >= 9;
    const readTopic = (r: Reader): MetadataRequestTopic => {
      if (!flexible) return { topicId: ZERO_UUID, name: r.string() };
      const topicId = version >= 10 ? r.uuid() : ZERO_UUID;
      const name = r.compactNullableString();
      r.skipTaggedFields();
      if (name === null && version < 12) throw new ProtocolDecodeError(`Metadata v${version} cannot look a topic up by id`);
      return { topicId, name };
    };
    let topics = flexible ? r.compactNullableArray(readTopic) : r.nullableArray(readTopic);
    if (version === 0 && topics !== null && topics.length === 0) topics = null;
    const allowAutoTopicCreation = version >= 4 ? r.bool() : true;
    if (version >= 8 && version <= 10) r.bool();
    if (version >= 8) r.bool();
    if (flexible) r.skipTaggedFields();
    return { topics, allowAutoTopicCreation };
  },
  encodeResponse(w, version, response) {
    const flexible = version >= 9;
    const string = (value: string) => (flexible ? w.compactString(value) : w.string(value));
    const nullableString = (value: string | null) => (flexible ? w.compactNullableString(value) : w.nullableString(value));
    const list = <T>(items: readonly T[], write: (item: T) => void) => {
      if (flexible) w.uvarint(items.length + 1);
      else w.int32(items.length);
      for (const item of items) write(item);
    };
    const tags = () => void (flexible && w.emptyTaggedFields());
    if (version >= 3) w.int32(0);
    list(response.brokers, (broker) => {
      w.int32(broker.nodeId);
      string(broker.host);
      w.int32(broker.port);
      if (version >= 1) nullableString(null);
      tags();
    });
    if (version >= 2) nullableString(response.clusterId);
    if (version >= 1) w.int32(response.controllerId);
    list(response.topics, (topic) => {
      w.int16(topic.errorCode);
      if (version >= 12) nullableString(topic.name);
      else string(topic.name ?? '');
      if (version >= 10) w.uuid(topic.topicId);
      if (version >= 1) w.bool(false);
      list(topic.partitions, (p) => {
        w.int16(p.errorCode).int32(p.partitionIndex).int32(p.leaderId);
        if (version >= 7) w.int32(0);
        const replicas = p.leaderId >= 0 ? [p.leaderId] : [];
        list(replicas, (id) => void w.int32(id));
        list(replicas, (id) => void w.int32(id));
        if (version >= 5) list([], () => undefined);
        tags();
      });
      if (version >= 8) w.int32(AUTHORIZED_OPERATIONS_OMITTED);
      tags();
    });
    if (version >= 8 && version <= 10) w.int32(AUTHORIZED_OPERATIONS_OMITTED);
    tags();
  },
};
