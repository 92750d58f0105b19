/**
 * Which PostgreSQL failures mean the database is away rather than the statement wrong: those are reported as
 * SHOAL_DATABASE (retriable), the code every consumer waits out as an outage instead of dead-lettering the
 * record it was on (@shoal/transport's record-failure.ts). Everything else (a constraint, a syntax error, a
 * serialization failure) is the statement's and passes through as it is.
 *
 *   08xxx   connection exception        57P01  admin_shutdown        57P02  crash_shutdown
 *   57P03   cannot_connect_now          53xxx  insufficient resources  and the socket errors of Node
 */
import { ShoalError } from '@shoal/core';

const NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

export function isConnectionFailure(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && (code.startsWith('08') || code.startsWith('53') || code === '57P01' || code === '57P02' || code === '57P03' || NODE_CODES.has(code))) return true;
  const message = (error as Error | null)?.message ?? '';
  return /Connection terminated|connection is closed|Client has encountered a connection error|timeout exceeded when trying to connect/i.test(message);
}

/** `error` as SHOAL_DATABASE when the database is away, else unchanged. */
export function databaseError(error: unknown, where: string): unknown {
  if (error instanceof ShoalError || !isConnectionFailure(error)) return error;
  return new ShoalError('SHOAL_DATABASE', `The database ${where} is unreachable: ${(error as Error).message}`, { cause: error, retriable: true });
}
