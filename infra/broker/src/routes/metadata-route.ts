import { route, type ApiRoute } from '../protocol/api.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { Metadata, ZERO_UUID, type MetadataBroker, type MetadataTopic } from '../protocol/messages/metadata.js';
import { isValidTopicName, type LogManager, type Topic } from '../log/log-manager.js';

export interface MetadataRouteOptions {
  self: () => MetadataBroker;
  autoCreateTopics: boolean;
  defaultPartitions: number;
}

/**
 * Metadata: a one-node cluster where this broker leads every partition and is the controller. Unknown
 * topics are created on request when auto-creation is on and the client allows it (v4+ carries that flag).
 * A topic asked for by id alone (v12+) is looked up by id; an unknown one is UNKNOWN_TOPIC_ID.
 */
export function metadataRoute(logs: LogManager, options: MetadataRouteOptions): ApiRoute {
  const describe = (topic: Topic, leaderId: number): MetadataTopic => ({
    errorCode: ErrorCode.NONE,
    name: topic.name,
    topicId: topic.uuid,
    partitions: topic.partitions.map((p) => ({ errorCode: ErrorCode.NONE, partitionIndex: p.index, leaderId })),
  });
  return route(Metadata, (request) => {
    const self = options.self();
    const topics: MetadataTopic[] = [];
    // Kafka answers the ids it does not know first, then every topic it found.
    const unknownIds: MetadataTopic[] = [];
    if (request.topics === null) {
      for (const topic of logs.listTopics()) topics.push(describe(topic, self.nodeId));
    } else {
      for (const { name, topicId } of request.topics) {
        if (name === null) {
          const byId = logs.getTopicByUuid(topicId);
          if (byId) topics.push(describe(byId, self.nodeId));
          else unknownIds.push({ errorCode: ErrorCode.UNKNOWN_TOPIC_ID, name: null, topicId, partitions: [] });
          continue;
        }
        let topic = logs.getTopic(name);
        if (!topic && options.autoCreateTopics && request.allowAutoTopicCreation) {
          const created = logs.createTopic(name, options.defaultPartitions, {});
          if (created.errorCode !== ErrorCode.NONE) {
            topics.push({ errorCode: created.errorCode, name, topicId: ZERO_UUID, partitions: [] });
            continue;
          }
          topic = logs.getTopic(name);
        }
        // A name no topic could have is INVALID_TOPIC_EXCEPTION, as Kafka answers, rather than "unknown".
        const missing = isValidTopicName(name) ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.INVALID_TOPIC_EXCEPTION;
        topics.push(topic ? describe(topic, self.nodeId) : { errorCode: missing, name, topicId: ZERO_UUID, partitions: [] });
      }
    }
    return { brokers: [self], clusterId: logs.clusterId(), controllerId: self.nodeId, topics: [...unknownIds, ...topics] };
  });
}
