import { route, type ApiRoute } from '../protocol/api.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { ApiVersions } from '../protocol/messages/api-versions.js';

/** ApiVersions lists exactly the routes this broker serves, with their version ranges. */
export function apiVersionsRoute(routes: () => Iterable<ApiRoute>): ApiRoute {
  return route(ApiVersions, () => ({
    errorCode: ErrorCode.NONE,
    apiKeys: [...routes()]
      .map(({ definition }) => ({ apiKey: definition.apiKey, minVersion: definition.minVersion, maxVersion: definition.maxVersion }))
      .sort((a, b) => a.apiKey - b.apiKey),
  }));
}
