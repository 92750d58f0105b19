import type { FastifyInstance } from 'fastify';
import type { Registry } from '../registry.js';
import { parseVersionParam, queryFlag } from '../request-bodies.js';

/**
 * Compatibility checks, which change nothing:
 *
 *   POST /compatibility/subjects/{s}/versions/{v}   against one version ({v}: number, "latest" or -1)
 *   POST /compatibility/subjects/{s}/versions       against the versions the subject's level looks at
 *
 *   body    as for registration: {"schema", "references"?}
 *   answer  {"is_compatible": true|false}, plus "messages": [...] with ?verbose=true
 *
 * Against "latest" of a subject without versions, any valid schema is compatible (there is nothing to
 * break); against a numbered version that does not exist, 40402.
 */
interface Params {
  subject: string;
  version?: string;
}
interface Flags {
  verbose?: string;
  normalize?: string;
}

export function compatibilityRoutes(app: FastifyInstance, registry: Registry): void {
  app.post<{ Params: Params; Querystring: Flags }>('/compatibility/subjects/:subject/versions/:version', async (request) =>
    registry.checkCompatibility(request.params.subject, parseVersionParam(request.params.version ?? ''), request.body, queryFlag(request.query.verbose)),
  );
  app.post<{ Params: Params; Querystring: Flags }>('/compatibility/subjects/:subject/versions', async (request) =>
    registry.checkCompatibility(request.params.subject, 'all', request.body, queryFlag(request.query.verbose)),
  );
}
