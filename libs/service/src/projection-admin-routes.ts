/**
 * The admin routes of a service's projections, a fastify plugin the service host mounts: the service owns its
 * read-model files, so it performs rebuilds; `shoal replay` asks it here and renders the progress.
 *
 *   GET  /admin/projections                 {"projections": [status, ...]}
 *   GET  /admin/projections/:name           status, with the rebuild in progress (or the last one)
 *   POST /admin/projections/:name/rebuild   {"from": "beginning"} (the default) or {"fromTimestamp": RFC 3339 or
 *                                           ms since the epoch} -> 202 with the rebuild's progress and a Location
 *                                           to poll
 *
 * Refusals are the service's problem+json like those of every other route (the app's one error handler,
 * service-app.ts): 400 SHOAL_REQUEST_INVALID (a body that does not validate or asks for the impossible), 404
 * SHOAL_PROJECTION_NOT_FOUND, 409 SHOAL_PROJECTION_REBUILDING, 503 SHOAL_SERVICE_UNAVAILABLE (not started
 * or stopping). Every route declares its JSON schemas, so responses are serialized by them.
 */
import type { FastifyPluginAsync } from 'fastify';
import { isShoalError, ShoalError } from '@shoal/core';
import { parseTimestamp, type BuildFrom, type Projector } from '@shoal/projections';
import { problemResponses } from './problem.js';

export interface ProjectionAdminOptions {
  projectors: Iterable<Projector>;
  /** Milliseconds since the epoch, to refuse a rebuild from a time to come. */
  now?: () => number;
}

const errorSchema = { type: ['object', 'null'], properties: { code: { type: 'string' }, message: { type: 'string' } } } as const;

const buildFromSchema = {
  anyOf: [{ type: 'string', enum: ['beginning'] }, { type: 'object', required: ['timestamp'], properties: { timestamp: { type: 'integer' } } }],
} as const;

/** A partition's name, in every per-partition report. */
const partitionProperties = { topic: { type: 'string' }, partition: { type: 'integer' } } as const;

/** What a rebuild reports as a whole and for each partition. */
const progressProperties = {
  done: { type: 'integer' },
  total: { type: 'integer' },
  eventsPerSecond: { type: 'number' },
  etaSeconds: { type: ['integer', 'null'] },
} as const;

const rebuildSchema = {
  type: 'object',
  properties: {
    projection: { type: 'string' },
    version: { type: 'integer' },
    generation: { type: 'integer' },
    reason: { type: 'string', enum: ['requested', 'version-change'] },
    from: buildFromSchema,
    state: { type: 'string', enum: ['building', 'swapped', 'failed', 'cancelled'] },
    startedAt: { type: 'string' },
    finishedAt: { type: ['string', 'null'] },
    elapsedMs: { type: 'integer' },
    ...progressProperties,
    partitions: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          ...partitionProperties,
          start: { type: 'integer' },
          end: { type: 'integer' },
          position: { type: 'integer' },
          ...progressProperties,
          caughtUp: { type: 'boolean' },
        },
      },
    },
    error: errorSchema,
  },
} as const;

const statusSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    version: { type: 'integer' },
    state: { type: 'string' },
    store: { type: 'string', enum: ['sqlite', 'postgres'] },
    model: {
      type: ['object', 'null'],
      properties: {
        file: { type: 'string' },
        name: { type: 'string' },
        version: { type: 'integer' },
        generation: { type: 'integer' },
        builtFrom: buildFromSchema,
        createdAt: { type: 'string' },
        liveSince: { type: ['string', 'null'] },
      },
    },
    stale: { type: 'boolean' },
    lag: { type: 'integer' },
    partitions: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          ...partitionProperties,
          nextOffset: { type: ['integer', 'null'] },
          highWatermark: { type: ['integer', 'null'] },
          lag: { type: ['integer', 'null'] },
        },
      },
    },
    applied: { type: 'integer' },
    skipped: { type: 'integer' },
    skippedByType: { type: 'object', additionalProperties: { type: 'integer' } },
    poisoned: { type: 'integer' },
    rebuilding: { type: 'boolean' },
    rebuild: { anyOf: [{ type: 'null' }, rebuildSchema] },
    error: errorSchema,
  },
} as const;

const nameParams = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', minLength: 1, maxLength: 100 } },
} as const;

const rebuildBody = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: {
    from: { type: 'string', enum: ['beginning'] },
    fromTimestamp: { anyOf: [{ type: 'string', minLength: 1 }, { type: 'integer', minimum: 0 }] },
  },
} as const;

interface RebuildBody {
  from?: 'beginning';
  fromTimestamp?: string | number;
}

export const projectionAdminRoutes: FastifyPluginAsync<ProjectionAdminOptions> = async (app, options) => {
  const projectors = new Map<string, Projector>();
  for (const projector of options.projectors) {
    if (projectors.has(projector.name)) throw new ShoalError('SHOAL_CONFIG_INVALID', `Two projectors are named ${projector.name}`);
    projectors.set(projector.name, projector);
  }
  const now = options.now ?? Date.now;

  const projectorNamed = (name: string): Projector => {
    const projector = projectors.get(name);
    if (projector === undefined) {
      const known = [...projectors.keys()].sort();
      throw new ShoalError('SHOAL_PROJECTION_NOT_FOUND', `No projection named '${name}' here (${known.length === 0 ? 'this service has none' : `known: ${known.join(', ')}`})`, {
        details: { projection: name, known },
      });
    }
    return projector;
  };

  const problems = problemResponses(404, 409);

  app.get('/admin/projections', { schema: { response: { 200: { type: 'object', properties: { projections: { type: 'array', items: statusSchema } } }, ...problems } } }, async () => ({
    projections: [...projectors.values()].map((projector) => projector.status()),
  }));

  app.get<{ Params: { name: string } }>('/admin/projections/:name', { schema: { params: nameParams, response: { 200: statusSchema, ...problems } } }, async (request) =>
    projectorNamed(request.params.name).status(),
  );

  app.post<{ Params: { name: string }; Body: RebuildBody | null | undefined }>(
    '/admin/projections/:name/rebuild',
    { schema: { params: nameParams, body: rebuildBody, response: { 202: rebuildSchema, ...problems } } },
    async (request, reply) => {
      const projector = projectorNamed(request.params.name);
      const handle = await projector.rebuild({ from: buildFrom(request.body ?? {}, now()) });
      void reply.code(202).header('location', `/admin/projections/${encodeURIComponent(projector.name)}`);
      return handle.progress();
    },
  );
};

/** Where a requested rebuild starts. */
function buildFrom(body: RebuildBody, now: number): BuildFrom {
  if (body.fromTimestamp === undefined) return 'beginning';
  if (body.from !== undefined) throw new ShoalError('SHOAL_REQUEST_INVALID', 'Give either from or fromTimestamp, not both');
  let timestamp: number;
  try {
    timestamp = parseTimestamp(body.fromTimestamp);
  } catch (error) {
    throw isShoalError(error) ? new ShoalError('SHOAL_REQUEST_INVALID', `fromTimestamp: ${error.message}`, { cause: error }) : error;
  }
  if (timestamp > now) throw new ShoalError('SHOAL_REQUEST_INVALID', `fromTimestamp ${new Date(timestamp).toISOString()} is in the future: the rebuilt model would be empty`);
  return { timestamp };
}
