/**
 * The HTTP face of Shoal's error codes: RFC 9457 problem documents, one shape for every HTTP surface Shoal
 * has (the service host, the projection admin routes), and the one table that maps a code to a status.
 * Domain code still never names a status: it throws a ShoalError, and whoever answers
 * HTTP asks this table.
 *
 *   { "type": "urn:shoal:error:SHOAL_NOT_FOUND", "title": "Not Found", "status": 404,
 *     "detail": "No order o-1", "code": "SHOAL_NOT_FOUND", "instance": "/orders/o-1", ...extensions }
 */
import type { ShoalErrorCode } from './errors.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

const statusOfCode: Partial<Record<ShoalErrorCode, number>> = {
  SHOAL_REQUEST_INVALID: 400,
  SHOAL_CONFIG_INVALID: 400,
  SHOAL_EVENT_INVALID: 400,
  SHOAL_EVENT_DATA_INVALID: 400,
  SHOAL_NOT_FOUND: 404,
  SHOAL_PROJECTION_NOT_FOUND: 404,
  SHOAL_DLQ_KEY_UNKNOWN: 404,
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

/** The status of an error code; a retriable database error (busy, full) is a 503 the client may retry. */
export function httpStatusOfCode(code: ShoalErrorCode, retriable = false): number {
  if (code === 'SHOAL_DATABASE') return retriable ? 503 : 500;
  return statusOfCode[code] ?? 500;
}

/** The JSON schema of a problem document, for routes' `response` maps. */
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

export interface ProblemDocumentOptions {
  status: number;
  code: string;
  detail: string;
  instance?: string;
  errors?: { path: string; message: string }[];
  /** Further members; the ones RFC 9457 defines are never overwritten by them. */
  extensions?: Record<string, unknown>;
}

export function problemDocument(problem: ProblemDocumentOptions): Record<string, unknown> {
  const { type: _type, title: _title, status: _status, detail: _detail, instance: _instance, code: _code, errors: _errors, ...extensions } = problem.extensions ?? {};
  return {
    ...extensions,
    type: `urn:shoal:error:${problem.code}`,
    title: titles[problem.status] ?? (problem.status >= 500 ? 'Server Error' : 'Client Error'),
    status: problem.status,
    detail: problem.detail,
    code: problem.code,
    ...(problem.instance === undefined ? {} : { instance: problem.instance }),
    ...(problem.errors === undefined ? {} : { errors: problem.errors }),
  };
}
