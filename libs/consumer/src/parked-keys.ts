/**
 * Redrive and skip of a consumer group's parked keys (parked-records.ts holds them).
 *
 *   redrive(key)  runs the handler again on the key's dead letter, then on each record parked behind it, in
 *                 order, each once (through the inbox: an event id it already has is not handled twice). It
 *                 stops at the first record that fails again: that record is the key's dead letter now (with
 *                 the new reason, and published to the dead-letter topic if it was not yet), the records
 *                 behind it stay parked and the key stays blocked.
 *   skip(key)     drops the key's dead letter (it stays in the dead-letter topic, so it is published first if
 *                 it was not) and releases the records parked behind it the same way.
 *
 * One database transaction does all of it: each record's handler runs in a savepoint of it (rolled back alone
 * when it throws) and its row is removed in the same savepoint, so a crash leaves the key as it was or as
 * the redrive left it, never half-redriven with a parked record at its front. The records are decoded before
 * the transaction (decoding may have to ask the registry); a record parked meanwhile that cannot be decoded
 * without asking rolls the transaction back, and it is tried again once decoded. The consumer's runs are
 * transactions too, and they and the redrive are ordered on the key: on SQLite the service database runs
 * one transaction at a time (its single connection queues them, awaited handlers included), on PostgreSQL
 * the redrive's transaction and a run that finds the key blocked take the key's lock (parked-records.ts).
 * So a record of the key that the consumer reads meanwhile is either parked before the redrive reads the
 * key's rows (and redriven by it) or handled after the redrive committed: it never overtakes.
 *
 * An outage (the registry unreachable while decoding, the database busy, full or broken) leaves everything
 * as it was and reports the error: the key is not given a new reason for a failure that is not its own.
 * Operations of one group run one at a time.
 */
import { isShoalError, SHOAL_ERROR_CODES, ShoalError, type ShoalErrorCode, type ShoalLogger } from '@shoal/core';
import type { CloudEvent, EventCodec } from '@shoal/contract';
import { asShoalError, failureKind, RecordContext } from '@shoal/transport';
import type { ServiceDatabase, Transaction } from '@shoal/store';
import type { DeadLetterQueue } from './dead-letter-queue.js';
import type { DlqDeadLetter, DlqFailure, DlqRedriveResult, DlqSkipResult } from './dlq-bodies.js';
import { reasonOf, type InboxHandler } from './inbox-handler.js';
import type { ParkedReason, ParkedRecords, ParkedRow } from './parked-records.js';
import type { RuntimeCounters } from './subscription-status.js';

export interface ParkedKeysOptions {
  group: string;
  database: ServiceDatabase;
  parking: ParkedRecords;
  handler: InboxHandler;
  codec: EventCodec;
  deadLetters: DeadLetterQueue;
  counters: RuntimeCounters;
  logger: ShoalLogger;
  now: () => number;
}

/** A record decoded for its redrive, or why it could not be. */
type Decoded = { event: CloudEvent<unknown> } | { error: unknown };

/** Thrown inside the transaction when a row parked since the decoding needs the registry: rolled back, decoded, tried again. */
class NotDecodedYet extends Error {
  constructor(readonly rows: readonly ParkedRow[]) {
    super('parked records to decode first');
  }
}

interface Released {
  handled: number;
  duplicates: number;
  /** The row that failed again, with the reason now stored on it. */
  failed: { row: ParkedRow; error: unknown; attempts: number } | undefined;
  /** Rows of the key left after the transaction. */
  left: number;
  /** The event id of the dead letter dropped by a skip. */
  skipped: string | null;
}

export class ParkedKeys {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: ParkedKeysOptions) {}

  /** Every dead letter of the group with the records parked behind it, by key. */
  async list(): Promise<DlqDeadLetter[]> {
    const letters: DlqDeadLetter[] = [];
    for (const row of await this.options.parking.all(this.options.database.sql)) {
      const current = letters.at(-1);
      if (current !== undefined && current.key === row.key) {
        current.parked.push({ topic: row.topic, partition: row.partition, offset: row.offset, eventId: row.eventId, type: row.type, parkedAt: iso(row.parkedAt) });
        continue;
      }
      // Every key's first row has a reason (see the file comment); the fallback only keeps a hand-edited table readable.
      const reason = row.reason ?? { code: 'SHOAL_HANDLER_FAILED', message: 'no reason was stored', kind: 'exhausted', attempts: 0, failedAt: row.parkedAt };
      letters.push({
        key: row.key,
        topic: row.topic,
        partition: row.partition,
        offset: row.offset,
        eventId: row.eventId,
        type: row.type,
        reason: { code: reason.code, message: reason.message, kind: reason.kind, attempts: reason.attempts },
        failedAt: iso(reason.failedAt),
        parked: [],
      });
    }
    return letters;
  }

  async keys(): Promise<string[]> {
    return this.options.parking.keys(this.options.database.sql);
  }

  /** Redrives the key; undefined when the group holds nothing back for it. */
  redrive(key: string): Promise<DlqRedriveResult | undefined> {
    return this.exclusive(async () => {
      const released = await this.release(key, false);
      if (released === undefined) return undefined;
      return { group: this.options.group, key, handled: released.handled + released.duplicates, stillParked: stillParked(released), ...failureOf(released) };
    });
  }

  /** Drops the key's dead letter and releases what is parked behind it; undefined when the group holds nothing back for it. */
  skip(key: string): Promise<DlqSkipResult | undefined> {
    return this.exclusive(async () => {
      const head = (await this.options.parking.rows(this.options.database.sql, key))[0];
      if (head === undefined) return undefined;
      // The dead-letter topic keeps what a skip drops: a record that failed only on a redrive is published first.
      if (!head.published) await this.publish(head, head.reason?.attempts ?? 1, errorOfReason(head.reason));
      const released = await this.release(key, true);
      if (released === undefined) return undefined;
      return { group: this.options.group, key, skipped: released.skipped, handled: released.handled + released.duplicates, stillParked: stillParked(released), ...failureOf(released) };
    });
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = this.queue.then(work);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** The redrive of a key (see the file comment), its dead letter dropped first with `skipHead`. */
  private async release(key: string, skipHead: boolean): Promise<Released | undefined> {
    const { database, parking, counters, logger } = this.options;
    const decoded = new Map<number, Decoded>();
    let rows = await parking.rows(database.sql, key);
    if (rows.length === 0) return undefined;
    let released: Released;
    for (;;) {
      await this.decode(skipHead ? rows.slice(1) : rows, decoded);
      try {
        released = await database.transact((tx) => this.releaseInTransaction(tx, key, skipHead, decoded));
        break;
      } catch (error) {
        if (!(error instanceof NotDecodedYet)) throw failureKind(error) === 'outage' ? outage(error) : error;
        rows = error.rows as ParkedRow[];
      }
    }
    counters.committed(released.handled, released.duplicates);
    counters.parking = await parking.counts(database.sql);
    const what = skipHead ? `skipped the dead letter of key ${key} and released` : `redrove key ${key}:`;
    if (released.failed === undefined) {
      logger.info({ group: this.options.group, key, handled: released.handled, duplicates: released.duplicates }, `consumer ${this.options.group} ${what} ${released.handled + released.duplicates} records`);
    } else {
      const { row, error, attempts } = released.failed;
      logger.warn(
        { group: this.options.group, key, handled: released.handled, stillParked: stillParked(released), topic: row.topic, partition: row.partition, offset: row.offset, err: error },
        `consumer ${this.options.group} ${what} ${released.handled + released.duplicates} records, then ${row.topic}/${row.partition}@${row.offset} failed again and is the key's dead letter: ${asShoalError(error).message}`,
      );
      if (!row.published) {
        try {
          await this.publish(row, attempts, asShoalError(error));
        } catch (publishError) {
          // A skip publishes it first, so nothing is lost; the redrive's answer says what failed.
          logger.warn({ group: this.options.group, key, err: publishError }, `consumer ${this.options.group} cannot publish ${row.topic}/${row.partition}@${row.offset} to its dead-letter topic yet: ${(publishError as Error).message}`);
        }
      }
    }
    return released;
  }

  /** Runs inside the transaction: the key's rows as they are now, each handled in a savepoint with its row removed. */
  private async releaseInTransaction(tx: Transaction<unknown>, key: string, skipHead: boolean, decoded: Map<number, Decoded>): Promise<Released> {
    const { parking, handler, now } = this.options;
    await parking.lockKey(tx.sql, key);
    const rows = await parking.rows(tx.sql, key);
    const released: Released = { handled: 0, duplicates: 0, failed: undefined, left: 0, skipped: null };
    let start = 0;
    if (skipHead && rows.length > 0) {
      released.skipped = rows[0]!.eventId;
      await parking.remove(tx.sql, rows[0]!.seq);
      start = 1;
    }
    const undecoded = rows.slice(start).filter((row) => !decoded.has(row.seq));
    for (const row of undecoded) {
      const result = this.decodeNow(row);
      if (result === undefined) throw new NotDecodedYet(rows);
      decoded.set(row.seq, result);
    }
    for (let i = start; i < rows.length; i++) {
      const row = rows[i]!;
      const attempts = (i === 0 && row.reason !== null ? row.reason.attempts : 0) + 1;
      const outcome = decoded.get(row.seq)!;
      let error: unknown;
      if ('error' in outcome) {
        error = outcome.error;
      } else {
        try {
          const event = outcome.event;
          const context = new RecordContext(row.topic, row.partition, row.message, attempts);
          const handled = await tx.transact(async (savepoint) => {
            const done = handler.handles(event.type) ? await handler.handle(event, savepoint, context) : false;
            await parking.remove(savepoint.sql, row.seq);
            return done;
          });
          if (handled) released.handled += 1;
          else released.duplicates += 1;
          continue;
        } catch (caught) {
          error = caught;
        }
      }
      // Not the record's own failure: nothing of the redrive stays, and the key keeps its reason.
      if (failureKind(error) === 'outage') throw outage(error);
      const failure = asShoalError(error);
      await parking.fail(tx.sql, row.seq, reasonOf(failure, failureKind(error) === 'poison' ? 'poison' : 'exhausted', attempts, now()));
      released.failed = { row, error, attempts };
      released.left = rows.length - i;
      return released;
    }
    return released;
  }

  /** Decodes the rows not decoded yet, asking the registry where it must. */
  private async decode(rows: readonly ParkedRow[], decoded: Map<number, Decoded>): Promise<void> {
    for (const row of rows) {
      if (decoded.has(row.seq)) continue;
      try {
        const event = await this.options.codec.decode(row.message);
        decoded.set(row.seq, { event });
      } catch (error) {
        decoded.set(row.seq, { error });
      }
    }
  }

  /** Decodes a row without waiting; undefined when the codec must ask the registry first. */
  private decodeNow(row: ParkedRow): Decoded | undefined {
    try {
      const result = this.options.codec.decode(row.message);
      if (result instanceof Promise) {
        result.catch(() => undefined);
        return undefined;
      }
      return { event: result };
    } catch (error) {
      return { error };
    }
  }

  private async publish(row: ParkedRow, attempts: number, error: ShoalError): Promise<void> {
    const { group, deadLetters, database, parking, now, counters } = this.options;
    try {
      await deadLetters.publish({ group, topic: row.topic, partition: row.partition, message: row.message, error, attempts, time: now() });
    } catch (cause) {
      throw new ShoalError('SHOAL_BROKER_UNAVAILABLE', `Cannot publish ${row.topic}/${row.partition}@${row.offset} to the dead-letter topic ${deadLetters.topic} yet: ${(cause as Error).message}`, {
        cause,
        retriable: true,
      });
    }
    counters.deadLettered += 1;
    await database.transact((tx) => parking.published(tx.sql, row.seq));
  }
}

/** The error a stored reason stands for, to publish the record with the dead-letter headers it failed with. */
function errorOfReason(reason: ParkedReason | null): ShoalError {
  if (reason === null) return new ShoalError('SHOAL_HANDLER_FAILED', 'failed on a redrive', { retriable: true });
  const code = (SHOAL_ERROR_CODES as readonly string[]).includes(reason.code) ? (reason.code as ShoalErrorCode) : 'SHOAL_HANDLER_FAILED';
  return new ShoalError(code, reason.message, { retriable: reason.kind === 'exhausted' });
}

/** An outage as the ShoalError a caller reports (a busy or broken SQLite, a PostgreSQL deadlock, is a retriable SHOAL_DATABASE). */
function outage(error: unknown): unknown {
  if (isShoalError(error)) return error;
  return new ShoalError('SHOAL_DATABASE', `The service database cannot take the redrive now: ${(error as Error).message}`, { cause: error, retriable: true });
}

function stillParked(released: Released): number {
  return released.failed === undefined ? 0 : released.left - 1;
}

function failureOf(released: Released): { error?: DlqFailure } {
  if (released.failed === undefined) return {};
  const failure = asShoalError(released.failed.error);
  return { error: { code: failure.code, message: failure.message } };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
