/**
 * What a subscription does with the runs its consumer loop hands it (@shoal/transport's ConsumerLoop): each
 * run is ONE transaction on the service database holding, per event, its inbox row, its handler's writes and
 * the events it emits. One commit per run instead of per record is what lets the inbox dedupe keep up with
 * raw kafkajs (one WAL append per run, not fsynced with synchronous=NORMAL); the loop never awaits with a
 * transaction open, since a run is applied synchronously.
 *
 * Runs are optimistic: there is no savepoint per record. A savepoint around each record would let a failing
 * handler roll back alone, but it costs two statements and a copy of every page the record touches, paid by
 * every record, to serve the rare one that fails. Instead, when a handler throws, the whole run is rolled back
 * and the loop is told which event failed (RunFailure); it applies the records before that one again in a
 * run of their own, which commits, and only then deals with the failing record. Seen from outside (the
 * database, the outbox, the offsets) a handler that throws still rolls back alone and the records before it
 * commit once; their handlers do run a second time, on the same database state.
 *
 * With `prepare` (asynchronous work an event needs before its transaction, such as a sidecar's call to its
 * micrologic), a run is applied in two steps: first each event the inbox does not hold yet is prepared, one
 * after the other in offset order, outside any transaction; then the run's transaction hands each handler
 * its event's prepared value. A redelivered event is never prepared again. What was prepared for a run that
 * failed further on is kept for the records before the failure, so applying them again calls nothing twice;
 * a failure of the transaction at an event drops that event's prepared value (it may rest on state that
 * changed, as a state version conflict says), so its retry prepares it afresh.
 *
 * A record the loop gives up on (poison at once, a retriable failure after its last attempt) is published to
 * the dead-letter topic; the partition moves past it only once the broker acknowledged the dead letter, and
 * a failed publish is tried again with backoff while the partition waits.
 */
import { performance } from 'node:perf_hooks';
import { ShoalError, type ShoalLogger } from '@shoal/core';
import type { CloudEvent } from '@shoal/contract';
import { asShoalError, RunFailure, type ConsumerLoopHandler, type EventRun, type FailedRecord, type GiveUp, type MessageContext } from '@shoal/transport';
import type { SqliteServiceDatabase, SqliteTransaction } from '@shoal/store-sqlite';
import type { DeadLetterQueue } from './dead-letter-queue.js';
import type { AnyEventHandler, EventPreparation } from './event-handlers.js';
import type { Inbox } from './inbox-table.js';
import type { RuntimeCounters } from './subscription-status.js';

export interface InboxHandlerOptions {
  group: string;
  database: SqliteServiceDatabase;
  handlers: ReadonlyMap<string, AnyEventHandler>;
  inbox: Inbox;
  deadLetters: DeadLetterQueue;
  counters: RuntimeCounters;
  logger: ShoalLogger;
  now: () => number;
  prepare?: EventPreparation;
}

export class InboxHandler implements ConsumerLoopHandler {
  /** Per `topic/partition`, what was prepared for events whose run has not committed yet, by event id. */
  private readonly prepared = new Map<string, Map<string, unknown>>();

  constructor(private readonly options: InboxHandlerOptions) {}

  handles(type: string): boolean {
    return this.options.handlers.has(type);
  }

  /** Synchronous without `prepare`: nothing else in the process writes to the database between the run's statements. */
  apply(run: EventRun): void | Promise<void> {
    if (this.options.prepare === undefined) return this.commit(run, undefined);
    return this.prepareThenCommit(run, this.options.prepare);
  }

  private async prepareThenCommit(run: EventRun, prepare: EventPreparation): Promise<void> {
    const partition = `${run.topic}/${run.partition}`;
    let prepared = this.prepared.get(partition);
    if (prepared === undefined) this.prepared.set(partition, (prepared = new Map()));
    for (let i = 0; i < run.events.length; i++) {
      const { event, context } = run.events[i]!;
      if (prepared.has(event.id) || this.options.inbox.has(event.id)) continue;
      const started = performance.now();
      try {
        prepared.set(event.id, await prepare(event, context));
      } catch (error) {
        throw new RunFailure(i, error);
      } finally {
        this.options.counters.handlerCalled(performance.now() - started);
      }
    }
    try {
      this.commit(run, prepared);
    } catch (error) {
      if (error instanceof RunFailure) prepared.delete(run.events[error.index]!.event.id);
      throw error;
    }
    this.prepared.delete(partition);
  }

  private commit(run: EventRun, prepared: ReadonlyMap<string, unknown> | undefined): void {
    const { database, inbox, handlers, counters } = this.options;
    let handled = 0;
    let duplicates = 0;
    // The event being applied when the transaction threw; -1 when its BEGIN or COMMIT did.
    let failedAt = -1;
    try {
      database.transact((tx) => {
        for (let i = 0; i < run.events.length; i++) {
          failedAt = i;
          const { event, context } = run.events[i]!;
          if (!inbox.record({ eventId: event.id, type: event.type, topic: run.topic, partition: run.partition, offset: context.offset })) {
            duplicates += 1;
            continue;
          }
          this.call(handlers.get(event.type)!, event, tx, context, prepared?.get(event.id));
          handled += 1;
        }
        failedAt = -1;
      });
    } catch (error) {
      // Some failures (SQLITE_FULL, SQLITE_IOERR) make SQLite roll the transaction back itself; either way nothing of the run stays.
      if (failedAt >= 0) throw new RunFailure(failedAt, error);
      throw error;
    }
    counters.committed(handled, duplicates);
  }

  async giveUp(record: FailedRecord): Promise<GiveUp> {
    const { group, deadLetters, logger, counters, now } = this.options;
    const { topic, partition, message, attempts, kind } = record;
    const failure = asShoalError(record.error);
    await deadLetters.publish({ group, topic, partition, message, error: failure, attempts, time: now() });
    counters.deadLettered += 1;
    const reason = kind === 'poison' ? 'cannot be processed' : `failed ${attempts} times`;
    // A handler that returned a promise is a bug in the service that will dead-letter every event it gets.
    const level = failure.code === 'SHOAL_HANDLER_INVALID' ? 'error' : 'warn';
    logger[level](
      { group, topic, partition, offset: message.offset, code: failure.code, attempt: attempts, err: record.error },
      `consumer ${group} dead-lettered ${topic}/${partition}@${message.offset} to ${deadLetters.topic}: it ${reason}: ${failure.message}`,
    );
    return 'skip';
  }

  private call(handler: AnyEventHandler, event: CloudEvent<unknown>, tx: SqliteTransaction, context: MessageContext, prepared: unknown): void {
    const started = performance.now();
    let returned: unknown;
    try {
      returned = handler(event, tx, context, prepared);
    } finally {
      if (this.options.prepare === undefined) this.options.counters.handlerCalled(performance.now() - started);
    }
    if (typeof (returned as { then?: unknown } | null)?.then === 'function') {
      void Promise.resolve(returned).catch(() => undefined);
      throw new ShoalError(
        'SHOAL_HANDLER_INVALID',
        `The ${event.type} handler of consumer group ${this.options.group} returned a promise: handlers must be synchronous, since what they await would run after the transaction commits`,
        { details: { type: event.type } },
      );
    }
  }
}
