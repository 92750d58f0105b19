/**
 * A subscription: handlers keyed by event type, each run in a transaction on the service's own database with
 * the inbox for exactly-once effects (inbox-handler.ts, inbox-table.ts), a dead-letter topic for records
 * given up on (dead-letter-queue.ts) and their keys parked in the database until redriven or skipped
 * (parked-records.ts, parked-keys.ts), on the platform's consumer loop (@shoal/transport's ConsumerLoop: the
 * group, the partitions in flight, per-key order, retries and outages, offsets, status).
 *
 * Lifecycle:
 *   start()   creates the dead-letter topic if missing, connects its producer, joins the group; resolves once
 *             the member has joined. Inbox pruning starts (at once, then every `inboxPruneIntervalMs`).
 *   stop()    graceful and idempotent: no further fetch, waits in progress end, the run in progress finishes
 *             (its transaction commits or rolls back), the offsets of what was handled are committed, the member leaves the group,
 *             the DLQ producer disconnects. A record that was waiting for a retry is left uncommitted: the
 *             next member gets it, and the inbox keeps whatever it already committed from happening twice.
 *   whenStopped()  resolves once stopped; rejects with the error that stopped the subscription, if one did
 *             (a consumer crash kafkajs does not restart from, a failure to start).
 *
 * A subscription lives once: after stop() a new one is made with subscribe().
 */
import type { Kafka } from 'kafkajs';
import { backoffDelay, ShoalError, silentLogger, sleep, type ShoalLogger } from '@shoal/core';
import { type EventCodec } from '@shoal/contract';
import { ConsumerLoop, consumeDefaults, failureKind, type ConsumeOptions, type ConsumerState } from '@shoal/transport';
import type { ServiceDatabase } from '@shoal/store';
import type { SqliteDatabase } from '@shoal/store-sqlite';
import type { Tracing } from '@shoal/telemetry';
import { DeadLetterQueue } from './dead-letter-queue.js';
import type { AnyEventHandler, EventHandlers, EventPreparation } from './event-handlers.js';
import type { DlqDeadLetter, DlqRedriveResult, DlqSkipResult } from './dlq-bodies.js';
import { InboxHandler } from './inbox-handler.js';
import { ParkedKeys } from './parked-keys.js';
import { ParkedRecords } from './parked-records.js';
import { Inbox, pruneInbox } from './inbox-table.js';
import { createConsumerTables } from './consumer-tables.js';
import { RuntimeCounters, type SubscriptionStatus } from './subscription-status.js';

/** `H`: the handlers (EventHandlers<Db>, which subscribe() checks); `Db`: the database's connection type. */
export interface SubscribeOptions<H = EventHandlers, Db = SqliteDatabase> extends ConsumeOptions {
  /**
   * The service's database, on either adapter (SQLite, PostgreSQL): handlers write to it, the inbox and the
   * parked records live in it. On PostgreSQL several instances of a service share it.
   */
  database: ServiceDatabase<Db>;
  kafka: Kafka;
  /** Decodes records; its catalog must know every handled type. */
  codec: EventCodec;
  /** The consumer group id; also the inbox's key and, by default, the dead-letter topic's prefix. */
  group: string;
  topics: readonly string[];
  /** One handler per event type (it may return a promise, awaited inside the transaction); records of other types are skipped and counted. */
  handlers: H;
  /** Asynchronous work before each new event's transaction; its result is the handler's `prepared` (event-handlers.ts). */
  prepare?: EventPreparation;
  /** With `prepare`: events of distinct keys prepared at the same time at most (inbox-handler.ts). Default 1. */
  prepareConcurrency?: number;
  /** Where a group without committed offsets starts. Default false: only records produced after it joined. */
  fromBeginning?: boolean;
  /** Default `<group>.dlq`. */
  dlqTopic?: string;
  /**
   * Default true: a record given up on is also stored in the database as its key's dead letter, and the later
   * records of that key are parked behind it until it is redriven or skipped (parked-records.ts). False: the
   * record is only dead-lettered, and the key's later records are handled.
   */
  parkByKey?: boolean;
  logger?: ShoalLogger;
  /** How long a processed event id is remembered. Default 7 days. */
  inboxRetentionMs?: number;
  /** How often old inbox rows are pruned. Default 1 hour. */
  inboxPruneIntervalMs?: number;
  /** Inbox rows looked at per pruning transaction (the oldest first). Default 1000. */
  inboxPruneChunk?: number;
  /** Clock (ms since the epoch) of inbox rows, pruning, DLQ headers and the last failure. Default Date.now. */
  now?: () => number;
  /** Runs each handler in a `process` span, child of its event's trace context (docs/tracing.md). */
  tracing?: Tracing;
}

export const subscriptionDefaults = {
  ...consumeDefaults,
  fromBeginning: false,
  inboxRetentionMs: 7 * 24 * 60 * 60 * 1000,
  inboxPruneIntervalMs: 60 * 60 * 1000,
  inboxPruneChunk: 1000,
  parkByKey: true,
} satisfies Partial<SubscribeOptions>;

/** A subscription of `handlers` to `topics` for `group`; call start() to join. */
export function subscribe<H extends EventHandlers<Db>, Db = SqliteDatabase>(options: SubscribeOptions<H, Db>): Subscription {
  return new Subscription(options as unknown as SubscribeOptions<EventHandlers<unknown>, unknown>);
}

export class Subscription {
  readonly group: string;
  readonly dlqTopic: string;
  private readonly options: SubscribeOptions<EventHandlers<unknown>, unknown>;
  private readonly logger: ShoalLogger;
  private readonly now: () => number;
  private readonly inbox: Inbox;
  private readonly deadLetters: DeadLetterQueue;
  private readonly counters = new RuntimeCounters();
  private readonly parkedKeys: ParkedKeys | undefined;
  private readonly parking: ParkedRecords | undefined;
  private readonly loop: ConsumerLoop;
  private opening = false;
  private failure: unknown;
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private readonly stopped: Promise<void>;
  private settleStopped!: (failure: unknown) => void;
  private pruneTimer: NodeJS.Timeout | undefined;
  private pruning: Promise<number> | undefined;
  private tables: Promise<void> | undefined;
  private readonly stopSignal = new AbortController();

  constructor(options: SubscribeOptions<EventHandlers<unknown>, unknown>) {
    this.options = options;
    this.group = options.group;
    const handlers = handlerMap(options);
    this.dlqTopic = options.dlqTopic ?? `${options.group}.dlq`;
    if (options.topics.includes(this.dlqTopic)) throw configInvalid(options.group, `it cannot consume its own dead-letter topic ${this.dlqTopic}`);
    this.logger = (options.logger ?? silentLogger).child({ module: 'consumer', group: options.group });
    this.now = options.now ?? Date.now;
    this.inbox = new Inbox(options.group, this.now, options.database.sql.dialect);
    this.deadLetters = new DeadLetterQueue(options.kafka, this.dlqTopic);
    const { kafka, codec, topics, recordsPerTransaction, partitionsInFlight, retry, commitIntervalMs, consumer } = options;
    const parking = (options.parkByKey ?? subscriptionDefaults.parkByKey) ? new ParkedRecords(options.group, options.database.sql.dialect) : undefined;
    this.parking = parking;
    const handler = new InboxHandler({
      group: options.group,
      database: options.database,
      handlers,
      inbox: this.inbox,
      deadLetters: this.deadLetters,
      parking,
      counters: this.counters,
      logger: this.logger,
      now: this.now,
      tracing: options.tracing,
      ...(options.prepare === undefined ? {} : { prepare: options.prepare }),
      ...(options.prepareConcurrency === undefined ? {} : { prepareConcurrency: options.prepareConcurrency }),
    });
    if (parking !== undefined) {
      this.parkedKeys = new ParkedKeys({
        group: options.group,
        database: options.database,
        parking,
        handler,
        codec,
        deadLetters: this.deadLetters,
        counters: this.counters,
        logger: this.logger,
        now: this.now,
      });
    }
    this.loop = new ConsumerLoop({
      recordsPerTransaction,
      partitionsInFlight,
      retry,
      commitIntervalMs,
      consumer,
      kafka,
      codec,
      topics,
      groupId: options.group,
      fromBeginning: options.fromBeginning ?? subscriptionDefaults.fromBeginning,
      logger: this.logger,
      now: this.now,
      handler,
    });
    this.stopped = new Promise<void>((resolve, reject) => {
      this.settleStopped = (failure) => (failure === undefined ? resolve() : reject(failure));
    });
    // The failure is for whoever calls whenStopped(); without such a caller it must not be an unhandled rejection.
    this.stopped.catch(() => undefined);
    // The loop stops on its own on a crash kafkajs does not restart from: the subscription goes with it.
    this.loop.whenStopped().catch((error: unknown) => this.fail(error));
  }

  /** Joins the group and starts consuming; resolves once the member has joined (or stop() was called first). */
  start(): Promise<void> {
    if (this.starting !== undefined || this.loop.status().state !== 'new') return Promise.reject(configInvalid(this.group, 'it was already started; make a new one with subscribe()'));
    this.opening = true;
    this.starting = this.join();
    return this.starting;
  }

  private async join(): Promise<void> {
    try {
      await this.tablesWaitingOutages();
      if (this.stopping !== undefined) {
        this.opening = false;
        return;
      }
      if (this.parking !== undefined) this.counters.parking = await this.parking.counts(this.options.database.sql);
      await this.deadLetters.open();
      this.opening = false;
      if (this.stopping !== undefined) return;
      await this.loop.start();
    } catch (error) {
      this.opening = false;
      this.fail(error);
      throw error;
    }
    if (this.stopping !== undefined) return;
    this.schedulePruning();
    this.logger.info({ topics: this.options.topics, dlqTopic: this.dlqTopic }, `consumer ${this.group} joined`);
  }

  /** Stops gracefully (see the file comment). Idempotent; rejects if leaving the group failed. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      clearInterval(this.pruneTimer);
      this.stopSignal.abort();
      await this.starting?.catch(() => undefined);
      try {
        await this.loop.stop();
      } finally {
        try {
          await this.deadLetters.close();
          await this.pruning?.catch(() => undefined);
        } finally {
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
    const loop = this.loop.status();
    const state: ConsumerState = this.opening && loop.state === 'new' ? 'starting' : loop.state;
    return {
      group: this.group,
      dlqTopic: this.dlqTopic,
      state,
      connected: loop.connected,
      joined: loop.joined,
      handled: this.counters.handled,
      duplicates: this.counters.duplicates,
      skipped: loop.skipped,
      skippedByType: loop.skippedByType,
      deadLettered: this.counters.deadLettered,
      parked: this.counters.parked,
      parking: { ...this.counters.parking },
      retries: loop.retries,
      outageRetries: loop.outageRetries,
      partitions: loop.partitions,
      handlerLatency: this.counters.latency(),
      lastFailure: loop.lastFailure,
    };
  }

  /** The group's dead letters, each with the records parked behind it (none without parkByKey). */
  async deadLetterList(): Promise<DlqDeadLetter[]> {
    if (this.parkedKeys === undefined) return [];
    await this.tablesCreated();
    return this.parkedKeys.list();
  }

  /** The keys the group holds back. */
  async blockedKeys(): Promise<string[]> {
    if (this.parkedKeys === undefined) return [];
    await this.tablesCreated();
    return this.parkedKeys.keys();
  }

  /**
   * Runs the handler again on the key's dead letter, then on the records parked behind it, in order
   * (parked-keys.ts); undefined when the group holds nothing back for the key. It works whether or not the
   * subscription is running: the records are in the database. Rejects on an outage (nothing changed then).
   */
  async redrive(key: string): Promise<DlqRedriveResult | undefined> {
    if (this.parkedKeys === undefined) return undefined;
    await this.tablesCreated();
    return this.parkedKeys.redrive(key);
  }

  /** Drops the key's dead letter (it stays in the dead-letter topic) and releases the records parked behind it, in order; undefined when the group holds nothing back for the key. */
  async skip(key: string): Promise<DlqSkipResult | undefined> {
    if (this.parkedKeys === undefined) return undefined;
    await this.tablesCreated();
    return this.parkedKeys.skip(key);
  }

  /**
   * Deletes the group's inbox rows older than the retention window now; returns how many. It also runs on its
   * own every `inboxPruneIntervalMs` while the subscription runs.
   */
  pruneInbox(): Promise<number> {
    this.pruning ??= this.tablesCreated()
      .then(() =>
        pruneInbox(
          this.options.database,
          this.inbox,
          this.now() - (this.options.inboxRetentionMs ?? subscriptionDefaults.inboxRetentionMs),
          this.options.inboxPruneChunk ?? subscriptionDefaults.inboxPruneChunk,
        ),
      )
      .finally(() => {
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

  /** The inbox and parked records tables, created once (consumer-tables.ts); tried again after a failure (the database was away). */
  private tablesCreated(): Promise<void> {
    this.tables ??= createConsumerTables(this.options.database).catch((error: unknown) => {
      this.tables = undefined;
      throw error;
    });
    return this.tables;
  }

  /**
   * The tables, waiting out an outage of the database (busy, unreachable) with the retry backoff until they
   * are there or the subscription stops: a service started while its database is away joins once it is back.
   */
  private async tablesWaitingOutages(): Promise<void> {
    const retry = { ...consumeDefaults.retry, ...this.options.retry };
    for (let outages = 1; ; outages++) {
      try {
        await this.tablesCreated();
        return;
      } catch (error) {
        if (this.stopping !== undefined) return;
        if (failureKind(error) !== 'outage') throw error;
        if (outages === 1 || outages % 20 === 0) this.logger.warn({ outages, err: error }, `consumer ${this.group} waits for its database to create its tables: ${(error as Error).message}`);
        await sleep(backoffDelay(outages, retry), this.stopSignal.signal);
      }
    }
  }

  /** Stops with `error`; the stop is not awaited (from inside the loop it would wait for itself). */
  private fail(error: unknown): void {
    this.failure ??= error;
    void this.stop().catch(() => undefined);
  }
}

function handlerMap(options: SubscribeOptions<EventHandlers<unknown>, unknown>): Map<string, AnyEventHandler> {
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
