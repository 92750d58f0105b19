/**
 * Feeds one read model from Kafka: the live model, or a shadow being rebuilt. It is a handler of the
 * platform's consumer loop (@shoal/transport's ConsumerLoop) with the positions kept in the model
 * (read-model.ts), never in consumer-group offsets.
 *
 * kafkajs has no manual partition assignment, so a copy that one process owns (a SQLite file, a shadow
 * being rebuilt) consumes as the only member of a group of its own, named
 * `<prefix>.<projection>.v<version>.g<generation>.<run id>`. The run id is new at every start: the group
 * never holds committed offsets (nothing is ever committed), so nothing is lost by a new name, and a restart
 * after a crash does not wait for the session of its dead predecessor to expire before it can join. The live
 * model on PostgreSQL is fed by every instance of the service in one group, `<prefix>.<projection>.v<version>.g<generation>`,
 * which spreads its partitions over them. On every assignment the loop seeks each partition to the stored
 * position and drops a record below it (fetched before the seek took effect); a commit on PostgreSQL also
 * skips what the stored position says another instance applied, so nothing is ever applied twice.
 *
 * A run of the loop (up to `recordsPerTransaction` records of a partition) is ONE transaction with the
 * partition's new position (ReadModel.commit), so a crash re-applies nothing partially. The loop decodes
 * before the transaction (awaiting the registry when the codec is cold); the handlers run inside.
 *
 *   type without a handler        skipped (only its ce_type header is read), counted, position moves on
 *   record that cannot be decoded skipped, counted as poison, logged with its position: a read model must be
 *                                 the same whether built live or by a rebuild, and both skip the same records
 *   an outage                     the registry or the database unreachable, the file full or read only: waited out until it
 *                                 passes or the feed stops; an outage must neither skip events nor stop it
 *   handler throws                the run is rolled back and the events before the failing one applied
 *                                 again; a retriable failure is tried again up to `retry.attempts`; then, or
 *                                 for poison, the feed stops with SHOAL_HANDLER_FAILED naming the event.
 *                                 Skipping would leave a wrong model that nothing reports; the position stays
 *                                 right before the event, so a fixed version resumes there.
 *
 * Transaction markers (control records) have offsets too: a run's position moves past them, and a fetched
 * batch that holds nothing else moves the position on its own, so "caught up" is reachable.
 */
import type { Kafka } from 'kafkajs';
import { isShoalError, ShoalError, type ShoalLogger } from '@shoal/core';
import type { CloudEvent, EventCodec } from '@shoal/contract';
import type { Tracing } from '@shoal/telemetry';
import { ConsumerLoop, RunFailure, type ConsumeOptions, type ConsumerStatus, type EventRun, type FailedRecord, type GiveUp } from '@shoal/transport';
import { afterValue, type MaybePromise } from '@shoal/store';
import { isPromiseLike } from '@shoal/store-sqlite';
import type { ModelConnection, Projection, ProjectionHandler } from './projection.js';
import type { ReadModel } from './read-model.js';

export interface ModelFeedOptions {
  projection: Projection;
  handlers: ReadonlyMap<string, ProjectionHandler<CloudEvent<unknown>>>;
  model: ReadModel;
  kafka: Kafka;
  codec: EventCodec;
  groupId: string;
  logger: ShoalLogger;
  consume: Omit<ConsumeOptions, 'commitIntervalMs'>;
  /** After every commit of the file (a run, or positions moved past markers). */
  onCommit(): void;
  /** The feed stops on an error it cannot get past. */
  onFailure(error: ShoalError): void;
  /** Each handler runs in an `apply` span when given. */
  tracing?: Tracing | undefined;
  /** Counts of the feed this one takes over from (a shadow's, after a swap on PostgreSQL), added to its own. */
  carried?: ModelFeedStats | undefined;
}

export interface ModelFeedStats {
  /** Events whose handler ran and committed. */
  applied: number;
  /** Records of types without a handler. */
  skipped: number;
  skippedByType: Record<string, number>;
  /** Records that could not be decoded. */
  poisoned: number;
}

export class ModelFeed {
  readonly groupId: string;
  private readonly options: ModelFeedOptions;
  private readonly loop: ConsumerLoop;
  private applied = 0;
  private poisoned = 0;
  private failed: ShoalError | undefined;

  constructor(options: ModelFeedOptions) {
    this.options = options;
    this.groupId = options.groupId;
    const { model, handlers } = options;
    this.loop = new ConsumerLoop({
      ...options.consume,
      kafka: options.kafka,
      codec: options.codec,
      groupId: options.groupId,
      topics: options.projection.topics,
      logger: options.logger,
      allowAutoTopicCreation: false,
      positions: (topic, partition) => (model.isClosed ? undefined : model.position(topic, partition)),
      handler: {
        handles: (type) => handlers.has(type),
        apply: (run) => this.apply(run),
        giveUp: (record) => this.giveUp(record),
      },
    });
  }

  get failure(): ShoalError | undefined {
    return this.failed;
  }

  /** Joins the group and starts consuming at the stored positions; resolves once the member has joined. */
  start(): Promise<void> {
    return this.loop.start();
  }

  /** Stops fetching, lets the run in hand commit, leaves the group. Idempotent. */
  stop(): Promise<void> {
    return this.loop.stop();
  }

  stats(): ModelFeedStats {
    const { skipped, skippedByType } = this.loop.status();
    const carried = this.options.carried;
    if (carried === undefined) return { applied: this.applied, skipped, skippedByType, poisoned: this.poisoned };
    const byType = { ...carried.skippedByType };
    for (const [type, count] of Object.entries(skippedByType)) byType[type] = (byType[type] ?? 0) + count;
    return { applied: carried.applied + this.applied, skipped: carried.skipped + skipped, skippedByType: byType, poisoned: carried.poisoned + this.poisoned };
  }

  /** Where the loop is: the high watermarks it last saw, per assigned partition. */
  status(): ConsumerStatus {
    return this.loop.status();
  }

  /** The run's handlers and the partition's new position in one transaction. */
  private async apply(run: EventRun): Promise<void> {
    const { model } = this.options;
    // The event being applied when the transaction threw; -1 when storing the position or the commit did.
    const progress = { failedAt: -1 };
    let applied: number;
    try {
      applied = await model.commit((connection, from) => this.applyFrom(run, firstAt(run, from), connection, progress), run.topic, run.partition, run.nextOffset);
    } catch (error) {
      const { failedAt } = progress;
      if (failedAt >= 0) throw new RunFailure(failedAt, error);
      throw error;
    }
    this.applied += applied;
    this.options.onCommit();
  }

  /**
   * The run's events from `start` on: synchronously while the handlers return nothing, on from the next once
   * a returned promise resolved. Answers how many it applied.
   */
  private applyFrom(run: EventRun, start: number, connection: ModelConnection, progress: { failedAt: number }): MaybePromise<number> {
    const { handlers, tracing, projection, groupId } = this.options;
    for (let i = start; i < run.events.length; i++) {
      progress.failedAt = i;
      const { event, context } = run.events[i]!;
      const handler = handlers.get(event.type)!;
      const result: unknown = tracing === undefined ? handler(event, connection, context) : tracing.applying(projection.name, event, context, groupId, () => handler(event, connection, context));
      if (isPromiseLike(result)) {
        return Promise.resolve(result).then(() => afterValue(this.applyFrom(run, i + 1, connection, progress), (rest) => rest + (i + 1 - start)));
      }
    }
    progress.failedAt = -1;
    return Math.max(0, run.events.length - start);
  }

  private giveUp(record: FailedRecord): GiveUp {
    const { topic, partition, message, error } = record;
    const where = `${topic}/${partition}@${message.offset}`;
    if (record.stage === 'decode') {
      this.poisoned += 1;
      this.options.logger.warn(
        { err: error, topic, partition, offset: message.offset, code: isShoalError(error) ? error.code : undefined },
        `skipped poison record ${where} of projection ${this.options.projection.name}: ${(error as Error).message}`,
      );
      return 'skip';
    }
    const failure = stopFailure(record, this.options.projection);
    this.failed = failure;
    this.options.logger.error({ err: failure, groupId: this.groupId }, `projection ${this.options.projection.name} stops consuming: ${failure.message}`);
    this.options.onFailure(failure);
    return { stop: failure };
  }
}

/** The index of the run's first event at or past `from` (the stored position), 0 without one. */
function firstAt(run: EventRun, from: number | undefined): number {
  if (from === undefined) return 0;
  let index = 0;
  while (index < run.events.length && Number(run.events[index]!.context.offset) < from) index += 1;
  return index;
}

/** The error a feed stops with, naming the event whose handler failed (none: its run could not be committed). */
function stopFailure({ topic, partition, message, event, stage, error }: FailedRecord, projection: Projection): ShoalError {
  const where = `${topic}/${partition}@${message.offset}`;
  if (stage === 'run' || event === undefined) {
    return new ShoalError('SHOAL_DATABASE', `Projection ${projection.name} cannot commit on ${topic}/${partition}: ${(error as Error).message}`, { cause: error });
  }
  const details = { projection: projection.name, type: event.type, eventId: event.id, topic, partition, offset: message.offset };
  if (isShoalError(error, 'SHOAL_HANDLER_INVALID')) return new ShoalError('SHOAL_HANDLER_INVALID', `${error.message} (${where})`, { cause: error, details });
  return new ShoalError('SHOAL_HANDLER_FAILED', `The handler of ${event.type} in projection ${projection.name} failed on ${where} (event ${event.id}): ${(error as Error).message}`, {
    cause: error,
    details,
  });
}
