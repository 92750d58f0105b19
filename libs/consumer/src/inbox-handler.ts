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
 * a failed publish is tried again with backoff while the partition waits.
 */
import { performance } from 'node:perf_hooks';
import type { ShoalLogger } from '@shoal/core';
import type { CloudEvent } from '@shoal/contract';
import { asShoalError, RunFailure, type ConsumerLoopHandler, type EventRun, type FailedRecord, type GiveUp, type MessageContext } from '@shoal/transport';
import { isPromiseLike, type SqliteTransaction } from '@shoal/store-sqlite';
import type { ServiceDatabase, Transaction } from '@shoal/store';
import type { DeadLetterQueue } from './dead-letter-queue.js';
import type { AnyEventHandler } from './event-handlers.js';
import type { Inbox } from './inbox-table.js';
import type { RuntimeCounters } from './subscription-status.js';

export interface InboxHandlerOptions {
  group: string;
  database: ServiceDatabase;
  handlers: ReadonlyMap<string, AnyEventHandler>;
  inbox: Inbox;
  deadLetters: DeadLetterQueue;
  counters: RuntimeCounters;
  logger: ShoalLogger;
  now: () => number;
}

export class InboxHandler implements ConsumerLoopHandler {
  constructor(private readonly options: InboxHandlerOptions) {}

  handles(type: string): boolean {
    return this.options.handlers.has(type);
  }

  /** One transaction for the run; awaits only what a handler returned. */
  async apply(run: EventRun): Promise<void> {
    const { database, counters } = this.options;
    const progress: RunProgress = { handled: 0, duplicates: 0, failedAt: -1 };
    try {
      await database.transact((tx) => this.applyFrom(run, 0, tx, progress));
    } catch (error) {
      // Some failures (SQLITE_FULL, SQLITE_IOERR) make SQLite roll the transaction back itself; either way nothing of the run stays.
      if (progress.failedAt >= 0) throw new RunFailure(progress.failedAt, error);
      throw error;
    }
    counters.committed(progress.handled, progress.duplicates);
  }

  /**
   * The run's events from `start` on, inside `tx`: synchronously while the handlers return nothing, and on
   * from the next event once the promise a handler returned resolved.
   */
  private applyFrom(run: EventRun, start: number, tx: Transaction<unknown>, progress: RunProgress): void | Promise<void> {
    const { inbox, handlers } = this.options;
    for (let i = start; i < run.events.length; i++) {
      progress.failedAt = i;
      const { event, context } = run.events[i]!;
      const recorded = inbox.record(tx, { eventId: event.id, type: event.type, topic: run.topic, partition: run.partition, offset: context.offset });
      if (recorded instanceof Promise) return recorded.then((isNew) => this.applyRecorded(run, i, tx, progress, isNew));
      if (!recorded) {
        progress.duplicates += 1;
        continue;
      }
      const returned = this.call(handlers.get(event.type)!, event, tx as SqliteTransaction, context);
      if (returned !== undefined) {
        return returned.then(() => {
          progress.handled += 1;
          return this.applyFrom(run, i + 1, tx, progress);
        });
      }
      progress.handled += 1;
    }
    progress.failedAt = -1;
  }

  /** Event `i` once its inbox row was recorded (asynchronously), then the events after it. */
  private applyRecorded(run: EventRun, i: number, tx: Transaction<unknown>, progress: RunProgress, isNew: boolean): void | Promise<void> {
    if (!isNew) {
      progress.duplicates += 1;
      return this.applyFrom(run, i + 1, tx, progress);
    }
    const { event, context } = run.events[i]!;
    const returned = this.call(this.options.handlers.get(event.type)!, event, tx as SqliteTransaction, context);
    if (returned === undefined) {
      progress.handled += 1;
      return this.applyFrom(run, i + 1, tx, progress);
    }
    return returned.then(() => {
      progress.handled += 1;
      return this.applyFrom(run, i + 1, tx, progress);
    });
  }

  async giveUp(record: FailedRecord): Promise<GiveUp> {
    const { group, deadLetters, logger, counters, now } = this.options;
    const { topic, partition, message, attempts, kind } = record;
    const failure = asShoalError(record.error);
    await deadLetters.publish({ group, topic, partition, message, error: failure, attempts, time: now() });
    counters.deadLettered += 1;
    const reason = kind === 'poison' ? 'cannot be processed' : `failed ${attempts} times`;
    // A handler misused (e.g. a transaction started inside its own) is a bug in the service that will dead-letter every event it gets.
    const level = failure.code === 'SHOAL_HANDLER_INVALID' ? 'error' : 'warn';
    logger[level](
      { group, topic, partition, offset: message.offset, code: failure.code, attempt: attempts, err: record.error },
      `consumer ${group} dead-lettered ${topic}/${partition}@${message.offset} to ${deadLetters.topic}: it ${reason}: ${failure.message}`,
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
  /** The event being applied when the transaction threw; -1 when its BEGIN or COMMIT did. */
  failedAt: number;
}
