/**
 * What a subscription does with the runs its consumer loop hands it (@shoal/transport's ConsumerLoop): each
 * run is ONE transaction on the service database holding, per event, its inbox row, its handler's writes and
 * the events it emits. One commit per run instead of per record is what lets the inbox dedupe keep up with
 * raw kafkajs (one WAL append per run, not fsynced with synchronous=NORMAL). A run whose handlers do not
 * return promises is applied in one synchronous stretch; a handler that returns one is awaited inside the
 * transaction, and the records after it are applied once it resolved, in order.
 *
 * Runs are optimistic: there is no savepoint per record. A savepoint around each record would let a failing
 * handler roll back alone, but it costs two statements and a copy of every page the record touches, paid by
 * every record, to serve the rare one that fails. Instead, when a handler throws, the whole run is rolled back
 * and the loop is told which event failed (RunFailure); it applies the records before that one again in a
 * run of their own, which commits, and only then deals with the failing record. Seen from outside (the
 * database, the outbox, the offsets) a handler that throws still rolls back alone and the records before it
 * commit once; their handlers do run a second time, on the same database state.
 *
 * A record the loop gives up on (poison at once, a retriable failure after its last attempt) is published to
 * the dead-letter topic; the partition moves past it only once the broker acknowledged the dead letter, and
 * a failed publish is tried again with backoff while the partition waits. With parking (the default), the
 * record is then stored in the group's parked records (parked-records.ts) as its key's dead letter, and in
 * every later run a record of a blocked key is stored behind it instead of being handled: its row commits in
 * the run's transaction, with the inbox rows of the run's other records, and the partition moves past it.
 * A record without a key is dead-lettered only (there is no key to hold back).
 */
import { performance } from 'node:perf_hooks';
import type { KafkaMessage } from 'kafkajs';
import type { ShoalError, ShoalLogger } from '@shoal/core';
import type { CloudEvent } from '@shoal/contract';
import { asShoalError, RunFailure, type ConsumerLoopHandler, type EventRun, type FailedRecord, type GiveUp, type MessageContext, type RecordContext } from '@shoal/transport';
import { isPromiseLike, type SqliteServiceDatabase, type SqliteTransaction } from '@shoal/store-sqlite';
import type { DeadLetterQueue } from './dead-letter-queue.js';
import type { AnyEventHandler } from './event-handlers.js';
import type { Inbox } from './inbox-table.js';
import type { ParkedReason, ParkedReasonKind, ParkedRecords } from './parked-records.js';
import type { RuntimeCounters } from './subscription-status.js';

export interface InboxHandlerOptions {
  group: string;
  database: SqliteServiceDatabase;
  handlers: ReadonlyMap<string, AnyEventHandler>;
  inbox: Inbox;
  deadLetters: DeadLetterQueue;
  /** The group's parked records; undefined when the subscription does not park by key. */
  parking: ParkedRecords | undefined;
  counters: RuntimeCounters;
  logger: ShoalLogger;
  now: () => number;
}

export class InboxHandler implements ConsumerLoopHandler {
  /** Records whose dead letter was published while storing it in the database failed: not published again when giving up is tried again. */
  private readonly publishedLetters = new Set<string>();

  constructor(private readonly options: InboxHandlerOptions) {}

  handles(type: string): boolean {
    return this.options.handlers.has(type);
  }

  /** One transaction for the run; awaits only what a handler returned. */
  async apply(run: EventRun): Promise<void> {
    const { database, parking, counters } = this.options;
    const progress: RunProgress = { handled: 0, duplicates: 0, parked: 0, failedAt: -1 };
    try {
      await database.transact((tx) => {
        // Read inside the transaction: a redrive that unblocks a key commits before or after this run, never in between.
        progress.parking = parking !== undefined && parking.any();
        return this.applyFrom(run, 0, tx, progress);
      });
    } catch (error) {
      // Some failures (SQLITE_FULL, SQLITE_IOERR) make SQLite roll the transaction back itself; either way nothing of the run stays.
      if (progress.failedAt >= 0) throw new RunFailure(progress.failedAt, error);
      throw error;
    }
    counters.committed(progress.handled, progress.duplicates);
    if (progress.parked > 0) {
      counters.parked += progress.parked;
      counters.parking = parking!.counts();
    }
  }

  /**
   * The run's events from `start` on, inside `tx`: synchronously while the handlers return nothing, and on
   * from the next event once the promise a handler returned resolved. A record of a key the group holds back
   * is parked instead of handled.
   */
  private applyFrom(run: EventRun, start: number, tx: SqliteTransaction, progress: RunProgress): void | Promise<void> {
    const { parking } = this.options;
    for (let i = start; i < run.events.length; i++) {
      progress.failedAt = i;
      const { event, context } = run.events[i]!;
      if (progress.parking === true) {
        const key = context.key;
        if (key !== null && parking!.blocked(key)) {
          if (this.options.inbox.has(event.id)) progress.duplicates += 1;
          else if (parking!.add({ key, topic: run.topic, partition: run.partition, message: context.message, eventId: event.id, type: event.type }, this.options.now())) progress.parked += 1;
          else progress.duplicates += 1;
          continue;
        }
      }
      const handled = this.handle(event, tx, context);
      if (handled === false) {
        progress.duplicates += 1;
        continue;
      }
      if (handled !== true) {
        return handled.then(() => {
          progress.handled += 1;
          return this.applyFrom(run, i + 1, tx, progress);
        });
      }
      progress.handled += 1;
    }
    progress.failedAt = -1;
  }

  /**
   * Records `event` in the inbox and runs its handler, inside the caller's transaction: false for a duplicate
   * (the inbox had its id: the handler does not run), true once the handler returned, or the promise it
   * returned (to await before the transaction goes on). Throws what the handler threw.
   */
  handle(event: CloudEvent<unknown>, tx: SqliteTransaction, context: RecordContext): boolean | Promise<unknown> {
    if (!this.options.inbox.record({ eventId: event.id, type: event.type, topic: context.topic, partition: context.partition, offset: context.offset })) return false;
    return this.call(this.options.handlers.get(event.type)!, event, tx, context) ?? true;
  }

  async giveUp(record: FailedRecord): Promise<GiveUp> {
    const { group, deadLetters, parking, logger, counters, now } = this.options;
    const { topic, partition, message, attempts, kind } = record;
    const failure = asShoalError(record.error);
    const where = `${topic}/${partition}@${message.offset}`;
    if (!this.publishedLetters.has(where)) {
      await deadLetters.publish({ group, topic, partition, message, error: failure, attempts, time: now() });
      counters.deadLettered += 1;
    }
    const key = record.context.key;
    const parks = parking !== undefined && key !== null;
    if (parks) {
      this.publishedLetters.add(where);
      // Should this fail (the database is down), the loop tries giving up again with backoff and the partition waits.
      await this.options.database.transact(() =>
        parking.add(
          { key, topic, partition, message, eventId: record.event?.id ?? headerText(message, 'ce_id'), type: record.event?.type ?? headerText(message, 'ce_type') },
          now(),
          { reason: reasonOf(failure, kind === 'poison' ? 'poison' : 'exhausted', attempts, now()), published: true },
        ),
      );
      this.publishedLetters.delete(where);
      counters.parking = parking.counts();
    }
    const reason = kind === 'poison' ? 'cannot be processed' : `failed ${attempts} times`;
    // A handler misused (e.g. a transaction started inside its own) is a bug in the service that will dead-letter every event it gets.
    const level = failure.code === 'SHOAL_HANDLER_INVALID' ? 'error' : 'warn';
    logger[level](
      { group, topic, partition, offset: message.offset, key, code: failure.code, attempt: attempts, err: record.error },
      `consumer ${group} dead-lettered ${where} to ${deadLetters.topic}: it ${reason}: ${failure.message}${parks ? `; later records of key ${key} are parked behind it` : ''}`,
    );
    return 'skip';
  }

  /** Calls the handler and times it (up to its promise's settling, for one that returns a promise); the promise if it returned one. */
  private call(handler: AnyEventHandler, event: CloudEvent<unknown>, tx: SqliteTransaction, context: MessageContext): Promise<unknown> | undefined {
    const started = performance.now();
    let returned: unknown;
    try {
      returned = handler(event, tx, context);
    } catch (error) {
      this.options.counters.handlerCalled(performance.now() - started);
      throw error;
    }
    if (!isPromiseLike(returned)) {
      this.options.counters.handlerCalled(performance.now() - started);
      return undefined;
    }
    return Promise.resolve(returned).finally(() => this.options.counters.handlerCalled(performance.now() - started));
  }
}

/** How far a run got: what the counters learn once it committed, and the event that was being applied. */
interface RunProgress {
  handled: number;
  duplicates: number;
  parked: number;
  /** Whether the group held any key back when the run's transaction began. */
  parking?: boolean;
  /** The event being applied when the transaction threw; -1 when its BEGIN or COMMIT did. */
  failedAt: number;
}

/** Why a record failed for good, as its row keeps it. */
export function reasonOf(failure: ShoalError, kind: ParkedReasonKind, attempts: number, failedAt: number): ParkedReason {
  return { code: failure.code, message: failure.message, kind, attempts, failedAt };
}

/** A header of a record as text, null without it (a record that could not be decoded still has its ce_id). */
export function headerText(message: KafkaMessage, name: string): string | null {
  const value = message.headers?.[name];
  if (value === undefined) return null;
  return (Array.isArray(value) ? value[0] : value)?.toString() ?? null;
}
