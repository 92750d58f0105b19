/**
 * What a subscription does with the runs its consumer loop hands it (@shoal/transport's ConsumerLoop): each
 * run is ONE transaction on the service database holding, per event, its inbox row, its handler's writes and
 * the events it emits. One commit per run instead of per record is what lets the inbox dedupe keep up with
 * raw kafkajs (one WAL append per run, not fsynced with synchronous=NORMAL). A run whose handlers do not
 * return promises is applied in one synchronous stretch; a handler that returns one is awaited inside the
 * transaction, and the records after it are applied once it resolved, in order. The statements of the
 * inbox and the parked records answer at once on SQLite, so a run of synchronous handlers costs no promise
 * there; on PostgreSQL every statement is a promise (a round trip), and the run's inbox rows are recorded in
 * one statement at the start of its transaction when the group holds no key back.
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
 * micrologic), a run is applied in two steps: first each event the inbox does not hold yet (and whose key is
 * not held back) is prepared, outside any transaction; then a transaction hands each handler its event's
 * prepared value. A redelivered event is never prepared again. By default the events are prepared one after
 * the other in offset order and the run commits as one transaction. With `prepareConcurrency` above 1, the
 * run is cut into stretches in which no key comes twice: a stretch's events are prepared side by side (up to
 * that many at once) and committed together, then the next stretch; so a key's events are prepared one at a
 * time, each after the previous one committed, and keys go in parallel. A failure in a later stretch leaves
 * the earlier ones committed; the loop's application of the records before the failure again finds them in
 * the inbox. What was prepared for a run that failed further on is kept for the records before the failure;
 * a failure of the transaction at an event drops that event's prepared value (it may rest on state that
 * changed), so its retry prepares it afresh. A redrive of parked records calls the handlers without
 * preparing (handle()): a handler that needs its prepared value fails such a redrive, and the records stay
 * parked.
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
import { afterValue, type MaybePromise, type ServiceDatabase, type Transaction } from '@shoal/store';
import { isPromiseLike } from '@shoal/store-sqlite';
import type { Tracing } from '@shoal/telemetry';
import type { DeadLetterQueue } from './dead-letter-queue.js';
import type { AnyEventHandler, EventPreparation } from './event-handlers.js';
import type { Inbox, InboxEntry } from './inbox-table.js';
import type { ParkedReason, ParkedReasonKind, ParkedRecords } from './parked-records.js';
import type { RuntimeCounters } from './subscription-status.js';

export interface InboxHandlerOptions {
  group: string;
  database: ServiceDatabase;
  handlers: ReadonlyMap<string, AnyEventHandler>;
  inbox: Inbox;
  deadLetters: DeadLetterQueue;
  /** The group's parked records; undefined when the subscription does not park by key. */
  parking: ParkedRecords | undefined;
  counters: RuntimeCounters;
  logger: ShoalLogger;
  now: () => number;
  tracing: Tracing | undefined;
  prepare?: EventPreparation;
  /** Events of distinct keys prepared at the same time at most. Default 1: one after the other. */
  prepareConcurrency?: number;
}

export class InboxHandler implements ConsumerLoopHandler {
  /** Records whose dead letter was published while storing it in the database failed: not published again when giving up is tried again. */
  private readonly publishedLetters = new Set<string>();
  /** Per `topic/partition`, what was prepared for events whose run has not committed yet, by event id. */
  private readonly prepared = new Map<string, Map<string, unknown>>();

  constructor(private readonly options: InboxHandlerOptions) {}

  handles(type: string): boolean {
    return this.options.handlers.has(type);
  }

  /** One transaction for the run (stretches of it with `prepareConcurrency`); awaits only what a handler returned. */
  apply(run: EventRun): Promise<void> {
    if (this.options.prepare === undefined) return this.commit(run, undefined);
    return this.prepareThenCommit(run, this.options.prepare);
  }

  private async prepareThenCommit(run: EventRun, prepare: EventPreparation): Promise<void> {
    const partition = `${run.topic}/${run.partition}`;
    let prepared = this.prepared.get(partition);
    if (prepared === undefined) this.prepared.set(partition, (prepared = new Map()));
    const concurrency = this.options.prepareConcurrency ?? 1;
    for (let start = 0; start < run.events.length; ) {
      const end = concurrency === 1 ? run.events.length : distinctKeysEnd(run, start);
      await this.prepareStretch(run, start, end, prepare, prepared, concurrency);
      const stretch = start === 0 && end === run.events.length ? run : { ...run, events: run.events.slice(start, end) };
      try {
        await this.commit(stretch, prepared);
      } catch (error) {
        if (!(error instanceof RunFailure)) throw error;
        prepared.delete(stretch.events[error.index]!.event.id);
        throw new RunFailure(start + error.index, error.error);
      }
      start = end;
    }
    this.prepared.delete(partition);
  }

  /**
   * Prepares the events [start, end) not prepared yet, not in the inbox and not of a key held back, up to
   * `concurrency` at once; fails at the first that failed.
   */
  private async prepareStretch(run: EventRun, start: number, end: number, prepare: EventPreparation, prepared: Map<string, unknown>, concurrency: number): Promise<void> {
    const { inbox, parking, database } = this.options;
    const holding = parking !== undefined && (await parking.any(database.sql));
    const waiting: number[] = [];
    for (let i = start; i < end; i++) {
      const { event, context } = run.events[i]!;
      if (prepared.has(event.id) || (await inbox.has(database.sql, event.id))) continue;
      if (holding && context.key !== null && (await parking.blocked(database.sql, context.key))) continue;
      waiting.push(i);
    }
    let failed: { index: number; error: unknown } | undefined;
    let next = 0;
    const worker = async () => {
      while (next < waiting.length) {
        const i = waiting[next++]!;
        if (failed !== undefined && failed.index < i) return;
        const { event, context } = run.events[i]!;
        const started = performance.now();
        try {
          prepared.set(event.id, await prepare(event, context));
        } catch (error) {
          if (failed === undefined || i < failed.index) failed = { index: i, error };
        } finally {
          this.options.counters.handlerCalled(performance.now() - started);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, waiting.length) }, worker));
    if (failed !== undefined) throw new RunFailure(failed.index, failed.error);
  }

  private async commit(run: EventRun, prepared: ReadonlyMap<string, unknown> | undefined): Promise<void> {
    const { database, parking, counters } = this.options;
    const progress: RunProgress = { handled: 0, duplicates: 0, parked: 0, failedAt: -1, prepared };
    try {
      await database.transact((tx) => {
        const begin = (any: boolean): MaybePromise<void> => {
          progress.parking = any;
          // On PostgreSQL, where every statement is a round trip, the run's inbox rows go in as one statement
          // first when the group holds no key back (each event is then handled or a duplicate). The run is one
          // transaction either way: a handler that throws rolls the rows back with everything else.
          if (any || tx.sql.dialect !== 'postgres' || run.events.length < 2) return this.applyFrom(run, 0, tx, progress);
          return afterValue(this.options.inbox.recordAll(tx.sql, run.events.map(({ event, context }) => entryOf(event, context))), (recorded) => {
            progress.recorded = recorded;
            return this.applyFrom(run, 0, tx, progress);
          });
        };
        // Read inside the transaction: a redrive that unblocks a key commits before or after this run, never in between.
        return parking === undefined ? begin(false) : afterValue(parking.any(tx.sql), begin);
      });
    } catch (error) {
      // Some failures (SQLITE_FULL, SQLITE_IOERR) make SQLite roll the transaction back itself; either way nothing of the run stays.
      if (progress.failedAt >= 0) throw new RunFailure(progress.failedAt, error);
      throw error;
    }
    counters.committed(progress.handled, progress.duplicates);
    if (progress.parked > 0) {
      counters.parked += progress.parked;
      counters.parking = await parking!.counts(database.sql);
    }
  }

  /**
   * The run's events from `start` on, inside `tx`: synchronously while the statements answer at once
   * (SQLite) and the handlers return nothing, and on from the next event once a promise resolved. A record of
   * a key the group holds back is parked instead of handled.
   */
  private applyFrom(run: EventRun, start: number, tx: Transaction<unknown>, progress: RunProgress): MaybePromise<void> {
    for (let i = start; i < run.events.length; i++) {
      progress.failedAt = i;
      const applied = this.applyOne(run, i, tx, progress);
      if (applied instanceof Promise) return applied.then(() => this.applyFrom(run, i + 1, tx, progress));
    }
    progress.failedAt = -1;
  }

  private applyOne(run: EventRun, i: number, tx: Transaction<unknown>, progress: RunProgress): MaybePromise<void> {
    const { event, context } = run.events[i]!;
    const key = context.key;
    if (progress.parking !== true || key === null) return this.applyHandled(event, tx, context, progress);
    return afterValue(this.options.parking!.holdsBack(tx.sql, key), (held) => (held ? this.park(run, i, key, tx, progress) : this.applyHandled(event, tx, context, progress)));
  }

  private applyHandled(event: CloudEvent<unknown>, tx: Transaction<unknown>, context: RecordContext, progress: RunProgress): MaybePromise<void> {
    const { recorded } = progress;
    const prepared = progress.prepared?.get(event.id);
    // With the run's inbox rows recorded up front: the first of an event id's records handles it.
    const handling = recorded === undefined ? this.handle(event, tx, context, prepared) : recorded.delete(event.id) ? this.runHandler(event, tx, context, prepared) : false;
    return afterValue(handling, (handled) => {
      if (handled) progress.handled += 1;
      else progress.duplicates += 1;
    });
  }

  /** Parks the run's record `i` behind its key's dead letter; a duplicate when the inbox has its event or the table its offset. */
  private park(run: EventRun, i: number, key: string, tx: Transaction<unknown>, progress: RunProgress): MaybePromise<void> {
    const { event, context } = run.events[i]!;
    return afterValue(this.options.inbox.has(tx.sql, event.id), (had) => {
      if (had) {
        progress.duplicates += 1;
        return undefined;
      }
      const record = { key, topic: run.topic, partition: run.partition, message: context.message, eventId: event.id, type: event.type };
      return afterValue(this.options.parking!.add(tx.sql, record, this.options.now()), (added) => {
        if (added) progress.parked += 1;
        else progress.duplicates += 1;
      });
    });
  }

  /**
   * Records `event` in the inbox and runs its handler, inside the caller's transaction: false for a duplicate
   * (the inbox had its id: the handler does not run), true once the handler returned. At once when the inbox
   * answers at once and the handler returns no promise, else a promise (to await before the transaction goes
   * on). Throws what the handler threw.
   */
  handle(event: CloudEvent<unknown>, tx: Transaction<unknown>, context: RecordContext, prepared?: unknown): MaybePromise<boolean> {
    return afterValue(this.options.inbox.record(tx.sql, entryOf(event, context)), (recorded) => (recorded ? this.runHandler(event, tx, context, prepared) : false));
  }

  /** Runs the handler of an event the inbox has just recorded: true once it returned (at once, or the promise it returned). */
  private runHandler(event: CloudEvent<unknown>, tx: Transaction<unknown>, context: RecordContext, prepared: unknown): MaybePromise<boolean> {
    const returned = this.call(this.options.handlers.get(event.type)!, event, tx, context, prepared);
    return returned === undefined ? true : returned.then(handledOnce);
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
      await this.options.database.transact((tx) =>
        parking.add(
          tx.sql,
          { key, topic, partition, message, eventId: record.event?.id ?? headerText(message, 'ce_id'), type: record.event?.type ?? headerText(message, 'ce_type') },
          now(),
          { reason: reasonOf(failure, kind === 'poison' ? 'poison' : 'exhausted', attempts, now()), published: true },
        ),
      );
      this.publishedLetters.delete(where);
      counters.parking = await parking.counts(this.options.database.sql);
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
  private call(handler: AnyEventHandler, event: CloudEvent<unknown>, tx: Transaction<unknown>, context: MessageContext, prepared: unknown): Promise<unknown> | undefined {
    // With `prepare`, the handler's latency is the preparation's (timed there): the commit is the runtime's.
    const timed = this.options.prepare === undefined;
    const started = performance.now();
    const { tracing, group } = this.options;
    let returned: unknown;
    try {
      returned = tracing === undefined ? handler(event, tx, context, prepared) : tracing.handling(event, context, group, () => handler(event, tx, context, prepared));
    } catch (error) {
      if (timed) this.options.counters.handlerCalled(performance.now() - started);
      throw error;
    }
    if (!isPromiseLike(returned)) {
      if (timed) this.options.counters.handlerCalled(performance.now() - started);
      return undefined;
    }
    return Promise.resolve(returned).finally(() => {
      if (timed) this.options.counters.handlerCalled(performance.now() - started);
    });
  }
}

function handledOnce(): true {
  return true;
}

function entryOf(event: CloudEvent<unknown>, context: RecordContext): InboxEntry {
  return { eventId: event.id, type: event.type, topic: context.topic, partition: context.partition, offset: context.offset };
}

/** How far a run got: what the counters learn once it committed, and the event that was being applied. */
interface RunProgress {
  handled: number;
  duplicates: number;
  parked: number;
  /** Whether the group held any key back when the run's transaction began. */
  parking?: boolean;
  /** The event ids of the run the inbox recorded up front (PostgreSQL, nothing held back); undefined when each is recorded as it is applied. */
  recorded?: Set<string>;
  /** What `prepare` resolved to, by event id. */
  prepared?: ReadonlyMap<string, unknown> | undefined;
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

/**
 * The end of the stretch of `run` from `start` in which no Kafka key comes twice: the events of one key are
 * prepared one after the other, each once the one before it has committed, so what a preparation reads (a
 * micrologic's state) includes the effects of the key's previous event.
 */
function distinctKeysEnd(run: EventRun, start: number): number {
  const keys = new Set<string | null>();
  let end = start;
  while (end < run.events.length) {
    const key = run.events[end]!.context.key;
    if (keys.has(key)) break;
    keys.add(key);
    end++;
  }
  return end;
}
