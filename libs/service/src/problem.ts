/**
 * Errors over HTTP: every failure a service answers is `application/problem+json` (RFC 9457) carrying
 * Shoal's stable code, so a client switches on `code`, never on prose:
 *
 *   { "type": "urn:shoal:error:SHOAL_NOT_FOUND", "title": "Not Found", "status": 404,
 *     "detail": "No order o-1", "code": "SHOAL_NOT_FOUND", "instance": "/orders/o-1", ...details }
 *
 * Domain code never knows HTTP statuses (STYLE.md habit 2): it throws a ShoalError and `statusOfError` maps
 * the code here, in one table. What fastify refuses before a handler runs (schema validation, malformed or
 * empty JSON, a body too large, a wrong media type, a bad URL, a path parameter over the length limit, no
 * such route) gets the same shape; validation failures list each problem under `errors`.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isShoalError, type ShoalErrorCode } from '@shoal/core';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

const statusOfCode: Partial<Record<ShoalErrorCode, number>> = {
  SHOAL_REQUEST_INVALID: 400,
  SHOAL_CONFIG_INVALID: 400,
  SHOAL_EVENT_INVALID: 400,
  SHOAL_EVENT_DATA_INVALID: 400,
  SHOAL_NOT_FOUND: 404,
  SHOAL_PROJECTION_NOT_FOUND: 404,
  SHOAL_COMMAND_REJECTED: 409,
  SHOAL_CONCURRENCY_CONFLICT: 409,
  SHOAL_PROJECTION_REBUILDING: 409,
  SHOAL_SERVICE_UNAVAILABLE: 503,
  SHOAL_BROKER_UNAVAILABLE: 503,
  SHOAL_REGISTRY_UNAVAILABLE: 503,
};

const titles: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** The response schema of a problem, for routes' `response` maps. */
export const problemSchema = {
  type: 'object',
  required: ['type', 'title', 'status', 'detail', 'code'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    code: { type: 'string' },
    instance: { type: 'string' },
    errors: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } } },
  },
  additionalProperties: true,
} as const;

/** `{ 400: problemSchema, 404: …, … }` for the statuses a route can answer with. */
export function problemResponses(...statuses: number[]): Record<number, typeof problemSchema> {
  return Object.fromEntries([400, 500, 503, ...statuses].map((status) => [status, problemSchema]));
}

/** A retriable database error (busy, full) is a 503 the client may retry; any other one a 500. */
export function statusOfError(error: unknown): number {
  if (isShoalError(error)) {
    if (error.code === 'SHOAL_DATABASE') return error.retriable ? 503 : 500;
    return statusOfCode[error.code] ?? 500;
  }
  const status = (error as FastifyError).statusCode;
  return typeof status === 'number' && status >= 400 && status < 600 ? status : 500;
}

export interface Problem {
  status: number;
  code: string;
  detail: string;
  errors?: { path: string; message: string }[];
  extensions?: Record<string, unknown>;
}

export function sendProblem(request: FastifyRequest, reply: FastifyReply, problem: Problem): FastifyReply {
  const body: Record<string, unknown> = {
    ...problem.extensions,
    type: `urn:shoal:error:${problem.code}`,
    title: titles[problem.status] ?? (problem.status >= 500 ? 'Server Error' : 'Client Error'),
    status: problem.status,
    detail: problem.detail,
    code: problem.code,
    instance: request.url.length > 256 ? `${request.url.slice(0, 256)}…` : request.url,
  };
  if (problem.errors !== undefined) body.errors = problem.errors;
  // Sent as a string so no route's response schema filters the problem's members.
  return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).serializer(JSON.stringify).send(body);
}

/** The problem for any error thrown by a handler or raised by fastify before it. */
export function problemOf(error: FastifyError | Error): Problem {
  const fastifyError = error as FastifyError;
  if (fastifyError.validation !== undefined) {
    return {
      status: 400,
      code: 'SHOAL_REQUEST_INVALID',
      detail: `Invalid request: ${error.message}`,
      errors: fastifyError.validation.map((issue) => ({
        path: `${fastifyError.validationContext ?? 'body'}${issue.instancePath}`,
        message: issue.message ?? 'is invalid',
      })),
    };
  }
  if (isShoalError(error)) {
    const status = statusOfError(error);
    return { status, code: error.code, detail: error.message, ...(error.details === undefined ? {} : { extensions: safeDetails(error.details) }) };
  }
  const status = statusOfError(error);
  if (status < 500) return { status, code: 'SHOAL_REQUEST_INVALID', detail: `Invalid request: ${error.message}` };
  return { status, code: 'SHOAL_HANDLER_FAILED', detail: 'The service failed to handle the request; its log has the cause' };
}

/** Details become members of the problem, except the ones RFC 9457 defines. */
function safeDetails(details: Record<string, unknown>): Record<string, unknown> {
  const { type: _type, title: _title, status: _status, detail: _detail, instance: _instance, code: _code, ...rest } = details;
  return rest;
}
