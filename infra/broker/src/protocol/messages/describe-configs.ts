import { ApiKey } from '../api-keys.js';
import type { ApiDefinition } from '../api.js';

/**
 * DescribeConfigs, versions 0-2.
 *
 *   Request  => [resource_type:INT8 resource_name:STRING configuration_keys:NULLABLE_ARRAY[STRING]]
 *               v1+ include_synonyms:BOOLEAN
 *   Response => throttle_time_ms:INT32
 *               [error_code:INT16 error_message:NULLABLE_STRING resource_type:INT8 resource_name:STRING
 *                [name:STRING value:NULLABLE_STRING read_only:BOOLEAN
 *                 v0 is_default:BOOLEAN | v1+ config_source:INT8  is_sensitive:BOOLEAN
 *                 v1+ [synonym_name:STRING synonym_value:NULLABLE_STRING synonym_source:INT8]]]
 */
export const ResourceType = { TOPIC: 2, BROKER: 4 } as const;

/** Kafka's ConfigSource values. */
export const ConfigSource = { DYNAMIC_TOPIC_CONFIG: 1, STATIC_BROKER_CONFIG: 4, DEFAULT_CONFIG: 5 } as const;

export interface DescribeConfigsRequest {
  resources: { resourceType: number; resourceName: string; configurationKeys: string[] | null }[];
}

export interface DescribedConfig {
  name: string;
  value: string | null;
  readOnly: boolean;
  source: number;
}

export interface DescribeConfigsResult {
  errorCode: number;
  errorMessage: string | null;
  resourceType: number;
  resourceName: string;
  configs: DescribedConfig[];
}

export interface DescribeConfigsResponse {
  results: DescribeConfigsResult[];
}

export const DescribeConfigs: ApiDefinition<DescribeConfigsRequest, DescribeConfigsResponse> = {
  apiKey: ApiKey.DescribeConfigs,
  name: 'DescribeConfigs',
  minVersion: 0,
  maxVersion: 2,
  decodeRequest(r, version) {
    const resources = r.array((r) => ({
      resourceType: r.int8(),
      resourceName: r.string(),
      configurationKeys: r.nullableArray((r) => r.string()),
    }));
    if (version >= 1) r.bool();
    return { resources };
  },
  encodeResponse(w, version, response) {
    w.int32(0);
    w.array(response.results, (w, result) => {
      w.int16(result.errorCode).nullableString(result.errorMessage).int8(result.resourceType).string(result.resourceName);
      w.array(result.configs, (w, config) => {
        w.string(config.name).nullableString(config.value).bool(config.readOnly);
        if (version === 0) w.bool(config.source === ConfigSource.DEFAULT_CONFIG);
        else w.int8(config.source);
        w.bool(false);
        if (version >= 1) w.array([] as never[], () => undefined);
      });
    });
  },
};
