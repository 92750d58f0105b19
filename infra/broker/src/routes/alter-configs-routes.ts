import { route, type ApiRoute } from '../protocol/api.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { AlterConfigs, ConfigOperation, IncrementalAlterConfigs, type AlterConfigsRequest, type AlterConfigsResult } from '../protocol/messages/alter-configs.js';
import { ResourceType } from '../protocol/messages/describe-configs.js';
import type { LogManager } from '../log/log-manager.js';

/** Configs whose value is a comma-separated list, the only ones APPEND and SUBTRACT apply to (as in Kafka). */
const LIST_CONFIGS = new Set(['cleanup.policy']);

/**
 * AlterConfigs and IncrementalAlterConfigs for topic resources. Broker configs are static here (the
 * options the broker was started with), so a broker resource is refused; Kafka's dynamic broker configs
 * have no counterpart (docs/broker.md).
 */
export function alterConfigsRoutes(logs: LogManager, options: { nodeId: number }): ApiRoute[] {
  const alter = (request: AlterConfigsRequest, incremental: boolean) => ({
    results: request.resources.map((resource): AlterConfigsResult => {
      const answer = (errorCode: number, errorMessage: string | null): AlterConfigsResult => ({
        errorCode,
        errorMessage,
        resourceType: resource.resourceType,
        resourceName: resource.resourceName,
      });
      if (resource.resourceType === ResourceType.BROKER) {
        if (resource.resourceName !== '' && resource.resourceName !== String(options.nodeId)) {
          return answer(ErrorCode.INVALID_REQUEST, `unknown broker '${resource.resourceName}': this cluster has broker ${options.nodeId}`);
        }
        return answer(ErrorCode.INVALID_REQUEST, 'broker configs are static on the embedded broker: set them when starting it');
      }
      if (resource.resourceType !== ResourceType.TOPIC) {
        return answer(ErrorCode.INVALID_REQUEST, `resource type ${resource.resourceType} is not supported (topic = 2, broker = 4)`);
      }
      const names = resource.configs.map((c) => c.name);
      if (new Set(names).size !== names.length) return answer(ErrorCode.INVALID_REQUEST, `duplicate config keys in the request for ${resource.resourceName}`);
      const topic = logs.getTopic(resource.resourceName);
      if (!topic) return answer(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic '${resource.resourceName}' does not exist`);

      // AlterConfigs replaces the whole set; IncrementalAlterConfigs starts from what is set now.
      const next: Record<string, string> = incremental ? { ...topic.configs } : {};
      for (const entry of resource.configs) {
        const current = next[entry.name];
        switch (entry.operation) {
          case ConfigOperation.SET:
            if (entry.value === null) {
              if (!incremental) break;
              return answer(ErrorCode.INVALID_REQUEST, `null value not supported for ${entry.name}`);
            }
            next[entry.name] = entry.value;
            break;
          case ConfigOperation.DELETE:
            delete next[entry.name];
            break;
          case ConfigOperation.APPEND:
          case ConfigOperation.SUBTRACT: {
            const verb = entry.operation === ConfigOperation.APPEND ? 'append' : 'subtract';
            if (!LIST_CONFIGS.has(entry.name)) return answer(ErrorCode.INVALID_CONFIG, `config value ${verb} is not allowed for config key: ${entry.name}`);
            const have = (current ?? 'delete').split(',').map((v) => v.trim()).filter((v) => v !== '');
            const given = (entry.value ?? '').split(',').map((v) => v.trim()).filter((v) => v !== '');
            const result = entry.operation === ConfigOperation.APPEND ? [...have, ...given.filter((v) => !have.includes(v))] : have.filter((v) => !given.includes(v));
            next[entry.name] = result.join(',');
            break;
          }
          default:
            return answer(ErrorCode.INVALID_REQUEST, `unknown config operation ${entry.operation} for ${entry.name}`);
        }
      }
      const result = logs.alterTopicConfigs(resource.resourceName, next, request.validateOnly);
      return answer(result.errorCode, result.errorMessage);
    }),
  });
  return [route(AlterConfigs, (request) => alter(request, false)), route(IncrementalAlterConfigs, (request) => alter(request, true))];
}
