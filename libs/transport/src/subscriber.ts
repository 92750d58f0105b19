/**
 * Consuming CloudEvents for tools (`shoal subscribe`): handlers by event type, or one for every type, on the
 * consumer loop (consumer-loop.ts), one record at a time. Events of one key arrive in the order they were
 * published, and a record's offset is committed only once its handler returned (per interval, and when the
 * subscriber stops).
 *
 *   no handler for the type   skipped (only its ce_type header is read) and counted in stats()
 *   an outage                 waited out (the registry unreachable while decoding)
 *   a retriable failure       tried again in place, up to `retry.attempts` times (a handler's plain Error, a
 *                             retriable ShoalError)
 *   any other failure         onError(error, context), then the next record; without onError the error is
 *                             logged and the subscriber stops with it, the record left uncommitted for the
 *                             group's next member: nothing is dropped silently
 *
 * stop() is graceful: no further fetch, the record in hand finishes, offsets are committed, the member
 * leaves the group.
 */
import type { Kafka } from 'kafkajs';
import { ShoalError } from '@shoal/core';
import { EventCodec, type CloudEvent, type RegistryClient, type SchemaCatalog, type ShoalEvent, type ShoalEventType } from '@shoal/contract';
import { ConsumerLoop, type ConsumeOptions, type EventRun, type GiveUp } from './consumer-loop.js';
import type { MessageContext } from './record-context.js';
import type { FailedRecord } from './record-failure.js';

export type EventHandler<E> = (event: E, context: MessageContext) => void | Promise<void>;

export interface SubscriberStats {
  /** Records a handler completed. */
  handled: number;
  /** Records of types without a handler. */
  skipped: number;
  skippedByType: Record<string, number>;
  /** Records given up on (passed to onError, or the one that stopped the subscriber). */
  failed: number;
}

/** The part of a pino logger the subscriber uses. */
export interface SubscriberLogger {
  error(details: object, message: string): void;
}

interface SubscriberBaseOptions extends Pick<ConsumeOptions, 'retry' | 'commitIntervalMs' | 'consumer'> {
  kafka: Kafka;
  groupId: string;
  topics: readonly string[];
  /** Where a group without committed offsets starts. Default false: only new records. */
  fromBeginning?: boolean;
  /** A record given up on: it cannot be decoded, or its handler failed for good. */
  onError?: (error: unknown, context: MessageContext) => void | Promise<void>;
  /** Default: standard error. */
  logger?: SubscriberLogger;
}

export type SubscriberOptions = SubscriberBaseOptions & ({ codec: EventCodec } | { registry: RegistryClient; catalog?: SchemaCatalog });

const standardErrorLogger: SubscriberLogger = {
  error: (details, message) => console.error(message, details),
};

export class Subscriber {
  private readonly options: SubscriberBaseOptions;
  private readonly codec: EventCodec;
  private readonly loop: ConsumerLoop;
  private readonly logger: SubscriberLogger;
  private readonly handlers = new Map<string, EventHandler<CloudEvent<unknown>>>();
  private anyHandler: EventHandler<CloudEvent<unknown>> | undefined;
  private started = false;
  private handled = 0;
  private failed = 0;

  constructor(options: SubscriberOptions) {
    this.options = options;
    this.codec = 'codec' in options ? options.codec : new EventCodec({ registry: options.registry, ...(options.catalog ? { catalog: options.catalog } : {}) });
    this.logger = options.logger ?? standardErrorLogger;
    this.loop = new ConsumerLoop({
      kafka: options.kafka,
      groupId: options.groupId,
      topics: options.topics,
      codec: this.codec,
      fromBeginning: options.fromBeginning ?? false,
      // One record per run: a handler's effects (output) cannot be rolled back, so none is applied twice.
      recordsPerTransaction: 1,
      ...(options.retry === undefined ? {} : { retry: options.retry }),
      ...(options.commitIntervalMs === undefined ? {} : { commitIntervalMs: options.commitIntervalMs }),
      ...(options.consumer === undefined ? {} : { consumer: options.consumer }),
      handler: {
        handles: (type) => this.handlerFor(type) !== undefined,
        apply: (run) => this.apply(run),
        giveUp: (record) => this.giveUp(record),
      },
    });
  }

  /** The handler of one event type; its data has the type's generated TypeScript shape. */
  on<T extends ShoalEventType>(type: T, handler: EventHandler<ShoalEvent<T>>): this {
    this.assertNotStarted();
    if (!this.codec.catalog?.events.has(type)) {
      throw new ShoalError('SHOAL_CONFIG_INVALID', `Cannot handle ${type}: the subscriber's schema catalog does not know it, so its data could not be typed`);
    }
    if (this.handlers.has(type)) throw new ShoalError('SHOAL_CONFIG_INVALID', `${type} already has a handler in subscriber ${this.options.groupId}`);
    this.handlers.set(type, handler as unknown as EventHandler<CloudEvent<unknown>>);
    return this;
  }

  /** The handler of every event without a handler of its own (tools): data decoded with its writer schema if the catalog does not know the type. */
  onAny(handler: EventHandler<CloudEvent<unknown>>): this {
    this.assertNotStarted();
    this.anyHandler = handler;
    return this;
  }

  /**
   * Joins the group and starts consuming; resolves once the member has joined (or stop() was called first).
   * A failure to start stops the subscriber with that error.
   */
  run(): Promise<void> {
    this.assertNotStarted();
    this.started = true;
    return this.loop.start();
  }

  /** Stops gracefully (see the file comment). Idempotent. */
  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Resolves when the subscriber has stopped; rejects with the error that stopped it, if one did. */
  whenStopped(): Promise<void> {
    return this.loop.whenStopped();
  }

  stats(): SubscriberStats {
    const { skipped, skippedByType } = this.loop.status();
    return { handled: this.handled, skipped, skippedByType, failed: this.failed };
  }

  private handlerFor(type: string): EventHandler<CloudEvent<unknown>> | undefined {
    return this.handlers.get(type) ?? this.anyHandler;
  }

  private async apply(run: EventRun): Promise<void> {
    for (const { event, context } of run.events) {
      await this.handlerFor(event.type)!(event, context);
      this.handled += 1;
    }
  }

  private async giveUp({ error, context }: FailedRecord): Promise<GiveUp> {
    this.failed += 1;
    let failure = error;
    const onError = this.options.onError;
    if (onError !== undefined) {
      try {
        await onError(error, context);
        return 'skip';
      } catch (onErrorFailure) {
        failure = onErrorFailure;
      }
    }
    this.logger.error(
      { err: failure, groupId: this.options.groupId, topic: context.topic, partition: context.partition, offset: context.offset },
      `subscriber ${this.options.groupId} stops: record ${context.topic}/${context.partition}@${context.offset} failed and no onError took it: ${(failure as Error).message}`,
    );
    return { stop: failure };
  }

  private assertNotStarted(): void {
    if (this.started) throw new ShoalError('SHOAL_CONFIG_INVALID', `Subscriber ${this.options.groupId} already ran; handlers are set before run()`);
  }
}
