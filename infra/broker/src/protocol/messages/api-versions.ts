import { ApiKey } from '../api-keys.js';
import type { ApiDefinition } from '../api.js';

/**
 * ApiVersions, versions 0-3 (v3 is flexible; its response header is nevertheless always v0).
 *
 *   Request v0-2 => (empty)
 *   Request v3   => client_software_name:COMPACT_STRING client_software_version:COMPACT_STRING TAGGED_FIELDS
 *   Response v0  => error_code:INT16 [api_key:INT16 min_version:INT16 max_version:INT16]
 *   Response v1-2=> error_code:INT16 [api_key min_version max_version] throttle_time_ms:INT32
 *   Response v3  => error_code:INT16 COMPACT_ARRAY[api_key min_version max_version TAGGED_FIELDS]
 *                   throttle_time_ms:INT32 TAGGED_FIELDS
 *
 * An unsupported ApiVersions version is answered with a v0 body carrying UNSUPPORTED_VERSION and the
 * supported ranges, so a newer client (librdkafka) can retry with a version we speak.
 */
export interface ApiVersionsRequest {
  clientSoftwareName: string | null;
  clientSoftwareVersion: string | null;
}

export interface ApiVersionRange {
  apiKey: number;
  minVersion: number;
  maxVersion: number;
}

export interface ApiVersionsResponse {
  errorCode: number;
  apiKeys: ApiVersionRange[];
}

export const ApiVersions: ApiDefinition<ApiVersionsRequest, ApiVersionsResponse> = {
  apiKey: ApiKey.ApiVersions,
  name: 'ApiVersions',
  minVersion: 0,
  maxVersion: 3,
  firstFlexibleVersion: 3,
  decodeRequest(r, version) {
    if (version < 3) return { clientSoftwareName: null, clientSoftwareVersion: null };
    const request = { clientSoftwareName: r.compactString(), clientSoftwareVersion: r.compactString() };
    r.skipTaggedFields();
    return request;
  },
  encodeResponse(w, version, response) {
    w.int16(response.errorCode);
    if (version >= 3) {
      w.compactArray(response.apiKeys, (w, api) => {
        w.int16(api.apiKey).int16(api.minVersion).int16(api.maxVersion).emptyTaggedFields();
      });
      w.int32(0).emptyTaggedFields();
      return;
    }
    w.array(response.apiKeys, (w, api) => void w.int16(api.apiKey).int16(api.minVersion).int16(api.maxVersion));
    if (version >= 1) w.int32(0);
  },
};
