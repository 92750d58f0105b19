import { route, type ApiRoute } from '../protocol/api.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { CreatePartitions } from '../protocol/messages/create-partitions.js';
import { CreateTopics } from '../protocol/messages/create-topics.js';
import { DeleteRecords } from '../protocol/messages/delete-records.js';
import { DeleteTopics } from '../protocol/messages/delete-topics.js';
import { ConfigSource, DescribeConfigs, ResourceType, type DescribedConfig, type DescribeConfigsResult } from '../protocol/messages/describe-configs.js';
import { describeTopicConfigs } from '../log/topic-config.js';
import type { LogManager } from '../log/log-manager.js';

export interface TopicAdminOptions {
  defaultPartitions: number;
  nodeId: number;
  /** Broker-level settings reported by DescribeConfigs for the broker resource. */
  brokerConfigs: () => Record<string, string>;
  /** Called after a topic is deleted (the group coordinator drops its committed offsets). */
  onTopicDeleted: (topic: string) => void;
}

/** CreateTopics, DeleteTopics, CreatePartitions, DeleteRecords and DescribeConfigs on this one-node cluster. */
export function topicAdminRoutes(logs: LogManager, options: TopicAdminOptions): ApiRoute[] {
  const createTopics = route(CreateTopics, (request) => ({
    topics: request.topics.map((topic) => {
      const fail = (errorCode: number, errorMessage: string) => ({ name: topic.name, errorCode, errorMessage });
      if (topic.replicationFactor !== -1 && topic.replicationFactor !== 1) {
        return fail(ErrorCode.INVALID_REPLICATION_FACTOR, `replication factor ${topic.replicationFactor} is larger than the 1 available broker`);
      }
      if (topic.assignments.length > 0 && topic.numPartitions !== -1) {
        return fail(ErrorCode.INVALID_REQUEST, 'give either num_partitions or replica assignments, not both');
      }
      if (topic.assignments.some((a) => a.brokerIds.some((id) => id !== options.nodeId))) {
        return fail(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `replica assignments may only name broker ${options.nodeId}`);
      }
      const partitions = topic.assignments.length > 0 ? topic.assignments.length : topic.numPartitions === -1 ? options.defaultPartitions : topic.numPartitions;
      const configs: Record<string, string> = {};
      for (const config of topic.configs) if (config.value !== null) configs[config.name] = config.value;
      return { name: topic.name, ...logs.createTopic(topic.name, partitions, configs, request.validateOnly) };
    }),
  }));

  const deleteTopics = route(DeleteTopics, (request) => ({
    responses: request.topicNames.map((name) => {
      const errorCode = logs.deleteTopic(name);
      if (errorCode === ErrorCode.NONE) options.onTopicDeleted(name);
      return { name, errorCode };
    }),
  }));

  const createPartitions = route(CreatePartitions, (request) => ({
    results: request.topics.map((topic) => ({ name: topic.name, ...logs.addPartitions(topic.name, topic.count, request.validateOnly) })),
  }));

  const deleteRecords = route(DeleteRecords, (request) => ({
    topics: request.topics.map((topic) => ({
      name: topic.name,
      partitions: topic.partitions.map(({ partitionIndex, offset }) => {
        const log = logs.getPartition(topic.name, partitionIndex);
        if (!log) return { partitionIndex, lowWatermark: -1, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
        return { partitionIndex, ...logs.deleteRecords(log, offset) };
      }),
    })),
  }));

  const describeConfigs = route(DescribeConfigs, (request) => ({
    results: request.resources.map((resource): DescribeConfigsResult => {
      const result = (configs: DescribedConfig[]): DescribeConfigsResult => ({
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        resourceType: resource.resourceType,
        resourceName: resource.resourceName,
        configs: resource.configurationKeys === null ? configs : configs.filter((c) => resource.configurationKeys!.includes(c.name)),
      });
      const failure = (errorCode: number, errorMessage: string): DescribeConfigsResult => ({
        errorCode,
        errorMessage,
        resourceType: resource.resourceType,
        resourceName: resource.resourceName,
        configs: [],
      });
      if (resource.resourceType === ResourceType.TOPIC) {
        const topic = logs.getTopic(resource.resourceName);
        if (!topic) return failure(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic '${resource.resourceName}' does not exist`);
        return result(
          describeTopicConfigs(topic.configs, logs.logDefaults).map((c) => ({
            name: c.name,
            value: c.value,
            readOnly: false,
            source: c.isDefault ? ConfigSource.DEFAULT_CONFIG : ConfigSource.DYNAMIC_TOPIC_CONFIG,
          })),
        );
      }
      if (resource.resourceType === ResourceType.BROKER) {
        if (resource.resourceName !== '' && resource.resourceName !== String(options.nodeId)) {
          return failure(ErrorCode.INVALID_REQUEST, `unknown broker '${resource.resourceName}': this cluster has broker ${options.nodeId}`);
        }
        return result(Object.entries(options.brokerConfigs()).map(([name, value]) => ({ name, value, readOnly: true, source: ConfigSource.STATIC_BROKER_CONFIG })));
      }
      return failure(ErrorCode.INVALID_REQUEST, `resource type ${resource.resourceType} is not supported (topic = 2, broker = 4)`);
    }),
  }));

  return [createTopics, deleteTopics, createPartitions, deleteRecords, describeConfigs];
}
