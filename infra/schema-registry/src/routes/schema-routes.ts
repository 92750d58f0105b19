import type { FastifyInstance } from 'fastify';
import type { Registry } from '../registry.js';
import { registryErrors } from '../registry-errors.js';
import { queryFlag } from '../request-bodies.js';

/**
 * Schemas by their global id:
 *
 *   GET /schemas/ids/{id}             {"schema": "...", "references"?: [...]}   ?subject ?format (accepted, ignored)
 *   GET /schemas/ids/{id}/schema      the schema itself, as JSON
 *   GET /schemas/ids/{id}/subjects    ["s", ...]                 ?deleted
 *   GET /schemas/ids/{id}/versions    [{"subject", "version"}]   ?deleted
 *   GET /schemas/types                ["AVRO"]
 *
 * GET /schemas/ids/{id} is what every consumer calls for every unknown id, so its body is serialized once
 * per id and sent as a string.
 */
interface IdParams {
  id: string;
}
interface Flags {
  deleted?: string;
}

function schemaId(text: string): number {
  const id = /^\d{1,10}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(id) || id < 1) throw registryErrors.schemaNotFound(text);
  return id;
}

export function schemaRoutes(app: FastifyInstance, registry: Registry): void {
  app.get<{ Params: IdParams }>('/schemas/ids/:id', (request, reply) => {
    void reply.type('application/json').send(registry.schemaByIdBody(schemaId(request.params.id)));
  });

  app.get<{ Params: IdParams }>('/schemas/ids/:id/schema', (request, reply) => {
    void reply.type('application/json').send(registry.schemaText(schemaId(request.params.id)));
  });

  app.get<{ Params: IdParams; Querystring: Flags }>('/schemas/ids/:id/subjects', async (request) =>
    registry.subjectsOfSchema(schemaId(request.params.id), queryFlag(request.query.deleted)),
  );

  app.get<{ Params: IdParams; Querystring: Flags }>('/schemas/ids/:id/versions', async (request) =>
    registry.versionsOfSchema(schemaId(request.params.id), queryFlag(request.query.deleted)),
  );

  app.get('/schemas/types', async () => ['AVRO']);
}
