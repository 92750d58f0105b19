/**
 * A service's fastify app, built but never listening (the host listens): one error handler and one
 * not-found handler for every route of the service, its own, the health routes and the projection admin
 * routes alike, so a refusal has one shape and one code wherever it comes from (problem.ts).
 */
import AjvCompiler from '@fastify/ajv-compiler';
import fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { HttpServerSpan, Tracing } from '@shoal/telemetry';
import type { ServiceMetrics } from './metrics.js';
import { problemOf, problemResponses, sendProblem } from './problem.js';
import type { Check } from './readiness.js';

export interface ServiceAppOptions {
  logger: Logger;
  /** Counts and times every request when given. */
  metrics?: Pick<ServiceMetrics, 'httpRequests' | 'httpDuration'>;
  /** Gives every request but the health and metrics routes a span, its route's work run in it. */
  tracing?: Tracing;
}

export function createServiceApp(options: ServiceAppOptions): FastifyInstance {
  const app = fastify({
    loggerInstance: options.logger.child({ module: 'http' }),
    // One line per request would drown the business logs at hundreds of orders a second; errors are still
    // logged by the error handler, and every request is counted in /metrics.
    logController: new LogController({ disableRequestLogging: true }),
    frameworkErrors: (error, request, reply) => {
      sendProblem(request, reply, { status: error.statusCode ?? 400, code: 'SHOAL_REQUEST_INVALID', detail: error.message });
    },
  });
  // fastify's Ajv defaults strip members a schema's `additionalProperties: false` forbids and coerce types
  // (`{"available": "10"}` passing as 10, `true` as 1). A JSON body is typed already, so it is validated as
  // sent: a forbidden member or a wrong type is a 400 naming it. Path and query parameters arrive as strings
  // and keep fastify's coercion (`?limit=100` is an integer).
  const compilers = new Map<'body' | 'other', ReturnType<ReturnType<typeof AjvCompiler>>>();
  app.setValidatorCompiler((route) => {
    const part = route.httpPart === 'body' ? 'body' : 'other';
    let build = compilers.get(part);
    if (build === undefined) {
      build = AjvCompiler()(app.getSchemas() as Parameters<ReturnType<typeof AjvCompiler>>[0], { customOptions: { removeAdditional: false, ...(part === 'body' ? { coerceTypes: false } : {}) } });
      compilers.set(part, build);
    }
    return build(route);
  });
  app.setErrorHandler((error, request, reply) => {
    const problem = problemOf(error as Error);
    if (problem.status >= 500) request.log.error({ err: error, url: request.url, method: request.method }, 'request failed');
    return sendProblem(request, reply, problem);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(request, reply, { status: 404, code: 'SHOAL_NOT_FOUND', detail: `No route ${request.method} ${request.url.split('?')[0]}` }),
  );
  if (options.tracing !== undefined) traceRequests(app as unknown as FastifyInstance, options.tracing);
  const { metrics } = options;
  if (metrics !== undefined) {
    app.addHook('onResponse', async (request, reply) => {
      const route = request.routeOptions.url ?? 'unmatched';
      metrics.httpRequests.inc({ method: request.method, route, status: String(reply.statusCode) });
      metrics.httpDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    });
  }
  return app as unknown as FastifyInstance;
}

/**
 * A SERVER span per request, parented by its `traceparent` header when it has one. Each route's handler runs
 * in the span's context, so the events it emits are committed under it; the handler is wrapped rather than run
 * from a hook, since the body is read on socket events, which do not keep the hook's context. Probes of
 * /health and /metrics get none: they would make a trace every second.
 */
function traceRequests(app: FastifyInstance, tracing: Tracing): void {
  const spans = new WeakMap<object, HttpServerSpan>();
  const failures = new WeakMap<object, unknown>();
  app.addHook('onRoute', (route) => {
    const handler = route.handler;
    route.handler = function traced(this: unknown, request, reply) {
      const span = spans.get(request);
      return span === undefined ? handler.call(this as FastifyInstance, request, reply) : span.run(() => handler.call(this as FastifyInstance, request, reply));
    };
  });
  // Callback hooks, not async ones: each async hook costs every request a promise, and a promise costs more
  // with the AsyncLocalStorage context manager on.
  app.addHook('onRequest', (request, _reply, done) => {
    if (!request.url.startsWith('/health/') && request.url !== '/metrics') spans.set(request, tracing.httpServer(request.method, request.url, request.headers));
    done();
  });
  app.addHook('onError', (request, _reply, error, done) => {
    failures.set(request, error);
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    spans.get(request)?.end(reply.statusCode, request.routeOptions.url, failures.get(request));
    done();
  });
}

export interface HealthRoutesOptions {
  service: string;
  readiness(): Promise<{ ready: boolean; checks: Record<string, Check> }>;
  metrics: Pick<ServiceMetrics, 'registry'>;
}

/** `/health/live`, `/health/ready` and `/metrics` (which refreshes readiness first, so `shoal_ready` is current). */
export function healthRoutes(app: FastifyInstance, options: HealthRoutesOptions): void {
  const checkSchema = { type: 'object', properties: { ok: { type: 'boolean' }, detail: { type: 'string' } } } as const;
  const readySchema = {
    type: 'object',
    properties: { status: { type: 'string' }, service: { type: 'string' }, checks: { type: 'object', additionalProperties: checkSchema } },
  } as const;
  const liveSchema = { type: 'object', properties: { status: { type: 'string' }, service: { type: 'string' }, pid: { type: 'integer' }, uptimeSeconds: { type: 'number' } } } as const;
  app.get('/health/live', { schema: { response: { 200: liveSchema } } }, async () => ({
    status: 'live',
    service: options.service,
    pid: process.pid,
    uptimeSeconds: process.uptime(),
  }));
  app.get('/health/ready', { schema: { response: { 200: readySchema, 503: readySchema } } }, async (_request, reply) => {
    const { ready, checks } = await options.readiness();
    void reply.code(ready ? 200 : 503);
    return { status: ready ? 'ready' : 'not_ready', service: options.service, checks };
  });
  app.get('/metrics', { schema: { response: { ...problemResponses() } } }, async (_request, reply) => {
    await options.readiness();
    const text = await options.metrics.registry.metrics();
    return reply.type(options.metrics.registry.contentType).send(text);
  });
}
