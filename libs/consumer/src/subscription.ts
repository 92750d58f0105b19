/**
 * A subscription: one kafkajs consumer group member that hands the events of its topics to handlers keyed
 * by event type, each in a transaction on the service's own database (batch-processor.ts), with the inbox
 * for exactly-once effects (inbox-table.ts), retries and dead letters for failures (record-failure.ts,
 * dead-letter-queue.ts).
 *
 * Lifecycle:
 *   start()   creates the dead-letter topic if missing, connects its producer, joins the group; resolves once
 *             the member has joined. Inbox pruning starts (at once, then every `inboxPruneIntervalMs`).
 *   stop()    graceful and idempotent: no further fetch, waits in progress end, the run in progress finishes
 *             (it is synchronous), resolved offsets are committed, the member leaves the group, the DLQ
 *             producer disconnects. A record that was waiting for a retry is left uncommitted: the next
 *             member gets it, and the inbox keeps whatever it already committed from happening twice.
 *   whenStopped()  resolves once stopped; rejects with the error that stopped the subscription, if one did
 *             (a consumer crash kafkajs does not restart from, a failure to start).
 *
 * A subscription lives once: after stop() a new one is made with subscribe().
 */
import type { Consumer, ConsumerConfig, Kafka } from 'kafkajs';
import { ShoalError, silentLogger, type ShoalLogger } from '@shoal/core';
import { type EventCodec } from '@shoal/contract';
import { waitForGroupJoin } from '@shoal/transport';
import type { SqliteServiceDatabase } from '@shoal/store-sqlite';
import { BatchProcessor, type RetryOptions } from './batch-processor.js';
import { DeadLetterQueue } from './dead-letter-queue.js';
import type { AnyEventHandler, EventHandlers, SynchronousHandlers } from './event-handlers.js';
import { Inbox, pruneInbox } from './inbox-table.js';
import { SubscriptionMetrics, type SubscriptionState, type SubscriptionStatus } from './subscription-status.js';

export interface SubscribeOptions<H extends EventHandlers = EventHandlers> {
  /** The service's database: handlers write to it, the inbox lives in it. */
  database: SqliteServiceDatabase;
  kafka: Kafka;
  /** Decodes records; its catalog must know every handled type. */
  codec: EventCodec;
  /** The consumer group id; also the inbox's key and, by default, the dead-letter topic's prefix. */
  group: string;
  topics: readonly string[];
  /** One synchronous handler per event type; records of other types are skipped and counted. */
  handlers: H & SynchronousHandlers<H>;
  /** Where a group without committed offsets starts. Default false: only records produced after it joined. */
  fromBeginning?: boolean;
  retry?: Partial<RetryOptions>;
  /** Default `<group>.dlq`. */
  dlqTopic?: string;
  logger?: ShoalLogger;
  /** Partitions processed at the same time (kafkajs). Default 1. Order within a partition holds either way. */
  partitionsConsumedConcurrently?: number;
  /** Records per database transaction at most; a failure rolls back its run and reapplies the records before it. Default 200. */
  recordsPerTransaction?: number;
  /** How long a processed event id is remembered. Default 7 days. */
  inboxRetentionMs?: number;
  /** How often old inbox rows are pruned. Default 1 hour. */
  inboxPruneIntervalMs?: number;
  /** Inbox rows looked at per pruning transaction (the oldest first). Default 1000. */
  inboxPruneChunk?: number;
  /** Further kafkajs consumer settings (session timeout, fetch sizes, waits). */
  consumer?: Omit<ConsumerConfig, 'groupId'>;
  /** Clock (ms since the epoch) of inbox rows, pruning and DLQ headers. Default Date.now. */
  now?: () => number;
}

export const subscriptionDefaults = {
  fromBeginning: false,
  retry: { attempts: 5, initialMs: 200, maxMs: 30_000 },
  partitionsConsumedConcurrently: 1,
  recordsPerTransaction: 200,
  inboxRetentionMs: 7 * 24 * 60 * 60 * 1000,
  inboxPruneIntervalMs: 60 * 60 * 1000,
  inboxPruneChunk: 1000,
} satisfies Partial<SubscribeOptions>;

/** A subscription of `handlers` to `topics` for `group`; call start() to join. */
export function subscribe<H extends EventHandlers>(options: SubscribeOptions<H>): Subscription {
  return new Subscription(options as SubscribeOptions);
}

export class Subscription {
  readonly group: string;
  readonly dlqTopic: string;
  private readonly options: SubscribeOptions;
  private readonly logger: ShoalLogger;
  private readonly now: () => number;
  private readonly inbox: Inbox;
  private readonly consumer: Consumer;
  private readonly deadLetters: DeadLetterQueue;
  private readonly metrics = new SubscriptionMetrics();
  private readonly processor: BatchProcessor;
  private readonly abort = new AbortController();
  private state: SubscriptionState = 'new';
  private failure: unknown;
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private readonly stopped: Promise<void>;
  private settleStopped!: (failure: unknown) => void;
  private settleJoin: () => void = () => undefined;
  private pruneTimer: NodeJS.Timeout | undefined;
  private pruning: Promise<number> | undefined;

  constructor(options: SubscribeOptions) {
    this.options = options;
    this.group = options.group;
    const handlers = handlerMap(options);
    const retry = { ...subscriptionDefaults.retry, ...options.retry };
    if (!Number.isInteger(retry.attempts) || retry.attempts < 1) throw configInvalid(options.group, `retry.attempts must be a whole number >= 1, got ${retry.attempts}`);
    const recordsPerTransaction = options.recordsPerTransaction ?? subscriptionDefaults.recordsPerTransaction;
    if (!Number.isInteger(recordsPerTransaction) || recordsPerTransaction < 1) throw configInvalid(options.group, `recordsPerTransaction must be a whole number >= 1, got ${recordsPerTransaction}`);
    this.dlqTopic = options.dlqTopic ?? `${options.group}.dlq`;
    if (options.topics.includes(this.dlqTopic)) throw configInvalid(options.group, `it cannot consume its own dead-letter topic ${this.dlqTopic}`);
    this.logger = (options.logger ?? silentLogger).child({ module: 'consumer', group: options.group });
    this.now = options.now ?? Date.now;
    this.inbox = new Inbox(options.database.db, options.group, this.now);
    this.consumer = options.kafka.consumer({ ...options.consumer, groupId: options.group });
    this.deadLetters = new DeadLetterQueue(options.kafka, this.dlqTopic);
    this.processor = new BatchProcessor({
      group: options.group,
      database: options.database,
      codec: options.codec,
      handlers,
      inbox: this.inbox,
      deadLetters: this.deadLetters,
      metrics: this.metrics,
      retry,
      recordsPerTransaction,
      logger: this.logger,
      signal: this.abort.signal,
      now: this.now,
    });
    this.stopped = new Promise<void>((resolve, reject) => {
      this.settleStopped = (failure) => (failure === undefined ? resolve() : reject(failure));
    });
    // The failure is for whoever calls whenStopped(); without such a caller it must not be an unhandled rejection.
    this.stopped.catch(() => undefined);
    this.observeConsumer();
  }

  /** Joins the group and starts consuming; resolves once the member has joined (or stop() was called first). */
  start(): Promise<void> {
    if (this.state !== 'new') return Promise.reject(configInvalid(this.group, 'it was already started; make a new one with subscribe()'));
    this.state = 'starting';
    this.starting = this.join();
    return this.starting;
  }

  private async join(): Promise<void> {
    const { joined, release } = waitForGroupJoin(this.consumer);
    this.settleJoin = release;
    // stop() waits for this function, so each step first checks it was not called meanwhile.
    const stopped = () => this.abort.signal.aborted;
    try {
      await this.deadLetters.open();
      if (stopped()) return;
      await this.consumer.connect();
      if (stopped()) return;
      await this.consumer.subscribe({ topics: [...this.options.topics], fromBeginning: this.options.fromBeginning ?? subscriptionDefaults.fromBeginning });
      if (stopped()) return;
      await this.consumer.run({
        autoCommit: true,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? subscriptionDefaults.partitionsConsumedConcurrently,
        eachBatch: (payload) => this.processor.process(payload),
      });
      await joined;
    } catch (error) {
      this.fail(error);
      throw error;
    }
    if (stopped()) return;
    this.state = 'running';
    this.schedulePruning();
    this.logger.info({ topics: this.options.topics, dlqTopic: this.dlqTopic }, `consumer ${this.group} joined`);
  }

  /** Stops gracefully (see the file comment). Idempotent; rejects if leaving the group failed. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.state = 'stopping';
      this.abort.abort();
      this.settleJoin();
      clearInterval(this.pruneTimer);
      await this.starting?.catch(() => undefined);
      try {
        await this.consumer.disconnect();
      } finally {
        try {
          await this.deadLetters.close();
          await this.pruning?.catch(() => undefined);
        } finally {
          this.state = 'stopped';
          this.logger.info({ failed: this.failure !== undefined }, `consumer ${this.group} stopped`);
          this.settleStopped(this.failure);
        }
      }
    })();
    return this.stopping;
  }

  /** Resolves when the subscription has stopped; rejects with the error that stopped it, if one did. */
  whenStopped(): Promise<void> {
    return this.stopped;
  }

  status(): SubscriptionStatus {
    return this.metrics.snapshot({ group: this.group, dlqTopic: this.dlqTopic, state: this.state });
  }

  /**
   * Deletes the group's inbox rows older than the retention window now; returns how many. It also runs on its
   * own every `inboxPruneIntervalMs` while the subscription runs.
   */
  pruneInbox(): Promise<number> {
    this.pruning ??= pruneInbox(
      this.options.database,
      this.inbox,
      this.now() - (this.options.inboxRetentionMs ?? subscriptionDefaults.inboxRetentionMs),
      this.options.inboxPruneChunk ?? subscriptionDefaults.inboxPruneChunk,
    ).finally(() => {
      this.pruning = undefined;
    });
    return this.pruning;
  }

  private schedulePruning(): void {
    const prune = () => {
      this.pruneInbox().then(
        (deleted) => {
          if (deleted > 0) this.logger.debug({ deleted }, `consumer ${this.group} pruned ${deleted} inbox rows`);
        },
        (error: unknown) => this.logger.warn({ err: error }, `consumer ${this.group} could not prune its inbox: ${(error as Error).message}`),
      );
    };
    prune();
    this.pruneTimer = setInterval(prune, this.options.inboxPruneIntervalMs ?? subscriptionDefaults.inboxPruneIntervalMs);
    this.pruneTimer.unref();
  }

  private observeConsumer(): void {
    const { CONNECT, DISCONNECT, GROUP_JOIN, REBALANCING, STOP, CRASH } = this.consumer.events;
    this.consumer.on(CONNECT, () => {
      this.metrics.connected = true;
    });
    this.consumer.on(DISCONNECT, () => {
      this.metrics.connected = false;
      this.metrics.joined = false;
    });
    this.consumer.on(GROUP_JOIN, ({ payload }) => {
      this.metrics.joined = true;
      this.metrics.assigned(payload.memberAssignment);
    });
    this.consumer.on(REBALANCING, () => {
      this.metrics.joined = false;
    });
    this.consumer.on(STOP, () => {
      this.metrics.joined = false;
    });
    this.consumer.on(CRASH, ({ payload }) => {
      this.metrics.joined = false;
      this.logger.error({ err: payload.error, restart: payload.restart }, `consumer ${this.group} crashed${payload.restart ? ', kafkajs restarts it' : ''}: ${payload.error.message}`);
      if (!payload.restart) this.fail(payload.error);
    });
  }

  /** Stops with `error`; the stop is not awaited (from inside kafkajs it would wait for itself). */
  private fail(error: unknown): void {
    this.failure ??= error;
    void this.stop().catch(() => undefined);
  }
}

function handlerMap(options: SubscribeOptions): Map<string, AnyEventHandler> {
  if (options.group === '') throw configInvalid(options.group, 'the group id is empty');
  if (options.topics.length === 0) throw configInvalid(options.group, 'it has no topics');
  const handlers = new Map<string, AnyEventHandler>();
  for (const [type, handler] of Object.entries(options.handlers)) {
    if (handler === undefined) continue;
    if (typeof handler !== 'function') throw configInvalid(options.group, `the handler of ${type} is not a function`);
    if (!options.codec.catalog?.events.has(type)) {
      throw configInvalid(options.group, `it handles ${type}, which the codec's schema catalog does not know, so its data could not be typed`);
    }
    handlers.set(type, handler as AnyEventHandler);
  }
  if (handlers.size === 0) throw configInvalid(options.group, 'it has no handlers');
  return handlers;
}

function configInvalid(group: string, problem: string): ShoalError {
  return new ShoalError('SHOAL_CONFIG_INVALID', `Subscription of consumer group "${group}": ${problem}`, { details: { group } });
}
