import type { FastifyInstance } from 'fastify';
import type { Registry } from '../registry.js';
import { parseSchemaRequest, parseVersionParam, queryFlag } from '../request-bodies.js';

/**
 * Subjects and their versions:
 *
 *   GET    /subjects                                   ["s", ...]         ?deleted ?deletedOnly ?subjectPrefix
 *   POST   /subjects/{s}                               {subject,version,id,references?,schema}  lookup  ?deleted
 *   DELETE /subjects/{s}                               [1, 2, ...]        ?permanent
 *   GET    /subjects/{s}/versions                      [1, 2, ...]        ?deleted
 *   POST   /subjects/{s}/versions                      {"id": n}          register  ?normalize (accepted)
 *   GET    /subjects/{s}/versions/{v}                  {subject,version,id,references?,schema}  ?deleted
 *   GET    /subjects/{s}/versions/{v}/schema           the schema itself, as JSON
 *   GET    /subjects/{s}/versions/{v}/referencedby     [id, ...]          ?deleted
 *   DELETE /subjects/{s}/versions/{v}                  v                  ?permanent
 *
 * {v} is a version number, "latest" or -1. `schemaType` is left out of answers: every schema is AVRO.
 */
interface SubjectParams {
  subject: string;
}
interface VersionParams extends SubjectParams {
  version: string;
}
interface Flags {
  deleted?: string;
  deletedOnly?: string;
  permanent?: string;
  subjectPrefix?: string;
}

export function subjectRoutes(app: FastifyInstance, registry: Registry): void {
  app.get<{ Querystring: Flags }>('/subjects', async (request) =>
    registry.subjects({
      deleted: queryFlag(request.query.deleted),
      deletedOnly: queryFlag(request.query.deletedOnly),
      ...(typeof request.query.subjectPrefix === 'string' ? { prefix: request.query.subjectPrefix } : {}),
    }),
  );

  app.post<{ Params: SubjectParams; Querystring: Flags }>('/subjects/:subject', async (request) =>
    registry.lookup(request.params.subject, parseSchemaRequest(request.body), queryFlag(request.query.deleted)),
  );

  app.delete<{ Params: SubjectParams; Querystring: Flags }>('/subjects/:subject', async (request) =>
    registry.deleteSubject(request.params.subject, queryFlag(request.query.permanent)),
  );

  app.get<{ Params: SubjectParams; Querystring: Flags }>('/subjects/:subject/versions', async (request) =>
    registry.versions(request.params.subject, queryFlag(request.query.deleted)),
  );

  app.post<{ Params: SubjectParams }>('/subjects/:subject/versions', async (request) => {
    const { id } = registry.register(request.params.subject, parseSchemaRequest(request.body));
    return { id };
  });

  app.get<{ Params: VersionParams; Querystring: Flags }>('/subjects/:subject/versions/:version', async (request) =>
    registry.version(request.params.subject, parseVersionParam(request.params.version), queryFlag(request.query.deleted)),
  );

  // The stored schema is already JSON text: it goes out as it is, not as a JSON string of it.
  app.get<{ Params: VersionParams; Querystring: Flags }>('/subjects/:subject/versions/:version/schema', async (request, reply) => {
    const { schema } = registry.version(request.params.subject, parseVersionParam(request.params.version), queryFlag(request.query.deleted));
    return reply.type('application/json').send(schema);
  });

  app.get<{ Params: VersionParams; Querystring: Flags }>('/subjects/:subject/versions/:version/referencedby', async (request) =>
    registry.referencedBy(request.params.subject, parseVersionParam(request.params.version), queryFlag(request.query.deleted)),
  );

  app.delete<{ Params: VersionParams; Querystring: Flags }>('/subjects/:subject/versions/:version', async (request) =>
    registry.deleteVersion(request.params.subject, parseVersionParam(request.params.version), queryFlag(request.query.permanent)),
  );
}
