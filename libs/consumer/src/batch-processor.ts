/**
 * Processing one kafkajs batch (the fetched records of one partition), in offset order.
 *
 * Records are processed in runs: one transaction on the service database holds up to `recordsPerTransaction`
 * records, each with its inbox row, its handler's writes and the events it emits. One commit per run instead of
 * per record is what lets the inbox dedupe keep up with raw kafkajs (one WAL append per run, not fsynced with
 * synchronous=NORMAL). A run also ends where a record needs an await: a cold decode (the registry must be asked
 * for a writer schema) or a failure; nothing is ever awaited with a transaction open. Offsets are resolved only
 * after the run's transaction committed, and kafkajs (autoCommit on, the default) commits the resolved offsets
 * after every batch, whatever autoCommitInterval says: a crash between the two delivers committed records
 * again, and the inbox acknowledges them as duplicates.
 *
 * Runs are optimistic: there is no savepoint per record. A savepoint around each record would let a failing
 * handler roll back alone, but it costs two statements and a copy of every page the record touches, paid by
 * every record, to serve the rare one that fails. Instead, when a handler throws, the whole run is rolled back;
 * the records before the failing one are then applied again in a run of their own, which commits, and only
 * then is the failing record dealt with. Seen from outside (the database, the outbox, the offsets) a handler
 * that throws still rolls back alone and the records before it commit once: the first application of those
 * records never committed. Their handlers do run a second time, on the same database state.
 *
 * A failed record is dealt with in place, before anything behind it on the partition (so events of one key
 * keep their order): retried with backoff while the member keeps heartbeating, or dead-lettered and passed
 * (record-failure.ts says which). A retry is a run of that one record. stop() (the abort signal), a
 * rebalance or a seek interrupts a wait: the record is left unresolved for whoever consumes the partition
 * next.
 */
import type { Batch, EachBatchPayload, KafkaMessage } from 'kafkajs';
import { performance } from 'node:perf_hooks';
import { backoffDelay, ShoalError, sleep, type ShoalLogger } from '@shoal/core';
import { peekEventType, type CloudEvent, type EventCodec } from '@shoal/contract';
import { messageContext } from '@shoal/transport';
import type { SqliteServiceDatabase, SqliteTransaction } from '@shoal/store-sqlite';
import type { DeadLetterQueue } from './dead-letter-queue.js';
import type { AnyEventHandler, HandlerContext } from './event-handlers.js';
import type { Inbox } from './inbox-table.js';
import { asShoalError, failureKind } from './record-failure.js';
import { emptyTally, type RunTally, type SubscriptionMetrics } from './subscription-status.js';

export interface RetryOptions {
  /** Tries of a record that keeps failing with retriable errors before it is dead-lettered. */
  attempts: number;
  /** Upper bound of the first retry's delay, ms (full jitter: backoffDelay of @shoal/core). */
  initialMs: number;
  /** Cap of any delay, ms; also of the waits while the registry or the database is down. */
  maxMs: number;
  /** Random fraction of each delay: 1 (default) is full jitter, 0 exact delays. */
  jitter?: number;
}

export interface BatchProcessorOptions {
  group: string;
  database: SqliteServiceDatabase;
  codec: EventCodec;
  handlers: ReadonlyMap<string, AnyEventHandler>;
  inbox: Inbox;
  deadLetters: DeadLetterQueue;
  metrics: SubscriptionMetrics;
  retry: RetryOptions;
  recordsPerTransaction: number;
  logger: ShoalLogger;
  /** Aborted by stop(): waits end at once and the record in hand is left unresolved. */
  signal: AbortSignal;
  now: () => number;
}

/**
 * Why a run ended before the end of the batch or its limit. `cold` and `failed` are about the record right after
 * the ones the run committed; `rolled-back` means the run committed nothing: a handler threw after `applied`
 * records of the run had been applied, and those are to be applied again before the failure is dealt with.
 */
type RunStop =
  | { kind: 'cold'; decoding: Promise<CloudEvent<unknown>> }
  | { kind: 'failed'; error: unknown }
  | { kind: 'rolled-back'; applied: number; error: unknown };

interface RunResult {
  /** Records completed (handled, duplicate or skipped) and committed, from the run's first record on. */
  done: number;
  stoppedBy: RunStop | undefined;
}

/** A record being retried: how many tries failed in a way that counts, and how long the outage lasts. */
interface Tries {
  attempt: number;
  outages: number;
}

const FIRST_TRY: Tries = { attempt: 1, outages: 0 };

/** Waits are cut in slices so the member heartbeats while it waits (kafkajs only sends one per interval). */
const HEARTBEAT_SLICE_MS = 1000;

export class BatchProcessor {
  constructor(private readonly options: BatchProcessorOptions) {}

  async process(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat } = payload;
    const { messages } = batch;
    const { metrics, signal, recordsPerTransaction } = this.options;
    metrics.fetched(batch.topic, batch.partition, batch.highWatermark, messages[0]?.offset);
    const active = () => payload.isRunning() && !payload.isStale() && !signal.aborted;
    let index = 0;
    let tries = FIRST_TRY;
    let decoded: CloudEvent<unknown> | undefined;
    // After a rolled-back run: the records to apply again, and the failure of the record behind them.
    let replay: { records: number; error: unknown } | undefined;
    while (index < messages.length && active()) {
      const limit = replay?.records ?? (tries.attempt > 1 || tries.outages > 0 ? 1 : recordsPerTransaction);
      const run = this.run(batch, index, tries.attempt, decoded, limit);
      decoded = undefined;
      if (run.done > 0) {
        index += run.done;
        const last = messages[index - 1]!.offset;
        resolveOffset(last);
        metrics.advanced(batch.topic, batch.partition, last);
        tries = FIRST_TRY;
      }
      await heartbeat();
      let stop = run.stoppedBy;
      if (replay !== undefined) {
        // Once the records before it committed, the failure is the next record's. A replay that stopped short
        // (a handler failed this time) has a failure of its own first; the record behind runs again later.
        if (stop === undefined && run.done === replay.records) stop = { kind: 'failed', error: replay.error };
        replay = undefined;
      }
      if (stop === undefined) continue;
      if (stop.kind === 'rolled-back') {
        replay = { records: stop.applied, error: stop.error };
        continue;
      }
      let error: unknown;
      if (stop.kind === 'cold') {
        try {
          decoded = await stop.decoding;
          continue;
        } catch (decodeError) {
          error = decodeError;
        }
      } else {
        error = stop.error;
      }
      const message = messages[index]!;
      const next = await this.afterFailure(payload, message, error, tries);
      if (next === 'abandoned') return;
      if (next === 'dead-lettered') {
        index += 1;
        resolveOffset(message.offset);
        metrics.advanced(batch.topic, batch.partition, message.offset);
        tries = FIRST_TRY;
      } else {
        tries = next;
      }
    }
  }

  /**
   * One transaction over the records from `start`, at most `limit` of them (see the file comment). Synchronous:
   * nothing else in the process writes to the database between its statements.
   */
  private run(batch: Batch, start: number, attempt: number, decoded: CloudEvent<unknown> | undefined, limit: number): RunResult {
    const { database, codec, handlers, metrics } = this.options;
    const { messages } = batch;
    const end = Math.min(messages.length, start + limit);
    const tally = emptyTally();
    let done = 0;
    let stoppedBy: RunStop | undefined;
    let failure: { applied: number; error: unknown } | undefined;
    try {
      database.transact((tx) => {
        for (let i = start; i < end; i++) {
          const message = messages[i]!;
          let event: CloudEvent<unknown>;
          try {
            const peeked = peekEventType(message);
            if (peeked !== undefined && !handlers.has(peeked)) {
              skip(tally, peeked);
              done += 1;
              continue;
            }
            const result = i === start && decoded !== undefined ? decoded : codec.decode(message);
            if (result instanceof Promise) {
              // Awaited outside the transaction; a rejection is handled there.
              result.catch(() => undefined);
              stoppedBy = { kind: 'cold', decoding: result };
              return;
            }
            event = result;
          } catch (error) {
            // Nothing of this record was written yet: the records before it commit.
            stoppedBy = { kind: 'failed', error };
            return;
          }
          const handler = handlers.get(event.type);
          if (handler === undefined) {
            skip(tally, event.type);
            done += 1;
            continue;
          }
          try {
            if (this.apply(batch, message, event, handler, tx, i === start ? attempt : 1)) tally.handled += 1;
            else tally.duplicates += 1;
          } catch (error) {
            // Rethrown so that the whole run rolls back (some failures, SQLITE_FULL or SQLITE_IOERR, make
            // SQLite roll it back anyway).
            failure = { applied: i - start, error };
            throw error;
          }
          done += 1;
        }
      });
    } catch (error) {
      if (failure !== undefined && error === failure.error) {
        const stop: RunStop = failure.applied === 0 ? { kind: 'failed', error } : { kind: 'rolled-back', applied: failure.applied, error };
        return { done: 0, stoppedBy: stop };
      }
      // The transaction itself failed (BEGIN or COMMIT): nothing of the run is committed, and the failure is
      // its first record's, which is tried again alone.
      return { done: 0, stoppedBy: { kind: 'failed', error } };
    }
    metrics.committed(tally);
    return { done, stoppedBy };
  }

  /** The inbox row, then the handler unless the inbox already held the event (a duplicate: false). */
  private apply(batch: Batch, message: KafkaMessage, event: CloudEvent<unknown>, handler: AnyEventHandler, tx: SqliteTransaction, attempt: number): boolean {
    const { topic, partition } = batch;
    if (!this.options.inbox.record({ eventId: event.id, type: event.type, topic, partition, offset: message.offset })) return false;
    const context: HandlerContext = { ...messageContext(topic, partition, message), attempt };
    const started = performance.now();
    let returned: unknown;
    try {
      returned = handler(event, tx, context);
    } finally {
      this.options.metrics.handlerCalled(performance.now() - started);
    }
    if (isPromiseLike(returned)) {
      void Promise.resolve(returned).catch(() => undefined);
      throw new ShoalError(
        'SHOAL_HANDLER_INVALID',
        `The ${event.type} handler of consumer group ${this.options.group} returned a promise: handlers must be synchronous, since what they await would run after the transaction commits`,
        { details: { type: event.type } },
      );
    }
    return true;
  }

  /** A retry (with its tries), the record published to the DLQ, or abandoned because the member stops. */
  private async afterFailure(payload: EachBatchPayload, message: KafkaMessage, error: unknown, tries: Tries): Promise<Tries | 'dead-lettered' | 'abandoned'> {
    const { group, logger, metrics, retry, now } = this.options;
    const { topic, partition } = payload.batch;
    const failure = asShoalError(error);
    const kind = failureKind(error);
    const where = { group, topic, partition, offset: message.offset, code: failure.code, err: error };
    metrics.failed({ code: failure.code, message: failure.message, topic, partition, offset: message.offset, at: now() });
    if (kind === 'outage') {
      const outages = tries.outages + 1;
      // Loud on the first failure and then now and again, not on every try of a long outage.
      if (outages === 1 || outages % 20 === 0) logger.warn({ ...where, outages }, `consumer ${group} waits for the infrastructure: ${failure.message}`);
      metrics.retried(true);
      return (await this.wait(backoffDelay(outages, retry), payload)) ? { attempt: tries.attempt, outages } : 'abandoned';
    }
    if (kind === 'retriable' && tries.attempt < retry.attempts) {
      logger.warn({ ...where, attempt: tries.attempt }, `consumer ${group} retries ${topic}/${partition}@${message.offset} after attempt ${tries.attempt}: ${failure.message}`);
      metrics.retried(false);
      return (await this.wait(backoffDelay(tries.attempt, retry), payload)) ? { attempt: tries.attempt + 1, outages: 0 } : 'abandoned';
    }
    const reason = kind === 'poison' ? 'cannot be processed' : `failed ${tries.attempt} times`;
    // A handler that returned a promise is a bug in the service that will dead-letter every event it gets.
    const level = failure.code === 'SHOAL_HANDLER_INVALID' ? 'error' : 'warn';
    logger[level]({ ...where, attempt: tries.attempt }, `consumer ${group} dead-letters ${topic}/${partition}@${message.offset} to ${this.options.deadLetters.topic}: it ${reason}: ${failure.message}`);
    return (await this.deadLetter(payload, message, failure, tries.attempt)) ? 'dead-lettered' : 'abandoned';
  }

  /** Publishes the dead letter, retrying with backoff until it is acknowledged; false if the member stops first. */
  private async deadLetter(payload: EachBatchPayload, message: KafkaMessage, error: ShoalError, attempts: number): Promise<boolean> {
    const { group, deadLetters, logger, metrics, retry, now } = this.options;
    const { topic, partition } = payload.batch;
    for (let publishAttempt = 1; ; publishAttempt++) {
      try {
        await deadLetters.publish({ group, topic, partition, message, error, attempts, time: now() });
        metrics.deadLetterPublished();
        return true;
      } catch (publishError) {
        logger.error({ group, topic, partition, offset: message.offset, err: publishError }, `consumer ${group} cannot publish to ${deadLetters.topic}, the partition waits: ${(publishError as Error).message}`);
        if (!(await this.wait(backoffDelay(publishAttempt, retry), payload))) return false;
      }
    }
  }

  /** Waits `ms` while heartbeating; false when stop(), a rebalance or a seek cut it short. */
  private async wait(ms: number, payload: EachBatchPayload): Promise<boolean> {
    const { signal } = this.options;
    const until = Date.now() + ms;
    for (;;) {
      if (signal.aborted || !payload.isRunning() || payload.isStale()) return false;
      const left = until - Date.now();
      if (left <= 0) return true;
      await sleep(Math.min(left, HEARTBEAT_SLICE_MS), signal);
      if (!signal.aborted) await payload.heartbeat();
    }
  }
}

function skip(tally: RunTally, type: string): void {
  tally.skipped += 1;
  tally.skippedByType ??= new Map();
  tally.skippedByType.set(type, (tally.skippedByType.get(type) ?? 0) + 1);
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}
