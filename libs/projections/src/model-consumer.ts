/**
 * Feeds one read-model file from Kafka: the live model, or a shadow being rebuilt. Positions come from the
 * file (read-model.ts), never from consumer-group offsets.
 *
 * kafkajs has no manual partition assignment, so each copy consumes as the only member of a group of its
 * own, named `<prefix>.<projection>.v<version>.g<generation>.<run id>`. The run id is new at every start:
 * the group never holds committed offsets (nothing is ever committed), so nothing is lost by a new name,
 * and a restart after a crash does not wait for the session of its dead predecessor to expire before it
 * can join. On every assignment (GROUP_JOIN, also after a rebalance or a restarted consumer) each partition
 * is seeked to the stored position; a record below it (fetched before the seek took effect) is dropped, so
 * nothing is ever applied twice.
 *
 * A batch is applied in runs of up to `maxRecordsPerTransaction` records; each run is ONE transaction with
 * the partition's new position (ReadModel.commit), so a crash re-applies nothing partially. Decoding
 * happens before the transaction (it awaits the registry when the codec is cold); the handlers run inside.
 *
 *   type without a handler        skipped (only its ce_type header is read), counted, position moves on
 *   record that cannot be decoded skipped, counted as poison, logged with its position: a read model must be
 *                                 the same whether built live or by a rebuild, and both skip the same records
 *   registry unreachable          retried with backoff until it answers or the consumer stops: an outage
 *                                 must neither skip events nor stop the projection
 *   handler throws                the run is rolled back; a retriable error (a retriable ShoalError,
 *                                 SQLITE_BUSY) is retried with backoff, up to `retry.attempts`; then, or for
 *                                 any other error, the consumer stops with SHOAL_HANDLER_FAILED. Skipping
 *                                 would leave a wrong model that nothing reports; the position stays
 *                                 before the run, so a fixed version resumes there.
 *
 * Transaction markers (control records) have offsets too: a run's position moves past them, and a fetched
 * batch that holds nothing else moves the position on its own, so "caught up" is reachable.
 */
import type { Consumer, ConsumerConfig, EachBatchPayload, IMemberAssignment, Kafka, KafkaMessage } from 'kafkajs';
import { ShoalError, backoffDelay, isShoalError, sleep, type ShoalLogger } from '@shoal/core';
import { peekEventType, type CloudEvent, type EventCodec } from '@shoal/contract';
import { waitForGroupJoin } from '@shoal/transport';
import type { Projection, ProjectionContext, ProjectionHandler } from './projection.js';
import type { ReadModel } from './read-model.js';

export interface RetryOptions {
  /** Attempts of a run whose handler failed with a retriable error, the first included. */
  attempts: number;
  initialMs: number;
  maxMs: number;
}

/** kafkajs consumer settings a projector passes through; the group and offset handling are Shoal's. */
export type ConsumerTuning = Omit<ConsumerConfig, 'groupId' | 'allowAutoTopicCreation'>;

export interface ModelConsumerOptions {
  projection: Projection;
  handlers: ReadonlyMap<string, ProjectionHandler<CloudEvent<unknown>>>;
  model: ReadModel;
  kafka: Kafka;
  codec: EventCodec;
  groupId: string;
  logger: ShoalLogger;
  maxRecordsPerTransaction: number;
  retry: RetryOptions;
  consumer: ConsumerTuning;
  /** After every commit, with the partition whose position moved. */
  onCommit(topic: string, partition: number): void;
  /** The high watermark of a partition, as every fetched batch reports it. */
  onHighWatermark(topic: string, partition: number, highWatermark: number): void;
  /** The consumer stops on an error it cannot get past. */
  onFailure(error: ShoalError): void;
}

export interface ModelConsumerStats {
  /** Events whose handler ran and committed. */
  applied: number;
  /** Records of types without a handler. */
  skipped: number;
  skippedByType: Record<string, number>;
  /** Records that could not be decoded. */
  poisoned: number;
}

/** An event ready to be applied. */
interface Decoded {
  event: CloudEvent<unknown>;
  handler: ProjectionHandler<CloudEvent<unknown>>;
  context: RecordContext;
}

/** What preparing a record gives: an event to apply, nothing to apply (skipped, poison), or stop now. */
type Prepared = Decoded | undefined | typeof STOP;
const STOP = Symbol('stop');

/** The context handlers get; the key is decoded only if a handler asks for it. */
class RecordContext implements ProjectionContext {
  constructor(
    readonly topic: string,
    readonly partition: number,
    private readonly message: KafkaMessage,
  ) {}

  get offset(): string {
    return this.message.offset;
  }

  get key(): string | null {
    return this.message.key == null ? null : this.message.key.toString('utf8');
  }

  get timestamp(): string {
    return this.message.timestamp;
  }
}

export class ModelConsumer {
  readonly groupId: string;
  private readonly options: ModelConsumerOptions;
  private readonly consumer: Consumer;
  private readonly logger: ShoalLogger;
  private readonly abort = new AbortController();
  private readonly counts: ModelConsumerStats = { applied: 0, skipped: 0, skippedByType: {}, poisoned: 0 };
  private stopping: Promise<void> | undefined;
  /** The heartbeat of the batch in hand (one at a time: partitions are consumed one after the other). */
  private heartbeat: () => Promise<void> = async () => undefined;
  private settleJoin: () => void = () => undefined;
  private failed: ShoalError | undefined;

  constructor(options: ModelConsumerOptions) {
    this.options = options;
    this.groupId = options.groupId;
    this.logger = options.logger;
    this.consumer = options.kafka.consumer({ ...options.consumer, groupId: options.groupId, allowAutoTopicCreation: false });
  }

  get failure(): ShoalError | undefined {
    return this.failed;
  }

  /** Joins the group and starts consuming at the stored positions; resolves once the member has joined. */
  async start(): Promise<void> {
    const { GROUP_JOIN, CRASH, END_BATCH_PROCESS } = this.consumer.events;
    // Registered before the join wait, so the first join has seeked before start() resolves.
    this.consumer.on(GROUP_JOIN, ({ payload }) => this.seekToPositions(payload.memberAssignment));
    this.consumer.on(CRASH, ({ payload }) => {
      // kafkajs restarts the consumer itself after a retriable crash (and the next GROUP_JOIN seeks again).
      if (payload.restart) return;
      this.fail(new ShoalError('SHOAL_BROKER_UNAVAILABLE', `The consumer of ${this.groupId} crashed: ${payload.error.message}`, { cause: payload.error }));
    });
    const { joined, release } = waitForGroupJoin(this.consumer);
    this.settleJoin = release;
    this.consumer.on(END_BATCH_PROCESS, ({ payload }) => {
      // A batch of markers only (kafkajs's firstOffset is null when nothing in it was at or past the fetch offset).
      if (payload.batchSize === 0 && payload.firstOffset != null) this.passMarkers(payload.topic, payload.partition, Number(payload.lastOffset));
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [...this.options.projection.topics], fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: (payload) => this.eachBatch(payload),
    });
    await joined;
  }

  /** Stops fetching, lets the run in hand commit, leaves the group. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.abort.abort();
      this.settleJoin();
      await this.consumer.disconnect();
    })();
    return this.stopping;
  }

  stats(): ModelConsumerStats {
    return { ...this.counts, skippedByType: { ...this.counts.skippedByType } };
  }

  private seekToPositions(assignment: IMemberAssignment): void {
    for (const [topic, partitions] of Object.entries(assignment)) {
      for (const partition of partitions) {
        const position = this.options.model.position(topic, partition);
        if (position !== undefined) this.consumer.seek({ topic, partition, offset: String(position) });
      }
    }
  }

  private halted(isRunning: () => boolean, isStale: () => boolean): boolean {
    return this.stopping !== undefined || this.options.model.isClosed || !isRunning() || isStale();
  }

  private async eachBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const { topic, partition } = batch;
    this.heartbeat = heartbeat;
    this.options.onHighWatermark(topic, partition, Number(batch.highWatermark));
    const max = this.options.maxRecordsPerTransaction;
    let run: Decoded[] = [];
    /** The position after the last record taken into `run`; undefined while it holds none. */
    let runEnd: number | undefined;
    // Only this consumer moves the position, and only by the commits below: read once per batch.
    const from = this.options.model.position(topic, partition) ?? 0;
    for (const message of batch.messages) {
      if (this.halted(isRunning, isStale)) return;
      const offset = Number(message.offset);
      if (offset < from) continue;
      let prepared = this.prepare(message, topic, partition);
      if (prepared instanceof Promise) prepared = await prepared;
      if (prepared === STOP) return;
      if (prepared !== undefined) run.push(prepared);
      runEnd = offset + 1;
      if (run.length >= max) {
        if (!(await this.commitRun(topic, partition, run, runEnd))) return;
        resolveOffset(message.offset);
        run = [];
        runEnd = undefined;
        await heartbeat();
      }
    }
    if (this.halted(isRunning, isStale)) return;
    // The batch may end with transaction markers, which are not among its messages.
    const end = Math.max(runEnd ?? 0, Number(batch.lastOffset()) + 1);
    const position = this.options.model.position(topic, partition) ?? 0;
    if (end > position) {
      if (!(await this.commitRun(topic, partition, run, end))) return;
      resolveOffset(String(end - 1));
    } else if (position > 0) {
      // Every record was applied before (fetched ahead of a seek): fetch on from the stored position.
      resolveOffset(String(position - 1));
    }
  }

  /**
   * The event of a record and its handler, or undefined when there is nothing to apply. Synchronous unless
   * the codec must ask the registry, so a warm batch awaits nothing per record.
   */
  private prepare(message: KafkaMessage, topic: string, partition: number): Prepared | Promise<Prepared> {
    const context = new RecordContext(topic, partition, message);
    try {
      const peeked = peekEventType(message);
      if (peeked !== undefined && !this.options.handlers.has(peeked)) return this.skip(peeked);
      const decoded = this.options.codec.decode(message);
      if (decoded instanceof Promise) return this.decodeSlowly(decoded, message, context);
      return this.decoded(decoded, context);
    } catch (error) {
      return this.decodeFailed(error, message, context);
    }
  }

  private async decodeSlowly(decoding: Promise<CloudEvent<unknown>>, message: KafkaMessage, context: RecordContext): Promise<Prepared> {
    try {
      return this.decoded(await decoding, context);
    } catch (error) {
      return this.decodeFailed(error, message, context);
    }
  }

  /** A retriable failure (the registry is down) is retried until it passes or the consumer stops; any other is poison. */
  private async decodeFailed(error: unknown, message: KafkaMessage, context: RecordContext): Promise<Prepared> {
    let failure = error;
    for (let retry = 1; isRetriable(failure); retry += 1) {
      if (this.stopping !== undefined) return STOP;
      this.logger.warn(
        { err: failure, topic: context.topic, partition: context.partition, offset: context.offset, attempt: retry },
        `cannot decode ${context.topic}/${context.partition}@${context.offset} yet, retrying: ${(failure as Error).message}`,
      );
      if (!(await this.pause(retry))) return STOP;
      try {
        return this.decoded(await this.options.codec.decode(message), context);
      } catch (next) {
        failure = next;
      }
    }
    this.counts.poisoned += 1;
    this.logger.warn(
      { err: failure, topic: context.topic, partition: context.partition, offset: context.offset, code: isShoalError(failure) ? failure.code : undefined },
      `skipped poison record ${context.topic}/${context.partition}@${context.offset} of projection ${this.options.projection.name}: ${(failure as Error).message}`,
    );
    return undefined;
  }

  private decoded(event: CloudEvent<unknown>, context: RecordContext): Prepared {
    const handler = this.options.handlers.get(event.type);
    if (handler === undefined) return this.skip(event.type);
    return { event, handler, context };
  }

  private skip(type: string): undefined {
    this.counts.skipped += 1;
    this.counts.skippedByType[type] = (this.counts.skippedByType[type] ?? 0) + 1;
    return undefined;
  }

  /** Applies a run and moves the position in one transaction; false when the consumer must stop. */
  private async commitRun(topic: string, partition: number, run: readonly Decoded[], nextOffset: number): Promise<boolean> {
    for (let attempt = 1; ; attempt += 1) {
      let current: Decoded | undefined;
      try {
        this.options.model.commit(
          (db) => {
            for (const item of run) {
              current = item;
              const result: unknown = item.handler(item.event, db, item.context);
              if (isPromiseLike(result)) {
                void Promise.resolve(result).catch(() => undefined);
                throw new ShoalError(
                  'SHOAL_HANDLER_INVALID',
                  `The handler of ${item.event.type} in projection ${this.options.projection.name} returned a promise: projection handlers are synchronous and write only through the connection they are given`,
                );
              }
            }
            current = undefined;
          },
          topic,
          partition,
          nextOffset,
        );
      } catch (error) {
        const failure = handlerFailure(error, current, this.options.projection, topic, partition);
        if (failure.retriable && attempt < this.options.retry.attempts && this.stopping === undefined) {
          this.logger.warn({ err: failure, attempt }, `${failure.message}; retrying`);
          if (!(await this.pause(attempt))) return false;
          continue;
        }
        this.fail(failure);
        return false;
      }
      this.counts.applied += run.length;
      this.options.onCommit(topic, partition);
      return true;
    }
  }

  /**
   * Waits before retry number `attempt`, heartbeating so that a long outage does not cost the group its
   * member; false when the batch must be dropped (stopping, or the group is rebalancing).
   */
  private async pause(attempt: number): Promise<boolean> {
    await sleep(backoffDelay(attempt, this.options.retry), this.abort.signal);
    if (this.stopping !== undefined || this.options.model.isClosed) return false;
    try {
      await this.heartbeat();
      return true;
    } catch {
      return false;
    }
  }

  /** A fetched batch held only transaction markers: the position moves past them. */
  private passMarkers(topic: string, partition: number, lastOffset: number): void {
    if (this.stopping !== undefined || this.options.model.isClosed) return;
    if (lastOffset + 1 <= (this.options.model.position(topic, partition) ?? 0)) return;
    try {
      this.options.model.commit(() => undefined, topic, partition, lastOffset + 1);
      this.options.onCommit(topic, partition);
    } catch (error) {
      this.fail(new ShoalError('SHOAL_DATABASE', `Cannot store the position of ${topic}/${partition}: ${(error as Error).message}`, { cause: error }));
    }
  }

  /** Stops with `error`; called from inside eachBatch, so the stop is not awaited (it waits for the batch). */
  private fail(error: ShoalError): void {
    if (this.failed !== undefined || this.stopping !== undefined) return;
    this.failed = error;
    this.logger.error({ err: error, groupId: this.groupId }, `projection ${this.options.projection.name} stops consuming: ${error.message}`);
    this.options.onFailure(error);
    void this.stop().catch(() => undefined);
  }
}

function isRetriable(error: unknown): boolean {
  if (isShoalError(error)) return error.retriable;
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/** The error of a failed run, naming the record whose handler threw (none: the position could not be stored). */
function handlerFailure(error: unknown, item: Decoded | undefined, projection: Projection, topic: string, partition: number): ShoalError {
  if (item === undefined) {
    return new ShoalError('SHOAL_DATABASE', `Projection ${projection.name} cannot commit on ${topic}/${partition}: ${(error as Error).message}`, {
      cause: error,
      retriable: isRetriable(error),
    });
  }
  const where = `${item.context.topic}/${item.context.partition}@${item.context.offset}`;
  const details = { projection: projection.name, type: item.event.type, eventId: item.event.id, topic: item.context.topic, partition: item.context.partition, offset: item.context.offset };
  if (isShoalError(error, 'SHOAL_HANDLER_INVALID')) return new ShoalError('SHOAL_HANDLER_INVALID', `${error.message} (${where})`, { cause: error, details });
  return new ShoalError(
    'SHOAL_HANDLER_FAILED',
    `The handler of ${item.event.type} in projection ${projection.name} failed on ${where} (event ${item.event.id}): ${(error as Error).message}`,
    { cause: error, retriable: isRetriable(error), details },
  );
}
