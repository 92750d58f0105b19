/**
 * Consuming CloudEvents from Kafka: one of the two ways services touch Kafka (the other is publisher.ts).
 *
 * A kafkajs consumer group member that decodes every record (event-codec.ts) and hands it to the handler of
 * its type. Records of one partition are handled one after the other, so events of one key (one aggregate)
 * arrive in the order they were published. A record's offset is committed only once its handler returned.
 *
 *   no handler for the type   skipped (only its ce_type header is read) and counted in stats()
 *   retriable failure         thrown to kafkajs, which backs off and delivers the record again
 *                             (registry unreachable, a handler's retriable ShoalError)
 *   any other failure         onError(error, context), then the next record; without onError the error
 *                             is logged and the subscriber stops with it, the record left uncommitted:
 *                             nothing is dropped silently
 *
 * stop() is graceful: no further fetch, the record in hand finishes, offsets are committed, the member
 * leaves the group.
 */
import type { Consumer, ConsumerConfig, EachBatchPayload, IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import { ShoalError } from '@shoal/core';
import type { SchemaCatalog } from '@shoal/contract';
import type { CloudEvent, ShoalEvent } from '@shoal/contract';
import { EventCodec } from '@shoal/contract';
import type { ShoalEventType } from '@shoal/contract';
import { waitForGroupJoin } from './group-join.js';
import { peekEventType } from '@shoal/contract';
import type { RegistryClient } from '@shoal/contract';

/** Where a record came from, for handlers, onError and logs. */
export interface MessageContext {
  topic: string;
  partition: number;
  offset: string;
  /** The Kafka key as UTF-8, null without one. */
  key: string | null;
  headers: IHeaders;
  /** Kafka timestamp, milliseconds since the epoch as a string (kafkajs's form). */
  timestamp: string;
}

export type EventHandler<E> = (event: E, context: MessageContext) => void | Promise<void>;

export interface SubscriberStats {
  /** Records a handler completed. */
  handled: number;
  /** Records of types without a handler. */
  skipped: number;
  skippedByType: Record<string, number>;
  /** Records that failed without retry (passed to onError, or the one that stopped the subscriber). */
  failed: number;
}

/** The part of a pino logger the subscriber uses. */
export interface SubscriberLogger {
  error(details: object, message: string): void;
}

interface SubscriberBaseOptions {
  kafka: Kafka;
  groupId: string;
  topics: readonly string[];
  /** Where a group without committed offsets starts. Default false: only new records. */
  fromBeginning?: boolean;
  /** A record that cannot be decoded, or whose handler failed without a retriable error. */
  onError?: (error: unknown, context: MessageContext) => void | Promise<void>;
  /** Default: standard error. */
  logger?: SubscriberLogger;
  /** Further kafkajs consumer settings. */
  consumer?: Omit<ConsumerConfig, 'groupId'>;
}

export type SubscriberOptions = SubscriberBaseOptions & ({ codec: EventCodec } | { registry: RegistryClient; catalog?: SchemaCatalog });

type State = 'new' | 'running' | 'stopping' | 'stopped';

const standardErrorLogger: SubscriberLogger = {
  error: (details, message) => console.error(message, details),
};

export class Subscriber {
  private readonly options: SubscriberBaseOptions;
  private readonly codec: EventCodec;
  private readonly consumer: Consumer;
  private readonly logger: SubscriberLogger;
  private readonly handlers = new Map<string, EventHandler<CloudEvent<unknown>>>();
  private anyHandler: EventHandler<CloudEvent<unknown>> | undefined;
  private state: State = 'new';
  private failure: unknown;
  private stopping: Promise<void> | undefined;
  private readonly stopped: Promise<void>;
  private settleStopped!: (failure: unknown) => void;
  private settleJoin: () => void = () => undefined;
  private readonly counts: SubscriberStats = { handled: 0, skipped: 0, skippedByType: {}, failed: 0 };

  constructor(options: SubscriberOptions) {
    this.options = options;
    this.codec = 'codec' in options ? options.codec : new EventCodec({ registry: options.registry, ...(options.catalog ? { catalog: options.catalog } : {}) });
    this.logger = options.logger ?? standardErrorLogger;
    this.consumer = options.kafka.consumer({ ...options.consumer, groupId: options.groupId });
    this.stopped = new Promise<void>((resolve, reject) => {
      this.settleStopped = (failure) => (failure === undefined ? resolve() : reject(failure));
    });
    // The failure is for whoever calls whenStopped(); without such a caller it must not be an unhandled rejection.
    this.stopped.catch(() => undefined);
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
  async run(): Promise<void> {
    this.assertNotStarted();
    this.state = 'running';
    const { joined, release } = waitForGroupJoin(this.consumer);
    this.settleJoin = release;
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      // kafkajs restarts the consumer itself after a retriable crash.
      if (!payload.restart) this.fail(payload.error);
    });
    try {
      await this.consumer.connect();
      await this.consumer.subscribe({ topics: [...this.options.topics], fromBeginning: this.options.fromBeginning ?? false });
      await this.consumer.run({ eachBatchAutoResolve: false, eachBatch: (payload) => this.eachBatch(payload) });
      await joined;
    } catch (error) {
      this.fail(error);
      throw error;
    }
  }

  /** Stops gracefully (see the file comment). Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.state = 'stopping';
      this.settleJoin();
      try {
        await this.consumer.disconnect();
      } finally {
        this.state = 'stopped';
        this.settleStopped(this.failure);
      }
    })();
    return this.stopping;
  }

  /** Resolves when the subscriber has stopped; rejects with the error that stopped it, if one did. */
  whenStopped(): Promise<void> {
    return this.stopped;
  }

  stats(): SubscriberStats {
    return { ...this.counts, skippedByType: { ...this.counts.skippedByType } };
  }

  private async eachBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    for (const message of batch.messages) {
      if (!isRunning() || isStale() || this.state !== 'running') return;
      const context = messageContext(batch.topic, batch.partition, message);
      // Unresolved, the record is read again by whoever consumes the partition next.
      if (!(await this.handle(message, context))) return;
      resolveOffset(message.offset);
      await heartbeat();
    }
  }

  /** True when the record is done with (handled, skipped or given to onError). */
  private async handle(message: KafkaMessage, context: MessageContext): Promise<boolean> {
    const peeked = peekEventType(message);
    if (peeked !== undefined && this.handlerFor(peeked) === undefined) return this.skip(peeked);
    let event: CloudEvent<unknown>;
    try {
      event = await this.codec.decode(message);
    } catch (error) {
      return this.failed(error, context);
    }
    const handler = this.handlerFor(event.type);
    if (handler === undefined) return this.skip(event.type);
    try {
      await handler(event, context);
    } catch (error) {
      return this.failed(error, context);
    }
    this.counts.handled += 1;
    return true;
  }

  private handlerFor(type: string): EventHandler<CloudEvent<unknown>> | undefined {
    return this.handlers.get(type) ?? this.anyHandler;
  }

  private skip(type: string): true {
    this.counts.skipped += 1;
    this.counts.skippedByType[type] = (this.counts.skippedByType[type] ?? 0) + 1;
    return true;
  }

  private async failed(error: unknown, context: MessageContext): Promise<boolean> {
    if ((error as { retriable?: unknown } | null)?.retriable === true) throw error;
    this.counts.failed += 1;
    const onError = this.options.onError;
    if (onError !== undefined) {
      try {
        await onError(error, context);
        return true;
      } catch (onErrorFailure) {
        error = onErrorFailure;
      }
    }
    this.logger.error(
      { err: error, groupId: this.options.groupId, topic: context.topic, partition: context.partition, offset: context.offset },
      `subscriber ${this.options.groupId} stops: record ${context.topic}/${context.partition}@${context.offset} failed and no onError took it: ${(error as Error).message}`,
    );
    this.fail(error);
    return false;
  }

  /** Stops with `error`; called from inside eachBatch, so the stop is not awaited (it waits for the batch). */
  private fail(error: unknown): void {
    this.failure ??= error;
    void this.stop().catch(() => undefined);
  }

  private assertNotStarted(): void {
    if (this.state !== 'new') throw new ShoalError('SHOAL_CONFIG_INVALID', `Subscriber ${this.options.groupId} already ran; handlers are set before run()`);
  }
}

/** Where a record came from, as handlers are told (also the consumer runtime's HandlerContext). */
export function messageContext(topic: string, partition: number, message: KafkaMessage): MessageContext {
  return {
    topic,
    partition,
    offset: message.offset,
    key: message.key === null ? null : message.key.toString('utf8'),
    headers: message.headers ?? {},
    timestamp: message.timestamp,
  };
}
