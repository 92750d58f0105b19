/**
 * What a failed record means for the partition it sits on: the one classification of every consumer of the
 * platform (subscriptions, projectors, `shoal subscribe`). The `retriable` flag of a ShoalError is the input,
 * with one distinction the flag alone cannot make: whether the record is at fault or the infrastructure the
 * consumer stands on.
 *
 *   outage     the registry is unreachable (decoding needs it), the database is closed, busy past its busy
 *              timeout (another connection holds the write lock), full, read only or broken, a sidecar's
 *              micrologic refuses connections (it is down or restarting): every record
 *              would fail the same way, so giving up on the record would empty the topic (into a dead-letter
 *              topic, parking every key, or past a read model). Retried with capped backoff until it works or
 *              the consumer stops; the attempts do not count.
 *   retriable  a ShoalError flagged retriable, or anything that is not a ShoalError (a handler's plain Error,
 *              a constraint a handler trips over): retried in place up to `retry.attempts` tries, then given
 *              up on.
 *   poison     a ShoalError not flagged retriable (bytes that are not an event, an unknown schema id, data
 *              that does not match its schema, a handler that misused its transaction, an emitted event that
 *              breaks the contract): retrying cannot help, given up on at once.
 *
 * What giving up means is the consumer's: a subscription dead-letters the record, a projector skips a record
 * it cannot decode and stops on a handler that fails, `shoal subscribe` reports it.
 *
 * SQLite errors are recognised by their `code` (better-sqlite3's SqliteError), so this package needs no
 * SQLite of its own; so are PostgreSQL's transaction rollbacks that are nobody's fault (node-postgres
 * gives the SQLSTATE as `code`): a serialization failure or a deadlock between transactions running side by
 * side is an outage, tried again, never a dead letter. (PostgreSQL's connection failures already come as
 * SHOAL_DATABASE from @shoal/store-postgres.)
 */
import type { KafkaMessage } from 'kafkajs';
import { isShoalError, ShoalError, type ShoalErrorCode } from '@shoal/core';
import type { CloudEvent } from '@shoal/contract';
import type { RecordContext } from './record-context.js';

export type FailureKind = 'outage' | 'retriable' | 'poison';

export type FailureStage = 'decode' | 'handler' | 'run';

/** A record a consumer gives up on: poison, or a retriable failure whose attempts ran out. */
export interface FailedRecord {
  topic: string;
  partition: number;
  message: KafkaMessage;
  context: RecordContext;
  /** Undefined when the record could not be decoded. */
  event: CloudEvent<unknown> | undefined;
  /** What failed: decoding the record, the handler on its event, or the run it was the first record of as a whole (its transaction). */
  stage: FailureStage;
  error: unknown;
  kind: FailureKind;
  /** Tries made, 1 for a record given up on at once. */
  attempts: number;
}

/** Codes of ShoalErrors that report the infrastructure down rather than the record bad. */
const OUTAGE_CODES: ReadonlySet<ShoalErrorCode> = new Set(['SHOAL_REGISTRY_UNAVAILABLE', 'SHOAL_DATABASE', 'SHOAL_MICROLOGIC_UNAVAILABLE']);

/**
 * SQLite result codes (primary part) of a database that cannot take writes at all, or not now: BUSY and LOCKED
 * come after the connection's busy timeout, while another connection holds the write lock, and would fail every
 * record the same way (given up on, they would dead-letter the records and park their keys).
 */
const SQLITE_OUTAGE_CODES: ReadonlySet<string> = new Set(['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_FULL', 'SQLITE_IOERR', 'SQLITE_READONLY', 'SQLITE_CANTOPEN', 'SQLITE_CORRUPT', 'SQLITE_NOTADB', 'SQLITE_NOMEM']);

/** SQLSTATEs of PostgreSQL transactions rolled back for running beside others: serialization_failure, deadlock_detected. */
const POSTGRES_OUTAGE_CODES: ReadonlySet<string> = new Set(['40001', '40P01']);

export function failureKind(error: unknown): FailureKind {
  if (isShoalError(error)) {
    if (OUTAGE_CODES.has(error.code)) return 'outage';
    return error.retriable ? 'retriable' : 'poison';
  }
  const code = sqliteCode(error);
  if (code !== undefined && SQLITE_OUTAGE_CODES.has(primaryCode(code))) return 'outage';
  if (POSTGRES_OUTAGE_CODES.has(String((error as { code?: unknown } | null)?.code))) return 'outage';
  return 'retriable';
}

/**
 * The ShoalError a failure is reported as (logs, status, dead-letter headers): a ShoalError as it is, anything
 * else SHOAL_HANDLER_FAILED with the original as its cause and its message.
 */
export function asShoalError(error: unknown): ShoalError {
  if (isShoalError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ShoalError('SHOAL_HANDLER_FAILED', message, { cause: error, retriable: failureKind(error) !== 'poison' });
}

function sqliteCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
}

/** `SQLITE_IOERR` of `SQLITE_IOERR_WRITE`: extended result codes share the primary code's prefix. */
function primaryCode(code: string): string {
  const second = code.indexOf('_', 'SQLITE_'.length);
  return second === -1 ? code : code.slice(0, second);
}
