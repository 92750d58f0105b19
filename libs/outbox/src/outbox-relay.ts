/**
 * OutboxRelay: publishes the rows of a service database's `outbox` table (outbox-table.ts) to Kafka, in commit
 * order, and marks them sent (DESIGN.md §3).
 *
 * One loop, never two batches in flight: read the first `batchSize` unsent rows by sequence (commit order,
 * since SQLite has one writer at a time), publish them with ONE Publisher call (an idempotent producer with one
 * request in flight, so a partition receives them in that order; the events of one aggregate share a key,
 * hence a partition), then mark exactly that sequence range sent in one UPDATE. Rows committed while a batch
 * is in flight make up the next batch, so batches grow with the load and a quiet service publishes each commit
 * at once. The loop is woken in-process by `ServiceDatabase.onCommit`; writes by other processes are found by
 * polling every `pollIntervalMs`.
 *
 * At-least-once by construction: a row is marked only after the broker acknowledged it, so a crash between
 * the two publishes the same events (same ids) again on the next start, and consumers deduplicate by id
 * (their inbox). Nothing is ever skipped: a failure keeps every row unsent and the next attempt starts again
 * from the first unsent row, after a backoff. While the broker is away, the idempotent producer itself keeps
 * retrying the batch in flight (kafkajs does not limit an idempotent producer's retries), which
 * `status().publishingSince` shows; a send that does fail, a failed connect or a registry outage while
 * encoding is retried by the relay.
 *
 * An event that cannot be encoded (its schema is not registered, its data no longer fits the writer schema)
 * does not get skipped either, since skipping it would break the order of its aggregate and lose it silently:
 * the rows before it are published, then the relay stops at it, logs it at error with its id, shows it in
 * `status().lastError` and retries with backoff until it can be encoded (e.g. once the schema is
 * registered). The whole outbox waits behind it, not only its aggregate: commit order is the only order the
 * relay knows, and a blocked outbox is what the alert on `lastError` is for.
 *
 * Sent rows are kept `retentionMs` (for inspection and CDC) and deleted in chunks of `pruneChunkSize`, one
 * chunk per loop turn, so pruning never holds the write lock for long. Run one relay per database: two would
 * both publish every row.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type Database from 'better-sqlite3';
import type { Kafka } from 'kafkajs';
import { backoffDelay, isShoalError, ShoalError, silentLogger, sleep, type BackoffOptions, type ShoalLogger } from '@shoal/core';
import { Publisher, type EventCodec, type PublisherOptions, type PublishRecord } from '@shoal/events';
import { eventOfRow, type OutboxRow } from './outbox-table.js';
import type { ServiceDatabase } from './service-database.js';

export interface OutboxRelayOptions {
  database: ServiceDatabase;
  kafka: Kafka;
  /** Encodes the events; keep one codec per process so it stays warm. */
  codec: EventCodec;
  /** Most rows published in one batch. Default 500. */
  batchSize?: number;
  /** How often the outbox is read when no in-process commit woke the relay (writes by other processes), ms. Default 250. */
  pollIntervalMs?: number;
  /** How long sent rows are kept before they are pruned, ms. Default 24 h. */
  retentionMs?: number;
  /** How often expired rows are looked for, ms. Default 60 s. */
  pruneIntervalMs?: number;
  /** Most rows deleted by one prune statement. Default 1000. */
  pruneChunkSize?: number;
  /** Delays between attempts after a failure. Default 100 ms doubling up to 30 s, full jitter. */
  backoff?: BackoffOptions;
  /** How long `stop` waits for a drain and then for the batch in flight, ms. Default 10 s. */
  stopTimeoutMs?: number;
  /** Further kafkajs producer settings (the Publisher keeps idempotence and ordering its own). */
  producer?: PublisherOptions['producer'];
  logger?: ShoalLogger;
  /** The clock of `sent_at`, retention and status times. Default Date.now. */
  now?: () => number;
}

export interface OutboxRelayError {
  code: string;
  message: string;
  retriable: boolean;
  /** The event the relay is stuck at, when one event is the cause (it cannot be encoded). */
  eventId: string | undefined;
  at: number;
}

export interface OutboxRelayStatus {
  state: 'new' | 'running' | 'stopping' | 'stopped';
  /** Rows not yet acknowledged by the broker. */
  backlog: number;
  /** `created_at` of the oldest unsent row, undefined when there is none: the relay's lag. */
  oldestUnsentAt: number | undefined;
  /** Events this relay has published and marked sent since it started. */
  published: number;
  lastPublishedAt: number | undefined;
  /** When the batch in flight was read, undefined when none is: a batch in flight for long means the broker does not answer. */
  publishingSince: number | undefined;
  /** Failed attempts since the last success; 0 when the relay is healthy. */
  consecutiveFailures: number;
  /** The most recent failure, kept after recovery. */
  lastError: OutboxRelayError | undefined;
}

export interface StopOptions {
  /** Publish everything committed so far before stopping (bounded by `stopTimeoutMs`). */
  drain?: boolean;
}

const defaultOptions = {
  batchSize: 500,
  pollIntervalMs: 250,
  retentionMs: 24 * 60 * 60 * 1000,
  pruneIntervalMs: 60_000,
  pruneChunkSize: 1000,
  backoff: { initialMs: 100, maxMs: 30_000 },
  stopTimeoutMs: 10_000,
  logger: silentLogger,
  now: Date.now,
} satisfies Partial<OutboxRelayOptions>;

type RelayRow = Pick<OutboxRow, 'sequence' | 'id' | 'aggregateid' | 'topic' | 'headers' | 'payload'>;

interface Waiter {
  /** Resolve once every row up to this sequence is sent; undefined = once a read finds no unsent row. */
  through: number | undefined;
  resolve: () => void;
  reject: (error: unknown) => void;
}

type Outcome = 'empty' | 'published' | 'failed';

export class OutboxRelay {
  private readonly options: Required<Omit<OutboxRelayOptions, 'producer'>>;
  private readonly db: Database.Database;
  private readonly publisher: Publisher;
  private readonly logger: ShoalLogger;
  private readonly statements: ReturnType<typeof prepareStatements>;

  private state: OutboxRelayStatus['state'] = 'new';
  private loop: Promise<void> | undefined;
  private stopped: Promise<void> | undefined;
  private readonly stopSignal = new AbortController();
  private unsubscribe: (() => void) | undefined;
  /** A commit (or a caller) asked for a read since the loop last started one. */
  private woken = false;
  /** Ends the loop's idle wait early. */
  private wakeUp: (() => void) | undefined;
  private waiters: Waiter[] = [];
  private nextPruneAt = 0;

  private published = 0;
  private lastPublishedAt: number | undefined;
  private publishingSince: number | undefined;
  private consecutiveFailures = 0;
  private lastError: OutboxRelayError | undefined;

  constructor(options: OutboxRelayOptions) {
    this.options = { ...defaultOptions, ...withoutUndefined(options) } as Required<Omit<OutboxRelayOptions, 'producer'>>;
    validate(this.options);
    this.db = options.database.db;
    this.logger = this.options.logger.child({ module: 'outbox-relay' });
    this.publisher = new Publisher({ kafka: options.kafka, codec: options.codec, ...(options.producer === undefined ? {} : { producer: options.producer }) });
    this.statements = prepareStatements(this.db);
  }

  /** Starts the loop. It connects in the background (retrying with backoff), so a broker that is down does not fail a service's start. */
  start(): void {
    if (this.state === 'running') return;
    if (this.state !== 'new') throw new ShoalError('SHOAL_SERVICE_UNAVAILABLE', 'This outbox relay was stopped: create a new one');
    this.state = 'running';
    this.unsubscribe = this.options.database.onCommit(() => this.wake());
    this.loop = this.run();
  }

  /**
   * Stops gracefully: the batch in flight is finished and marked, then the producer disconnects. With
   * `drain`, everything committed before the call is published first. Each wait is bounded by
   * `stopTimeoutMs`; rows left unsent then are published by the next relay on this database.
   */
  stop(options: StopOptions = {}): Promise<void> {
    if (this.state === 'new') this.state = 'stopped';
    this.stopped ??= this.state === 'stopped' ? Promise.resolve() : this.shutDown(options);
    return this.stopped;
  }

  /** Resolves once every row committed before the call is published and marked sent. */
  flush(): Promise<void> {
    if (this.state !== 'running') return this.notRunning();
    const last = (this.statements.lastUnsent.get() as { sequence: number | null }).sequence;
    return last === null ? Promise.resolve() : this.waitFor(last);
  }

  /** Resolves the next time the relay reads the outbox and finds nothing unsent (e.g. for tests and benchmarks). */
  whenIdle(): Promise<void> {
    if (this.state !== 'running') return this.notRunning();
    return this.waitFor(undefined);
  }

  status(): OutboxRelayStatus {
    const oldest = this.statements.oldestUnsent.get() as { created_at: number } | undefined;
    return {
      state: this.state,
      backlog: this.backlog(),
      oldestUnsentAt: oldest?.created_at,
      published: this.published,
      lastPublishedAt: this.lastPublishedAt,
      publishingSince: this.publishingSince,
      consecutiveFailures: this.consecutiveFailures,
      lastError: this.lastError,
    };
  }

  /**
   * Deletes every row sent more than `retentionMs` ago, a chunk per statement with a turn of the event loop
   * between chunks; returns how many. The running relay does this by itself every `pruneIntervalMs`.
   */
  async prune(): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted = this.pruneChunk();
      total += deleted;
      if (deleted < this.options.pruneChunkSize) return total;
      await nextTurn();
    }
  }

  private async shutDown(options: StopOptions): Promise<void> {
    if (options.drain === true) {
      const drained = await within(this.flush(), this.options.stopTimeoutMs);
      if (!drained) this.logger.warn({ backlog: this.backlog() }, `The outbox was not drained within ${this.options.stopTimeoutMs} ms; the next relay publishes what is left`);
    }
    this.state = 'stopping';
    this.unsubscribe?.();
    this.stopSignal.abort();
    this.wakeUp?.();
    const finished = await within(this.loop ?? Promise.resolve(), this.options.stopTimeoutMs);
    if (!finished) this.logger.warn({ publishingSince: this.publishingSince }, `The batch in flight was not acknowledged within ${this.options.stopTimeoutMs} ms; it stays unsent and will be published again`);
    const disconnect = this.publisher.disconnect().catch((error: unknown) => this.logger.warn({ err: error }, 'Disconnecting the producer failed'));
    if (!(await within(disconnect, this.options.stopTimeoutMs))) this.logger.warn({}, 'The producer did not disconnect in time');
    this.state = 'stopped';
    this.settle(Number.POSITIVE_INFINITY, new ShoalError('SHOAL_SERVICE_UNAVAILABLE', 'The outbox relay stopped'));
  }

  private wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  private waitFor(through: number | undefined): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiters.push({ through, resolve, reject });
      this.wake();
    });
  }

  private notRunning(): Promise<never> {
    return Promise.reject(new ShoalError('SHOAL_SERVICE_UNAVAILABLE', `The outbox relay is ${this.state}, not running`));
  }

  private async run(): Promise<void> {
    if (!(await this.connect())) return;
    while (this.state === 'running') {
      this.woken = false;
      const outcome = await this.publishNextBatch();
      if (this.state !== 'running') break;
      if (outcome === 'failed') {
        await sleep(backoffDelay(this.consecutiveFailures, this.options.backoff), this.stopSignal.signal);
        continue;
      }
      const morePruning = this.pruneIfDue();
      if (outcome === 'empty') {
        this.settle(Number.POSITIVE_INFINITY);
        if (!morePruning) await this.idle();
      }
    }
  }

  private async connect(): Promise<boolean> {
    while (this.state === 'running') {
      try {
        await this.publisher.connect();
        this.consecutiveFailures = 0;
        return true;
      } catch (error) {
        this.recordFailure(error);
        await sleep(backoffDelay(this.consecutiveFailures, this.options.backoff), this.stopSignal.signal);
      }
    }
    return false;
  }

  /** Never throws: a failure is recorded and the rows stay unsent. */
  private async publishNextBatch(): Promise<Outcome> {
    let rows: RelayRow[];
    try {
      rows = this.statements.unsent.all(this.options.batchSize) as RelayRow[];
    } catch (error) {
      this.recordFailure(error);
      return 'failed';
    }
    if (rows.length === 0) return 'empty';
    this.publishingSince = this.options.now();
    try {
      await this.publishRows(rows);
      return 'published';
    } catch (error) {
      this.recordFailure(error);
      return 'failed';
    } finally {
      this.publishingSince = undefined;
    }
  }

  private async publishRows(rows: readonly RelayRow[]): Promise<void> {
    const records = rows.map(recordOfRow);
    try {
      await this.publisher.publishRecords(records);
    } catch (error) {
      // One event cannot be encoded: publish the ones before it, so only it and what follows it wait.
      const blockedAt = encodeFailureIndex(error);
      if (blockedAt !== undefined && blockedAt > 0) {
        await this.publisher.publishRecords(records.slice(0, blockedAt));
        this.markSent(rows.slice(0, blockedAt));
      }
      throw error;
    }
    this.markSent(rows);
  }

  private markSent(rows: readonly RelayRow[]): void {
    const first = rows[0]!.sequence;
    const last = rows[rows.length - 1]!.sequence;
    const now = this.options.now();
    // Sequences are handed out in commit order, so no row can commit later inside the range just read.
    this.statements.markSent.run(now, first, last);
    this.published += rows.length;
    this.lastPublishedAt = now;
    this.consecutiveFailures = 0;
    this.settle(last);
  }

  /** Resolves the waiters satisfied once every row up to `sentThrough` is sent (Infinity: no row is unsent), or rejects them all. */
  private settle(sentThrough: number, error?: unknown): void {
    const waiting: Waiter[] = [];
    for (const waiter of this.waiters) {
      if (error !== undefined) waiter.reject(error);
      else if (sentThrough === Number.POSITIVE_INFINITY || (waiter.through !== undefined && waiter.through <= sentThrough)) waiter.resolve();
      else waiting.push(waiter);
    }
    this.waiters = waiting;
  }

  private recordFailure(error: unknown): void {
    this.consecutiveFailures += 1;
    const shoalError = isShoalError(error) ? error : undefined;
    const eventId = shoalError?.details?.['eventId'];
    this.lastError = {
      code: shoalError?.code ?? (error as { name?: string } | null)?.name ?? 'Error',
      message: (error as Error | null)?.message ?? String(error),
      retriable: shoalError?.retriable ?? true,
      eventId: typeof eventId === 'string' ? eventId : undefined,
      at: this.options.now(),
    };
    const details = { err: error, eventId: this.lastError.eventId, attempt: this.consecutiveFailures };
    if (shoalError !== undefined && !shoalError.retriable) {
      this.logger.error(details, `Outbox publishing is blocked${this.lastError.eventId === undefined ? '' : ` at event ${this.lastError.eventId}`}: ${this.lastError.message}; retrying with backoff`);
    } else {
      this.logger.warn(details, `Publishing the outbox failed, retrying with backoff: ${this.lastError.message}`);
    }
  }

  /** Deletes one chunk if pruning is due; true when the chunk was full, so more may be due at once. */
  private pruneIfDue(): boolean {
    const now = this.options.now();
    if (now < this.nextPruneAt) return false;
    let deleted: number;
    try {
      deleted = this.pruneChunk();
    } catch (error) {
      this.logger.warn({ err: error }, 'Pruning the outbox failed; retrying at the next interval');
      deleted = 0;
    }
    if (deleted < this.options.pruneChunkSize) this.nextPruneAt = now + this.options.pruneIntervalMs;
    if (deleted > 0) this.logger.debug({ deleted }, 'Pruned sent outbox rows');
    return deleted === this.options.pruneChunkSize;
  }

  private pruneChunk(): number {
    return this.statements.prune.run(this.options.now() - this.options.retentionMs, this.options.pruneChunkSize).changes;
  }

  /** Until a commit wakes the relay, the poll interval passes or the relay stops. */
  private idle(): Promise<void> {
    if (this.woken || this.state !== 'running') return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, this.options.pollIntervalMs);
      this.wakeUp = done;
    });
  }

  private backlog(): number {
    return (this.statements.backlog.get() as { backlog: number }).backlog;
  }
}

function prepareStatements(db: Database.Database) {
  return {
    unsent: db.prepare('SELECT sequence, id, aggregateid, topic, headers, payload FROM outbox WHERE sent_at IS NULL ORDER BY sequence LIMIT ?'),
    markSent: db.prepare('UPDATE outbox SET sent_at = ? WHERE sequence BETWEEN ? AND ? AND sent_at IS NULL'),
    lastUnsent: db.prepare('SELECT MAX(sequence) AS sequence FROM outbox WHERE sent_at IS NULL'),
    oldestUnsent: db.prepare('SELECT created_at FROM outbox WHERE sent_at IS NULL ORDER BY sequence LIMIT 1'),
    backlog: db.prepare('SELECT COUNT(*) AS backlog FROM outbox WHERE sent_at IS NULL'),
    prune: db.prepare(
      'DELETE FROM outbox WHERE sequence IN (SELECT sequence FROM outbox WHERE sent_at IS NOT NULL AND sent_at <= ? ORDER BY sent_at LIMIT ?)',
    ),
  };
}

function recordOfRow(row: RelayRow): PublishRecord {
  let event: PublishRecord['event'];
  try {
    event = eventOfRow(row);
  } catch (cause) {
    throw new ShoalError('SHOAL_EVENT_DECODE', `Outbox row ${row.sequence} (event ${row.id}) does not hold JSON: ${(cause as Error).message}`, {
      cause,
      details: { eventId: row.id, sequence: row.sequence },
    });
  }
  // The key the outbox recorded (partitionkey, else subject), so an event without partitionkey stays with its aggregate.
  return { event, topic: row.topic, key: row.aggregateid };
}

function encodeFailureIndex(error: unknown): number | undefined {
  const index = isShoalError(error) ? error.details?.['index'] : undefined;
  return typeof index === 'number' ? index : undefined;
}

/** Whether `promise` settled within `ms` (its rejection counts as settled). */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true, () => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function validate(options: Required<Omit<OutboxRelayOptions, 'producer'>>): void {
  const positive = { batchSize: options.batchSize, pollIntervalMs: options.pollIntervalMs, pruneIntervalMs: options.pruneIntervalMs, pruneChunkSize: options.pruneChunkSize, stopTimeoutMs: options.stopTimeoutMs };
  for (const [name, value] of Object.entries(positive)) {
    if (!Number.isInteger(value) || value <= 0) throw new ShoalError('SHOAL_CONFIG_INVALID', `OutboxRelay option ${name} must be a positive integer, got ${value}`);
  }
  if (!Number.isFinite(options.retentionMs) || options.retentionMs < 0) {
    throw new ShoalError('SHOAL_CONFIG_INVALID', `OutboxRelay option retentionMs must be a finite number of ms >= 0, got ${options.retentionMs}`);
  }
}

function withoutUndefined<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}
