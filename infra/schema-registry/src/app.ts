import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify';
import pino, { type Logger } from 'pino';
import { errorCodeOf, httpStatusOf, RegistryErrorCode } from './registry-errors.js';
import type { Registry } from './registry.js';
import { compatibilityRoutes } from './routes/compatibility-routes.js';
import { configRoutes } from './routes/config-routes.js';
import { schemaRoutes } from './routes/schema-routes.js';
import { subjectRoutes } from './routes/subject-routes.js';

/**
 * The HTTP face of the registry, Confluent Schema Registry's REST API v1:
 *
 *   requests   Content-Type application/vnd.schemaregistry.v1+json, application/vnd.schemaregistry+json,
 *              application/json or application/octet-stream, all read as JSON
 *   responses  Content-Type application/vnd.schemaregistry.v1+json
 *   errors     HTTP 4xx/5xx  { "error_code": <int>, "message": "<text>" }  for every failure, including
 *              malformed JSON (400), unknown routes (404), oversized bodies (413) and other media types (415)
 *
 * Subjects may hold any character, `/` included when URL-encoded (%2F).
 */
export interface RegistryAppDeps {
  registry: Registry;
  logger?: Logger;
  /** Largest request body accepted. Default 4 MiB: far above any real schema, far below a memory problem. */
  bodyLimit?: number;
}

export const REGISTRY_CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';
const JSON_REQUEST_TYPES = ['application/vnd.schemaregistry.v1+json', 'application/vnd.schemaregistry+json', 'application/json', 'application/octet-stream'];
const DEFAULT_BODY_LIMIT = 4 * 1024 * 1024;
// Subjects such as `<topic>-<record full name>` easily pass find-my-way's default of 100 characters.
const MAX_SUBJECT_PARAM_LENGTH = 4096;

interface ErrorBody {
  error_code: number;
  message: string;
}

/** Builds the app; only `startRegistry` listens (tests drive it with `app.inject()`). */
export function buildRegistryApp(deps: RegistryAppDeps): FastifyInstance {
  const parent = deps.logger ?? pino({ level: 'silent' });
  // Fastify's own info lines ("Server listening at ...") would repeat the registry's one listening line;
  // its logger only needs to carry request failures.
  const logger = parent.levelVal < pino.levels.values.warn! ? parent.child({}, { level: 'warn' }) : parent;
  const bodyLimit = deps.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const app: FastifyInstance = Fastify({
    // pino's Logger and fastify's logger interface describe the same object; only the generics differ.
    loggerInstance: logger as FastifyBaseLogger,
    // Per-request log lines would cost more than the requests themselves; failures are logged below.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit,
    routerOptions: { maxParamLength: MAX_SUBJECT_PARAM_LENGTH },
  });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser(JSON_REQUEST_TYPES, { parseAs: 'string' }, parseJsonBody);

  app.addHook('onSend', (_request, reply, _payload, done) => {
    reply.header('content-type', REGISTRY_CONTENT_TYPE);
    done();
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const { status, body } = errorResponse(error, request, bodyLimit);
    if (status >= 500) request.log.error({ err: error, method: request.method, url: request.url }, 'request failed');
    void reply.status(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({ error_code: 404, message: `HTTP 404 Not Found: no route for ${request.method} ${request.url.split('?')[0]}` } satisfies ErrorBody);
  });

  // Confluent's root resource: a no-op that health checks use.
  app.get('/', async () => ({}));
  app.post('/', async () => ({}));
  subjectRoutes(app, deps.registry);
  schemaRoutes(app, deps.registry);
  configRoutes(app, deps.registry);
  compatibilityRoutes(app, deps.registry);
  return app;
}

/**
 * Every accepted content type is JSON. An empty body is no body: clients (the kafkajs registry client)
 * send their Content-Type on DELETE and GET too. JSON.parse cannot pollute prototypes by itself (a
 * "__proto__" key becomes an own property) and the handlers never merge bodies into other objects.
 */
function parseJsonBody(_request: FastifyRequest, body: string | Buffer, done: (error: Error | null, body?: unknown) => void): void {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  if (text.trim() === '') {
    done(null, undefined);
    return;
  }
  try {
    done(null, JSON.parse(text));
  } catch (error) {
    done(Object.assign(new Error(`Malformed JSON request body: ${(error as Error).message}`), { statusCode: 400 }));
  }
}

/** Any failure as Confluent's error body, with the HTTP status its code implies. */
function errorResponse(error: FastifyError, request: FastifyRequest, bodyLimit: number): { status: number; body: ErrorBody } {
  const errorCode = errorCodeOf(error);
  if (errorCode !== undefined) return { status: httpStatusOf(errorCode), body: { error_code: errorCode, message: error.message } };
  if (error.name === 'SqliteError') {
    return { status: 500, body: { error_code: RegistryErrorCode.StoreError, message: `Error in the backend data store: ${error.message}` } };
  }
  const status = error.statusCode;
  if (status !== undefined && status >= 400 && status < 500) return { status, body: { error_code: status, message: clientErrorMessage(error, request, bodyLimit) } };
  return { status: 500, body: { error_code: 500, message: 'Internal Server Error' } };
}

function clientErrorMessage(error: FastifyError, request: FastifyRequest, bodyLimit: number): string {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return `Request body is larger than the limit of ${bodyLimit} bytes`;
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return `Unsupported Media Type '${request.headers['content-type'] ?? ''}': send ${JSON_REQUEST_TYPES.join(', ')}`;
    default:
      return error.message;
  }
}
