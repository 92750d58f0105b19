/**
 * The one consumer loop of the platform: a kafkajs consumer group member that decodes the CloudEvents of its
 * topics and hands them to a handler in runs, with everything a consumer needs around that. The consumer
 * runtime's subscriptions (@shoal/consumer), the projectors (@shoal/projections) and `shoal subscribe` are
 * handlers of it; none of them touches kafkajs's consumer itself.
 *
 *   group join     start() connects, subscribes and resolves once the member joined (waitForGroupJoin)
 *   in flight      up to `partitionsInFlight` partitions are processed at once; a partition's records one
 *                  after the other, so the events of a key (one partition) keep their order, retries included
 *   runs           records of a batch go to the handler in runs of up to `recordsPerTransaction` (one
 *                  database transaction each); a run ends early at a record whose decoding must ask the
 *                  registry (awaited between runs, never inside one) or that fails. Types the handler does
 *                  not take are skipped before decoding (their ce_type header is read) and counted
 *   failures       classified once (record-failure.ts): an outage is waited out without counting, a retriable
 *                  failure is tried again up to `retry.attempts` times, then (or at once for poison) the
 *                  handler decides what giving up means: skip the record (dead-lettered, reported) or stop
 *   pause/resume   a wait shorter than the fetch wait is slept in place, heartbeating; a longer one pauses the
 *                  partition and resumes it when due, so the partitions around it go on meanwhile (kafkajs
 *                  fetches again only once every batch of a fetch is done)
 *   offsets        resolved as runs commit. Either committed to the group per interval (offset-commits.ts),
 *                  or, with `positions`, kept by the handler (a read model stores them in its own
 *                  transactions): then nothing is committed, each assigned partition is seeked to its stored
 *                  position on every join, and records below it (fetched before the seek) are dropped
 *   status         connected, joined, per partition the next offset, the high watermark and the lag, skip
 *                  and retry counts, the last failure (consumer-status.ts)
 *
 * Optimistic runs: a handler that applies a run in one transaction rolls it all back when one record fails
 * and says which (RunFailure). The records before it are then applied again in a run of their own, which
 * commits, and only then is the failing record dealt with: seen from outside, the failing record rolls back
 * alone and the ones before it commit once, at the cost of a second application paid only on failure.
 *
 * stop() is graceful and idempotent: no further run starts, waits end (a record waiting for a retry stays
 * unresolved, so the group's next member gets it), the runs in hand finish, the offsets are committed, the
 * member leaves the group. whenStopped() rejects with the error that stopped the loop, if one did (a
 * handler's `stop`, a consumer crash kafkajs does not restart from, a failure to start).
 */
import type { Batch, Consumer, ConsumerConfig, EachBatchPayload, IMemberAssignment, Kafka } from 'kafkajs';
import { backoffDelay, ShoalError, silentLogger, sleep, type ShoalLogger } from '@shoal/core';
import { peekEventType, type CloudEvent, type EventCodec } from '@shoal/contract';
import { FIRST_TRY, PartitionStates, type ConsumerState, type ConsumerStatus, type PartitionState, type PendingGiveUp, type Tries } from './consumer-status.js';
import { waitForGroupJoin } from './group-join.js';
import { OffsetCommitter } from './offset-commits.js';
import { RecordContext } from './record-context.js';
import { asShoalError, failureKind, type FailedRecord, type FailureStage } from './record-failure.js';

export interface RetryOptions {
  /** Tries of a record that keeps failing with retriable errors before it is given up on. */
  attempts: number;
  /** Upper bound of the first retry's delay, ms (full jitter: backoffDelay of @shoal/core). */
  initialMs: number;
  /** Cap of any delay, ms; also of the waits while the registry or the database is down. */
  maxMs: number;
  /** Random fraction of each delay: 1 (default) is full jitter, 0 exact delays. */
  jitter?: number;
}

/** kafkajs consumer settings passed through (fetch sizes, waits, session timeout); the group, offsets and topic creation are the loop's. */
export type ConsumerTuning = Omit<ConsumerConfig, 'groupId' | 'allowAutoTopicCreation'>;

/** How a consumer consumes: the options a subscription and a projector pass on to their loop. */
export interface ConsumeOptions {
  /** Records applied together (one database transaction) at most. Default 200. */
  recordsPerTransaction?: number;
  /** Partitions processed at the same time. Default 1. Order within a partition holds either way. */
  partitionsInFlight?: number;
  retry?: Partial<RetryOptions>;
  /** How long offsets that moved wait to be committed to the group, ms. Default 1000. Not used with stored positions. */
  commitIntervalMs?: number;
  consumer?: ConsumerTuning;
}

export const consumeDefaults = {
  recordsPerTransaction: 200,
  partitionsInFlight: 1,
  retry: { attempts: 5, initialMs: 200, maxMs: 30_000 },
  commitIntervalMs: 1000,
} satisfies ConsumeOptions;

/** One decoded record of a run. */
export interface DeliveredEvent {
  event: CloudEvent<unknown>;
  context: RecordContext;
}

/** Consecutive records of one partition, handed to the handler at once. */
export interface EventRun {
  topic: string;
  partition: number;
  /** The decoded events, in offset order (records of types the handler does not take are left out). */
  events: readonly DeliveredEvent[];
  /** The offset after the run's last record, skipped records and transaction markers included: where the partition resumes. */
  nextOffset: number;
}

/** What giving up on a record came to: dealt with, the partition moves past it; or the loop stops with `stop`. */
export type GiveUp = 'skip' | { stop: unknown };

export interface ConsumerLoopHandler {
  /** Whether records of this CloudEvent type are the handler's; the others are skipped, unread. */
  handles(type: string): boolean;
  /**
   * Applies a run: all of it or nothing (throw RunFailure to say which event failed; any other throw fails
   * the run as a whole, as its first record's failure). Called for runs without events only when the
   * positions are the handler's (it stores `nextOffset`). A handler that applies synchronously returns
   * nothing, so a run costs no promise.
   */
  apply(run: EventRun): void | Promise<void>;
  /**
   * Deals with a record given up on. Throwing means it could not (a dead letter not acknowledged): the
   * partition waits and giving up is tried again, with backoff.
   */
  giveUp(record: FailedRecord): GiveUp | Promise<GiveUp>;
}

/** Thrown by ConsumerLoopHandler.apply: the run was rolled back at event `index`, which failed with `error`. */
export class RunFailure extends Error {
  constructor(
    readonly index: number,
    readonly error: unknown,
  ) {
    super(`run failed at event ${index}: ${(error as Error | null)?.message ?? String(error)}`);
    this.name = 'RunFailure';
  }
}

export interface ConsumerLoopOptions extends ConsumeOptions {
  kafka: Kafka;
  groupId: string;
  topics: readonly string[];
  /** Decodes records; its catalog must know every type the handler takes. */
  codec: EventCodec;
  handler: ConsumerLoopHandler;
  /** Where a group without committed offsets starts. Default false: only records produced after it joined. */
  fromBeginning?: boolean;
  /**
   * The next offset of a partition as the handler stores it, undefined for none. With it the group commits
   * nothing: the loop seeks every assigned partition there and drops records below it.
   */
  positions?: (topic: string, partition: number) => number | undefined;
  /** Default true (kafkajs's): a topic subscribed to that does not exist is created by the broker. */
  allowAutoTopicCreation?: boolean;
  logger?: ShoalLogger;
  /** Clock of `lastFailure.at`. Default Date.now. */
  now?: () => number;
}

/** Why a run ended before its limit. `rolled-back`: it committed nothing, `applied` records are to be applied again first. */
type RunStop =
  | { kind: 'cold'; decoding: Promise<CloudEvent<unknown>> }
  | { kind: 'failed'; error: unknown; event: CloudEvent<unknown> | undefined; stage: FailureStage }
  | { kind: 'rolled-back'; applied: number; error: unknown; event: CloudEvent<unknown> | undefined };

interface RunResult {
  /** Records done (applied or skipped) and committed, from the run's first record on. */
  done: number;
  stoppedBy: RunStop | undefined;
}

/** How the batch goes on after a failure: try again now (a wait in place ended), or leave it (paused, stopping). */
type AfterWait = 'again' | 'left';

/** Waits are cut in slices so the member heartbeats while it waits (kafkajs sends one per interval at most). */
const HEARTBEAT_SLICE_MS = 1000;
/** kafkajs's default maxWaitTimeInMs. */
const KAFKAJS_MAX_WAIT_MS = 5000;

export class ConsumerLoop {
  readonly groupId: string;
  private readonly options: ConsumerLoopOptions;
  private readonly handler: ConsumerLoopHandler;
  private readonly codec: EventCodec;
  private readonly logger: ShoalLogger;
  private readonly now: () => number;
  private readonly retry: RetryOptions;
  private readonly recordsPerRun: number;
  private readonly positions: ((topic: string, partition: number) => number | undefined) | undefined;
  /** Waits up to this long are slept in place; longer ones pause the partition. */
  private readonly inPlaceWaitMs: number;
  private readonly consumer: Consumer;
  private readonly partitions = new PartitionStates();
  private readonly committer: OffsetCommitter | undefined;
  private readonly abort = new AbortController();
  private state: ConsumerState = 'new';
  private connected = false;
  private joined = false;
  private failure: unknown;
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private readonly stopped: Promise<void>;
  private settleStopped!: (failure: unknown) => void;
  private settleJoin: () => void = () => undefined;
  private batchesInFlight = 0;
  private batchesEnded: (() => void) | undefined;

  constructor(options: ConsumerLoopOptions) {
    this.options = options;
    this.groupId = options.groupId;
    this.handler = options.handler;
    this.codec = options.codec;
    this.logger = options.logger ?? silentLogger;
    this.now = options.now ?? Date.now;
    const retry = options.retry ?? {};
    this.retry = {
      attempts: retry.attempts ?? consumeDefaults.retry.attempts,
      initialMs: retry.initialMs ?? consumeDefaults.retry.initialMs,
      maxMs: retry.maxMs ?? consumeDefaults.retry.maxMs,
      ...(retry.jitter === undefined ? {} : { jitter: retry.jitter }),
    };
    this.recordsPerRun = options.recordsPerTransaction ?? consumeDefaults.recordsPerTransaction;
    this.positions = options.positions;
    validate(options, this.retry, this.recordsPerRun);
    this.inPlaceWaitMs = options.consumer?.maxWaitTimeInMs ?? KAFKAJS_MAX_WAIT_MS;
    this.consumer = options.kafka.consumer({
      ...options.consumer,
      groupId: options.groupId,
      ...(options.allowAutoTopicCreation === undefined ? {} : { allowAutoTopicCreation: options.allowAutoTopicCreation }),
    });
    if (this.positions === undefined) {
      this.committer = new OffsetCommitter(this.consumer, this.partitions, options.commitIntervalMs ?? consumeDefaults.commitIntervalMs, this.logger, () => this.joined);
    }
    this.stopped = new Promise<void>((resolve, reject) => {
      this.settleStopped = (failure) => (failure === undefined ? resolve() : reject(failure));
    });
    // The failure is for whoever calls whenStopped(); without such a caller it must not be an unhandled rejection.
    this.stopped.catch(() => undefined);
    this.observeConsumer();
  }

  /** Joins the group and starts consuming; resolves once the member has joined (or stop() was called first). */
  start(): Promise<void> {
    if (this.state !== 'new') return Promise.reject(new ShoalError('SHOAL_CONFIG_INVALID', `The consumer of group ${this.groupId} was already started`));
    this.state = 'starting';
    this.starting = this.join();
    return this.starting;
  }

  /** Stops gracefully (see the file comment). Idempotent; rejects if leaving the group failed. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const wasStarted = this.state !== 'new';
      this.state = 'stopping';
      this.abort.abort();
      this.settleJoin();
      this.partitions.endWaits();
      await this.starting?.catch(() => undefined);
      try {
        if (wasStarted) {
          await this.batchesDone();
          await this.committer?.close();
        }
        await this.consumer.disconnect();
      } finally {
        this.state = 'stopped';
        this.settleStopped(this.failure);
      }
    })();
    return this.stopping;
  }

  /** Resolves when the loop has stopped; rejects with the error that stopped it, if one did. */
  whenStopped(): Promise<void> {
    return this.stopped;
  }

  status(): ConsumerStatus {
    const positions = this.positions;
    return this.partitions.status(
      { groupId: this.groupId, state: this.state, connected: this.connected, joined: this.joined },
      positions === undefined ? undefined : (state) => positions(state.topic, state.partition),
    );
  }

  private async join(): Promise<void> {
    const { joined, release } = waitForGroupJoin(this.consumer);
    this.settleJoin = release;
    const stopped = () => this.abort.signal.aborted;
    try {
      await this.consumer.connect();
      if (stopped()) return;
      await this.consumer.subscribe({ topics: [...this.options.topics], fromBeginning: this.positions !== undefined || (this.options.fromBeginning ?? false) });
      if (stopped()) return;
      await this.consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: this.options.partitionsInFlight ?? consumeDefaults.partitionsInFlight,
        eachBatch: (payload) => this.consume(payload),
      });
      await joined;
    } catch (error) {
      this.fail(error);
      throw error;
    }
    if (!stopped()) this.state = 'running';
  }

  private observeConsumer(): void {
    const { CONNECT, DISCONNECT, GROUP_JOIN, REBALANCING, STOP, CRASH, END_BATCH_PROCESS } = this.consumer.events;
    this.consumer.on(CONNECT, () => {
      this.connected = true;
    });
    this.consumer.on(DISCONNECT, () => {
      this.connected = false;
      this.joined = false;
    });
    // Registered before start()'s join wait, so the first join has seeked before start() resolves.
    this.consumer.on(GROUP_JOIN, ({ payload }) => this.assigned(payload.memberAssignment));
    this.consumer.on(REBALANCING, () => {
      // The group accepts commits until it completes the rebalance: whoever gets the partitions starts there.
      void this.committer?.commit();
      this.joined = false;
    });
    this.consumer.on(STOP, () => {
      this.joined = false;
    });
    this.consumer.on(CRASH, ({ payload }) => {
      this.joined = false;
      this.logger.error({ err: payload.error, restart: payload.restart }, `consumer ${this.groupId} crashed${payload.restart ? ', kafkajs restarts it' : ''}: ${payload.error.message}`);
      if (!payload.restart) this.fail(payload.error);
    });
    this.consumer.on(END_BATCH_PROCESS, ({ payload }) => {
      // A batch of transaction markers only (firstOffset is null when nothing in it was at or past the fetch
      // offset): kafkajs resolved it without an eachBatch, and the loop's position moves past it too.
      if (payload.batchSize === 0 && payload.firstOffset != null) this.markersPassed(payload.topic, payload.partition, Number(payload.lastOffset) + 1);
    });
  }

  private assigned(assignment: IMemberAssignment): void {
    this.joined = true;
    for (const state of this.partitions.assigned(assignment)) {
      if (this.positions === undefined) continue;
      const position = this.positions(state.topic, state.partition);
      state.next = position;
      if (position !== undefined) this.consumer.seek({ topic: state.topic, partition: state.partition, offset: String(position) });
    }
  }

  private async consume(payload: EachBatchPayload): Promise<void> {
    this.batchesInFlight += 1;
    try {
      await this.consumeBatch(payload);
    } finally {
      this.batchesInFlight -= 1;
      if (this.batchesInFlight === 0) this.batchesEnded?.();
    }
  }

  private batchesDone(): Promise<void> {
    if (this.batchesInFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.batchesEnded = () => {
        this.batchesEnded = undefined;
        resolve();
      };
    });
  }

  private async consumeBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const { messages } = batch;
    const state = this.partitions.get(batch.topic, batch.partition);
    state.highWatermark = Number(batch.highWatermark);
    const active = () => !this.abort.signal.aborted && payload.isRunning() && !payload.isStale();
    // A batch handed over while the loop stops is left for the group's next member.
    if (!active()) return;
    let index = 0;
    if (this.positions !== undefined) {
      const position = this.positions(batch.topic, batch.partition);
      if (position !== undefined) {
        // Fetched before the seek to the stored position took effect: applied already.
        while (index < messages.length && Number(messages[index]!.offset) < position) index += 1;
        if (index === messages.length) return this.passAppliedBatch(payload, state, position);
      }
    }
    const firstOffset = Number(messages[index]!.offset);
    // A batch that starts further on (after a seek, or records compacted away) moves the position with it.
    if (state.next === undefined || firstOffset > state.next) state.next = firstOffset;
    let tries = FIRST_TRY;
    const waited = state.waiting;
    state.waiting = undefined;
    if (waited !== undefined && waited.offset === firstOffset) {
      tries = waited.tries;
      if (waited.giveUp !== undefined) {
        const { record, attempt } = waited.giveUp;
        const outcome = await this.giveUp(payload, state, index, { ...record, message: messages[index]! }, tries, attempt);
        if (outcome === 'left') return;
        index += 1;
        tries = FIRST_TRY;
      }
    }
    let decoded: CloudEvent<unknown> | undefined;
    // After a rolled-back run: the records to apply again, and the failure of the record behind them.
    let replay: { records: number; error: unknown; event: CloudEvent<unknown> | undefined } | undefined;
    while (index < messages.length && active()) {
      const limit = replay?.records ?? (tries.attempt > 1 || tries.outages > 0 ? 1 : this.recordsPerRun);
      const run = await this.run(batch, index, limit, tries.attempt, decoded);
      decoded = undefined;
      if (run.done > 0) {
        index += run.done;
        this.resolve(payload, state, index - 1);
        tries = FIRST_TRY;
      }
      await payload.heartbeat();
      let stop = run.stoppedBy;
      if (replay !== undefined) {
        // Once the records before it committed, the failure is the next record's. A replay that stopped short
        // (a handler failed this time) has a failure of its own first; the record behind runs again later.
        if (stop === undefined && run.done === replay.records) stop = { kind: 'failed', error: replay.error, event: replay.event, stage: 'handler' };
        replay = undefined;
      }
      if (stop === undefined) continue;
      if (stop.kind === 'rolled-back') {
        replay = { records: stop.applied, error: stop.error, event: stop.event };
        continue;
      }
      let failed: { error: unknown; event: CloudEvent<unknown> | undefined; stage: FailureStage };
      if (stop.kind === 'cold') {
        try {
          decoded = await stop.decoding;
          continue;
        } catch (error) {
          failed = { error, event: undefined, stage: 'decode' };
        }
      } else {
        failed = stop;
      }
      const next = await this.afterFailure(payload, state, index, failed, tries);
      if (next === 'left') return;
      if (next === 'skipped') {
        index += 1;
        tries = FIRST_TRY;
      } else {
        tries = next;
      }
    }
  }

  /**
   * One run over the records from `start`, at most `limit` of them: decoded first (synchronously unless the
   * codec must ask the registry), then applied by the handler at once.
   */
  private async run(batch: Batch, start: number, limit: number, attempt: number, decoded: CloudEvent<unknown> | undefined): Promise<RunResult> {
    const { topic, partition, messages } = batch;
    const end = Math.min(messages.length, start + limit);
    const events: DeliveredEvent[] = [];
    /** The message index of each event. */
    const at: number[] = [];
    let skipped: Map<string, number> | undefined;
    let stoppedBy: RunStop | undefined;
    let i = start;
    for (; i < end; i++) {
      const message = messages[i]!;
      let event: CloudEvent<unknown>;
      try {
        const peeked = peekEventType(message);
        if (peeked !== undefined && !this.handler.handles(peeked)) {
          (skipped ??= new Map()).set(peeked, (skipped.get(peeked) ?? 0) + 1);
          continue;
        }
        const result = i === start && decoded !== undefined ? decoded : this.codec.decode(message);
        if (result instanceof Promise) {
          // Awaited between runs; a rejection is dealt with there.
          result.catch(() => undefined);
          stoppedBy = { kind: 'cold', decoding: result };
          break;
        }
        event = result;
      } catch (error) {
        // Nothing of this record was applied: the records before it make up the run.
        stoppedBy = { kind: 'failed', error, event: undefined, stage: 'decode' };
        break;
      }
      if (!this.handler.handles(event.type)) {
        (skipped ??= new Map()).set(event.type, (skipped.get(event.type) ?? 0) + 1);
        continue;
      }
      events.push({ event, context: new RecordContext(topic, partition, message, i === start ? attempt : 1) });
      at.push(i);
    }
    const done = i - start;
    if (done === 0) return { done, stoppedBy };
    if (events.length > 0 || this.positions !== undefined) {
      try {
        const applying = this.handler.apply({ topic, partition, events, nextOffset: nextOffsetAfter(batch, i - 1) });
        if (applying !== undefined) await applying;
      } catch (error) {
        if (error instanceof RunFailure) {
          const failedAt = at[error.index] ?? start;
          const event = events[error.index]?.event;
          const applied = failedAt - start;
          return { done: 0, stoppedBy: applied === 0 ? { kind: 'failed', error: error.error, event, stage: 'handler' } : { kind: 'rolled-back', applied, error: error.error, event } };
        }
        // The run failed as a whole (its transaction could not begin or commit): nothing of it is applied, and
        // the failure is its first record's, which is tried again alone.
        return { done: 0, stoppedBy: { kind: 'failed', error, event: at[0] === start ? events[0]?.event : undefined, stage: 'run' } };
      }
    }
    if (skipped !== undefined) this.partitions.skip(skipped);
    return { done, stoppedBy };
  }

  /** The records up to `last` (a message index) are done: kafkajs fetches on after it, and the offset moves. */
  private resolve(payload: EachBatchPayload, state: PartitionState, last: number): void {
    const { batch } = payload;
    // kafkajs resolves the batch's last offset (past trailing transaction markers) when its last message is.
    payload.resolveOffset(batch.messages[last]!.offset);
    state.next = nextOffsetAfter(batch, last);
    this.committer?.moved();
  }

  /**
   * With positions kept by the handler, a record given up on and skipped moves the stored position past it
   * (an empty run), so that a partition ending with such records can be caught up. Should storing fail, the
   * next run stores it.
   */
  private async storePosition(batch: Batch, state: PartitionState): Promise<void> {
    if (this.positions === undefined || state.next === undefined) return;
    try {
      const applying = this.handler.apply({ topic: batch.topic, partition: batch.partition, events: [], nextOffset: state.next });
      if (applying !== undefined) await applying;
    } catch (error) {
      this.logger.warn({ err: error, topic: batch.topic, partition: batch.partition }, `consumer ${this.groupId} cannot store its position past a skipped record yet: ${(error as Error).message}`);
    }
  }

  /** Every record of the batch was applied before the stored position: fetch on from there, and past trailing markers. */
  private async passAppliedBatch(payload: EachBatchPayload, state: PartitionState, position: number): Promise<void> {
    const { batch } = payload;
    state.next = position;
    const end = Number(batch.lastOffset()) + 1;
    if (end > position) {
      try {
        const applying = this.handler.apply({ topic: batch.topic, partition: batch.partition, events: [], nextOffset: end });
        if (applying !== undefined) await applying;
        state.next = end;
      } catch (error) {
        this.logger.warn({ err: error, topic: batch.topic, partition: batch.partition }, `consumer ${this.groupId} cannot store its position past transaction markers: ${(error as Error).message}`);
      }
    }
    payload.resolveOffset(String((state.next ?? position) - 1));
  }

  /** A batch of transaction markers only, which kafkajs resolved itself. */
  private markersPassed(topic: string, partition: number, next: number): void {
    const state = this.partitions.get(topic, partition);
    if (state.next !== undefined && next <= state.next) return;
    if (this.positions === undefined) {
      state.next = next;
      this.committer?.moved();
      return;
    }
    if (this.abort.signal.aborted) return;
    Promise.resolve()
      .then(() => this.handler.apply({ topic, partition, events: [], nextOffset: next }))
      .then(
        () => {
          state.next = next;
        },
        (error: unknown) => this.logger.warn({ err: error, topic, partition }, `consumer ${this.groupId} cannot store its position past transaction markers: ${(error as Error).message}`),
      );
  }

  /**
   * A failed record (at `index` of the batch): tried again after a wait with its new tries, given up on and
   * 'skipped', or 'left' (the partition was paused to wait, or the loop stops).
   */
  private async afterFailure(
    payload: EachBatchPayload,
    state: PartitionState,
    index: number,
    { error, event, stage }: { error: unknown; event: CloudEvent<unknown> | undefined; stage: FailureStage },
    tries: Tries,
  ): Promise<Tries | 'skipped' | 'left'> {
    const { topic, partition } = payload.batch;
    const message = payload.batch.messages[index]!;
    const failure = asShoalError(error);
    const kind = failureKind(error);
    const where = { group: this.groupId, topic, partition, offset: message.offset, code: failure.code, err: error };
    this.partitions.lastFailure = { code: failure.code, message: failure.message, topic, partition, offset: message.offset, at: this.now() };
    if (kind === 'outage') {
      const outages = tries.outages + 1;
      // Loud on the first failure and then now and again, not on every try of a long outage.
      if (outages === 1 || outages % 20 === 0) this.logger.warn({ ...where, outages }, `consumer ${this.groupId} waits for the infrastructure: ${failure.message}`);
      this.partitions.outageRetries += 1;
      const next = { attempt: tries.attempt, outages };
      return (await this.wait(payload, state, index, next, backoffDelay(outages, this.retry))) === 'again' ? next : 'left';
    }
    if (kind === 'retriable' && tries.attempt < this.retry.attempts) {
      this.logger.warn({ ...where, attempt: tries.attempt }, `consumer ${this.groupId} retries ${topic}/${partition}@${message.offset} after attempt ${tries.attempt}: ${failure.message}`);
      this.partitions.retries += 1;
      const next = { attempt: tries.attempt + 1, outages: 0 };
      return (await this.wait(payload, state, index, next, backoffDelay(tries.attempt, this.retry))) === 'again' ? next : 'left';
    }
    const record: FailedRecord = { topic, partition, message, context: new RecordContext(topic, partition, message, tries.attempt), event, stage, error, kind, attempts: tries.attempt };
    return this.giveUp(payload, state, index, record, tries, 1);
  }

  /** Gives up on the record, trying again with backoff while the handler cannot (its dead letter is not acknowledged). */
  private async giveUp(payload: EachBatchPayload, state: PartitionState, index: number, record: FailedRecord, tries: Tries, firstAttempt: number): Promise<'skipped' | 'left'> {
    for (let attempt = firstAttempt; ; attempt++) {
      let outcome: GiveUp;
      try {
        outcome = await this.handler.giveUp(record);
      } catch (error) {
        this.logger.error(
          { group: this.groupId, topic: record.topic, partition: record.partition, offset: record.message.offset, err: error },
          `consumer ${this.groupId} cannot give up on ${record.topic}/${record.partition}@${record.message.offset} yet, the partition waits: ${(error as Error).message}`,
        );
        if ((await this.wait(payload, state, index, tries, backoffDelay(attempt, this.retry), { record, attempt: attempt + 1 })) === 'left') return 'left';
        continue;
      }
      if (outcome === 'skip') {
        this.resolve(payload, state, index);
        await this.storePosition(payload.batch, state);
        return 'skipped';
      }
      this.fail(outcome.stop);
      return 'left';
    }
  }

  /**
   * Waits `ms` before the record at `index` is tried again: in place, heartbeating, when the wait is short
   * ('again' once it passed), else by pausing the partition until it is due ('left': the batch ends, the
   * record is fetched again on resume). 'left' too when the loop stops or the batch goes stale meanwhile.
   */
  private async wait(payload: EachBatchPayload, state: PartitionState, index: number, tries: Tries, ms: number, giveUp?: PendingGiveUp): Promise<AfterWait> {
    if (ms > this.inPlaceWaitMs) {
      const resume = payload.pause();
      const offset = Number(payload.batch.messages[index]!.offset);
      const timer = setTimeout(() => {
        if (state.waiting?.timer === timer) resume();
      }, ms);
      timer.unref();
      state.waiting = { offset, tries, giveUp, timer, resume };
      return 'left';
    }
    const signal = this.abort.signal;
    const until = Date.now() + ms;
    for (;;) {
      if (signal.aborted || !payload.isRunning() || payload.isStale()) return 'left';
      const left = until - Date.now();
      if (left <= 0) return 'again';
      await sleep(Math.min(left, HEARTBEAT_SLICE_MS), signal);
      if (!signal.aborted) await payload.heartbeat();
    }
  }

  /** Stops with `error`; the stop is not awaited (from inside a batch it would wait for itself). */
  private fail(error: unknown): void {
    this.failure ??= error;
    void this.stop().catch(() => undefined);
  }
}

/** The offset after message `index` of the batch; after its last message, past trailing transaction markers. */
function nextOffsetAfter(batch: Batch, index: number): number {
  if (index === batch.messages.length - 1) return Number(batch.lastOffset()) + 1;
  return Number(batch.messages[index]!.offset) + 1;
}

function validate(options: ConsumerLoopOptions, retry: RetryOptions, recordsPerRun: number): void {
  const problem = (text: string) => new ShoalError('SHOAL_CONFIG_INVALID', `Consumer of group "${options.groupId}": ${text}`, { details: { group: options.groupId } });
  if (options.groupId === '') throw problem('the group id is empty');
  if (options.topics.length === 0) throw problem('it has no topics');
  if (!Number.isInteger(retry.attempts) || retry.attempts < 1) throw problem(`retry.attempts must be a whole number >= 1, got ${retry.attempts}`);
  if (!(retry.initialMs >= 0) || !(retry.maxMs >= 0)) throw problem(`retry delays must be >= 0 ms, got ${retry.initialMs} and ${retry.maxMs}`);
  if (!Number.isInteger(recordsPerRun) || recordsPerRun < 1) throw problem(`recordsPerTransaction must be a whole number >= 1, got ${recordsPerRun}`);
  const inFlight = options.partitionsInFlight ?? consumeDefaults.partitionsInFlight;
  if (!Number.isInteger(inFlight) || inFlight < 1) throw problem(`partitionsInFlight must be a whole number >= 1, got ${inFlight}`);
  const interval = options.commitIntervalMs ?? consumeDefaults.commitIntervalMs;
  if (!(interval > 0) || !Number.isFinite(interval)) throw problem(`commitIntervalMs must be a positive number of ms, got ${interval}`);
}
