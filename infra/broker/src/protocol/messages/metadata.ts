import { ApiKey } from '../api-keys.js';
import type { ApiDefinition } from '../api.js';

/**
 * Metadata, versions 0-8.
 *
 *   Request  => topics:v0 [name:STRING] | v1+ NULLABLE_ARRAY[name:STRING] (null = all; v0 empty = all)
 *               v4+ allow_auto_topic_creation:BOOLEAN
 *               v8+ include_cluster_authorized_operations:BOOLEAN include_topic_authorized_operations:BOOLEAN
 *   Response => v3+ throttle_time_ms:INT32
 *               [node_id:INT32 host:STRING port:INT32 v1+ rack:NULLABLE_STRING]
 *               v2+ cluster_id:NULLABLE_STRING  v1+ controller_id:INT32
 *               [error_code:INT16 name:STRING v1+ is_internal:BOOLEAN
 *                [error_code:INT16 partition_index:INT32 leader_id:INT32 v7+ leader_epoch:INT32
 *                 replica_nodes:[INT32] isr_nodes:[INT32] v5+ offline_replicas:[INT32]]
 *                v8+ topic_authorized_operations:INT32]
 *               v8+ cluster_authorized_operations:INT32
 */
export interface MetadataRequest {
  /** null = every topic. */
  topics: string[] | null;
  allowAutoTopicCreation: boolean;
}

export interface MetadataBroker {
  nodeId: number;
  host: string;
  port: number;
}

export interface MetadataTopic {
  errorCode: number;
  name: string;
  partitions: { errorCode: number; partitionIndex: number; leaderId: number }[];
}

export interface MetadataResponse {
  brokers: MetadataBroker[];
  clusterId: string;
  controllerId: number;
  topics: MetadataTopic[];
}

/** Kafka's "authorized operations were not requested" sentinel. */
const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;

export const Metadata: ApiDefinition<MetadataRequest, MetadataResponse> = {
  apiKey: ApiKey.Metadata,
  name: 'Metadata',
  minVersion: 0,
  maxVersion: 8,
  decodeRequest(r, version) {
    let topics = r.nullableArray((r) => r.string());
    if (version === 0 && topics !== null && topics.length === 0) topics = null;
    const allowAutoTopicCreation = version >= 4 ? r.bool() : true;
    if (version >= 8) {
      r.bool();
      r.bool();
    }
    return { topics, allowAutoTopicCreation };
  },
  encodeResponse(w, version, response) {
    if (version >= 3) w.int32(0);
    w.array(response.brokers, (w, broker) => {
      w.int32(broker.nodeId).string(broker.host).int32(broker.port);
      if (version >= 1) w.nullableString(null);
    });
    if (version >= 2) w.nullableString(response.clusterId);
    if (version >= 1) w.int32(response.controllerId);
    w.array(response.topics, (w, topic) => {
      w.int16(topic.errorCode).string(topic.name);
      if (version >= 1) w.bool(false);
      w.array(topic.partitions, (w, p) => {
        w.int16(p.errorCode).int32(p.partitionIndex).int32(p.leaderId);
        if (version >= 7) w.int32(0);
        const replicas = p.leaderId >= 0 ? [p.leaderId] : [];
        w.array(replicas, (w, id) => void w.int32(id));
        w.array(replicas, (w, id) => void w.int32(id));
        if (version >= 5) w.int32(0);
      });
      if (version >= 8) w.int32(AUTHORIZED_OPERATIONS_OMITTED);
    });
    if (version >= 8) w.int32(AUTHORIZED_OPERATIONS_OMITTED);
  },
};
