/**
 * Errors over HTTP: every failure a service answers is `application/problem+json` (RFC 9457) carrying
 * Shoal's stable code, so a client switches on `code`, never on prose. The document's shape and the table
 * from codes to statuses are @shoal/core's (problem-details.ts), shared with the projection admin routes;
 * this module turns whatever a request raised into one.
 *
 * What fastify refuses before a handler runs (schema validation, malformed or empty JSON, a body too large,
 * a wrong media type, a bad URL, a path parameter over the length limit, no such route) gets the same shape;
 * a validation failure names its problem under `errors`.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { httpStatusOfCode, isShoalError, problemDocument, problemSchema, PROBLEM_CONTENT_TYPE } from '@shoal/core';

export { problemSchema, PROBLEM_CONTENT_TYPE };

/** `{ 400: problemSchema, 404: …, … }` for the statuses a route can answer with. */
export function problemResponses(...statuses: number[]): Record<number, typeof problemSchema> {
  return Object.fromEntries([400, 500, 503, ...statuses].map((status) => [status, problemSchema]));
}

/** The status of anything a request raised: a ShoalError's by its code, fastify's own by its statusCode. */
export function statusOfError(error: unknown): number {
  if (isShoalError(error)) return httpStatusOfCode(error.code, error.retriable);
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
  const instance = request.url.length > 256 ? `${request.url.slice(0, 256)}…` : request.url;
  // Sent as a string so no route's response schema filters the problem's members.
  return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).serializer(JSON.stringify).send(problemDocument({ ...problem, instance }));
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
    return { status, code: error.code, detail: error.message, ...(error.details === undefined ? {} : { extensions: error.details }) };
  }
  const status = statusOfError(error);
  if (status < 500) return { status, code: 'SHOAL_REQUEST_INVALID', detail: `Invalid request: ${error.message}` };
  return { status, code: 'SHOAL_HANDLER_FAILED', detail: 'The service failed to handle the request; its log has the cause' };
}
