/**
 * What a failed record means for the partition it sits on. The `retriable` flag of a ShoalError is the input,
 * as everywhere in Shoal, with one distinction the flag alone cannot make: whether the record is at fault or
 * the infrastructure the consumer stands on.
 *
 *   outage     the registry is unreachable (decoding needs it), the service database is closed, full, read
 *              only or broken: every record would fail the same way, so dead-lettering would empty the topic
 *              into the DLQ. Retried with capped backoff until it works or the subscription stops; the
 *              attempts do not count.
 *   retriable  a ShoalError flagged retriable, or anything that is not a ShoalError (a handler's plain Error,
 *              SQLITE_BUSY, a constraint a handler trips over): retried in place up to `retry.attempts`
 *              tries, then dead-lettered.
 *   poison     a ShoalError not flagged retriable (bytes that are not an event, an unknown schema id, data
 *              that does not match its schema, a handler that returned a promise, an emitted event that
 *              breaks the contract): retrying cannot help, dead-lettered at once.
 */
import Database from 'better-sqlite3';
import { isShoalError, ShoalError, type ShoalErrorCode } from '@shoal/core';

export type FailureKind = 'outage' | 'retriable' | 'poison';

/** Codes of ShoalErrors that report the infrastructure down rather than the record bad. */
const OUTAGE_CODES: ReadonlySet<ShoalErrorCode> = new Set(['SHOAL_REGISTRY_UNAVAILABLE', 'SHOAL_DATABASE']);

/** SQLite result codes (primary part) of a database that cannot take writes at all. */
const SQLITE_OUTAGE_CODES: ReadonlySet<string> = new Set(['SQLITE_FULL', 'SQLITE_IOERR', 'SQLITE_READONLY', 'SQLITE_CANTOPEN', 'SQLITE_CORRUPT', 'SQLITE_NOTADB', 'SQLITE_NOMEM']);

export function failureKind(error: unknown): FailureKind {
  if (isShoalError(error)) {
    if (OUTAGE_CODES.has(error.code)) return 'outage';
    return error.retriable ? 'retriable' : 'poison';
  }
  if (error instanceof Database.SqliteError && SQLITE_OUTAGE_CODES.has(primaryCode(error.code))) return 'outage';
  return 'retriable';
}

/**
 * The ShoalError a failure is reported as (logs, status, DLQ headers): a ShoalError as it is, anything else
 * SHOAL_HANDLER_FAILED with the original as its cause and its message.
 */
export function asShoalError(error: unknown): ShoalError {
  if (isShoalError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ShoalError('SHOAL_HANDLER_FAILED', message, { cause: error, retriable: failureKind(error) !== 'poison' });
}

/** `SQLITE_IOERR` of `SQLITE_IOERR_WRITE`: extended result codes share the primary code's prefix. */
function primaryCode(code: string): string {
  const second = code.indexOf('_', 'SQLITE_'.length);
  return second === -1 ? code : code.slice(0, second);
}
