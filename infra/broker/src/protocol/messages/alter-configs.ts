import { ApiKey } from '../api-keys.js';
import type { ApiDefinition } from '../api.js';
import type { Reader } from '../reader.js';
import type { Writer } from '../writer.js';

/**
 * AlterConfigs (versions 0-1) and IncrementalAlterConfigs (versions 0-1, v1 flexible). Both answer with one
 * result per resource; they differ in what a request means: AlterConfigs replaces a resource's whole set
 * of dynamic configs with the one given, IncrementalAlterConfigs applies operations to single entries.
 *
 *   AlterConfigs request            => [resource_type:INT8 resource_name:STRING [name:STRING value:NULLABLE_STRING]]
 *                                      validate_only:BOOLEAN
 *   IncrementalAlterConfigs request => [resource_type:INT8 resource_name:STRING
 *                                       [name:STRING config_operation:INT8 value:NULLABLE_STRING]] validate_only:BOOLEAN
 *   Response (both)                 => throttle_time_ms:INT32
 *                                      [error_code:INT16 error_message:NULLABLE_STRING resource_type:INT8 resource_name:STRING]
 *
 * IncrementalAlterConfigs v1 is the same with compact arrays and strings and tagged fields everywhere.
 */
export const ConfigOperation = { SET: 0, DELETE: 1, APPEND: 2, SUBTRACT: 3 } as const;

export interface AlterConfigsEntry {
  name: string;
  /** Always SET for AlterConfigs. */
  operation: number;
  value: string | null;
}

export interface AlterConfigsRequest {
  resources: { resourceType: number; resourceName: string; configs: AlterConfigsEntry[] }[];
  validateOnly: boolean;
}

export interface AlterConfigsResult {
  errorCode: number;
  errorMessage: string | null;
  resourceType: number;
  resourceName: string;
}

export interface AlterConfigsResponse {
  results: AlterConfigsResult[];
}

function encodeResults(w: Writer, flexible: boolean, response: AlterConfigsResponse): void {
  w.int32(0);
  if (flexible) {
    w.compactArray(response.results, (w, result) => {
      w.int16(result.errorCode).compactNullableString(result.errorMessage).int8(result.resourceType).compactString(result.resourceName).emptyTaggedFields();
    });
    w.emptyTaggedFields();
    return;
  }
  w.array(response.results, (w, result) => void w.int16(result.errorCode).nullableString(result.errorMessage).int8(result.resourceType).string(result.resourceName));
}

export const AlterConfigs: ApiDefinition<AlterConfigsRequest, AlterConfigsResponse> = {
  apiKey: ApiKey.AlterConfigs,
  name: 'AlterConfigs',
  minVersion: 0,
  maxVersion: 1,
  decodeRequest(r) {
    const resources = r.array((r) => ({
      resourceType: r.int8(),
      resourceName: r.string(),
      configs: r.array((r): AlterConfigsEntry => ({ name: r.string(), operation: ConfigOperation.SET, value: r.nullableString() })),
    }));
    return { resources, validateOnly: r.bool() };
  },
  encodeResponse(w, _version, response) {
    encodeResults(w, false, response);
  },
};

export const IncrementalAlterConfigs: ApiDefinition<AlterConfigsRequest, AlterConfigsResponse> = {
  apiKey: ApiKey.IncrementalAlterConfigs,
  name: 'IncrementalAlterConfigs',
  minVersion: 0,
  maxVersion: 1,
  firstFlexibleVersion: 1,
  decodeRequest(r, version) {
    const flexible = version >= 1;
    const text = (r: Reader) => (flexible ? r.compactString() : r.string());
    const nullableText = (r: Reader) => (flexible ? r.compactNullableString() : r.nullableString());
    const list = <T>(r: Reader, item: (r: Reader) => T) => (flexible ? r.compactArray(item) : r.array(item));
    const resources = list(r, (r) => {
      const resourceType = r.int8();
      const resourceName = text(r);
      const configs = list(r, (r) => {
        const entry = { name: text(r), operation: r.int8(), value: nullableText(r) };
        if (flexible) r.skipTaggedFields();
        return entry;
      });
      if (flexible) r.skipTaggedFields();
      return { resourceType, resourceName, configs };
    });
    const validateOnly = r.bool();
    if (flexible) r.skipTaggedFields();
    return { resources, validateOnly };
  },
  encodeResponse(w, version, response) {
    encodeResults(w, version >= 1, response);
  },
};
