/**
 * OutboxRelay: publishes the rows of a service database's `outbox` table (outbox-table.ts) to Kafka, in commit
 * order, and moves the relay's position past them (docs/reference/outbox.md).
 *
 * One loop, never two batches in flight: read the first `batchSize` rows above the position by sequence
 * (commit order, since SQLite has one writer at a time), publish them with ONE Publisher call (an idempotent
 * producer with one request in flight, so a partition receives them in that order; the events of one
 * aggregate share a key, hence a partition), then set the position to the batch's last sequence with one
 * single-row UPDATE. That is exact: a row committed later always gets a larger sequence, so none can appear
 * below the position. Rows committed while a batch is in flight make up the next batch, so batches grow with
 * the load and a quiet service publishes each commit at once. The loop is woken in-process by
 * `ServiceDatabase.onCommit`; writes by other processes are found by polling every `pollIntervalMs`.
 *
 * The relay is CPU-bound under load (kafkajs's encoding is most of it), and the broker's round trip is time
 * it would spend waiting: while a full batch is in flight, the rows after it are read and parsed, so the
 * next send starts as soon as the acknowledgement arrives. They are only read ahead; nothing is sent before
 * the acknowledgement, and a failure discards them.
 *
 * At-least-once by construction: the position moves only after the broker acknowledged, so a crash between
 * the two publishes the same events (same ids) again on the next start, and consumers deduplicate by id
 * (their inbox). Nothing is ever skipped: a failure leaves the position where it is and the next attempt
 * starts again from it, after a backoff. While the broker is away, the idempotent producer itself keeps
 * retrying the batch in flight (kafkajs does not limit an idempotent producer's retries), which
 * `status().publishingSince` shows; a send that does fail, a failed connect or a registry outage while
 * encoding is retried by the relay.
 *
 * An event that cannot be encoded (its schema is not registered, its data no longer fits the writer schema,
 * its row does not hold JSON) does not get skipped either, since skipping it would break the order of its
 * aggregate and lose it silently: the rows before it are published, then the relay stops at it, logs it at
 * error with its id, shows it in `status().lastError` and retries with backoff until it can be encoded (e.g.
 * once the schema is registered). The whole outbox waits behind it, not only its aggregate: commit order is
 * the only order the relay knows, and a blocked outbox is what the alert on `lastError` is for.
 *
 * Published rows are kept `retentionMs` after their commit (for inspection and CDC) and deleted in chunks of
 * `pruneChunkSize` by sequence, one chunk per loop turn, so pruning never holds the write lock for long.
 *
 * Several instances of a service on one database each run a relay, and one of them publishes: the one that
 * holds the outbox's lease (@shoal/store's sql-outbox-table.ts). A relay takes the lease when it is free or
 * expired, renews it every third of `leaseTtlMs`, and publishes only while it holds it; the others stand by,
 * trying every `leaseRetryMs`. When the holder dies (kill -9) its lease expires and a standby takes over
 * within `leaseTtlMs + leaseRetryMs`; a graceful stop gives the lease up at once. The position moves only
 * with the lease's epoch, so a relay that lost its lease (stalled past its expiry) cannot move it: what it
 * still had in flight is published twice at most, which the consumers' inbox absorbs.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Kafka } from 'kafkajs';
import { backoffDelay, definedOnly, isShoalError, settlesWithin, ShoalError, silentLogger, sleep, type BackoffOptions, type ShoalLogger } from '@shoal/core';
import { type EventCodec } from '@shoal/contract';
import { Publisher, type PublisherOptions, type PublishRecord } from '@shoal/transport';
import { eventOfRow, type OutboxTable, type RelayRow, type ServiceDatabase } from '@shoal/store';
import type { Tracing } from '@shoal/telemetry';

export interface OutboxRelayOptions {
  database: ServiceDatabase;
  kafka: Kafka;
  /** Encodes the events; keep one codec per process so it stays warm. */
  codec: EventCodec;
  /** Most rows published in one batch. Default 500. */
  batchSize?: number;
  /** How often the outbox is read when no in-process commit woke the relay (writes by other processes), ms. Default 250. */
  pollIntervalMs?: number;
  /** How long published rows are kept after their commit (`created_at`) before they are pruned, ms. Default 24 h. */
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
  /** How long the outbox's lease lasts unless renewed, ms; a standby takes over a dead holder's after it. Default 3000. */
  leaseTtlMs?: number;
  /** How often a standby relay tries to take the lease, ms. Default 500. */
  leaseRetryMs?: number;
  /** This relay's name in the lease. Default: host, process id and a random suffix. */
  owner?: string;
  /** The clock of the position's `updated_at`, the lease, retention and status times. Default Date.now. */
  now?: () => number;
  /** A `send` span per published event, child of the trace context its row holds (docs/tracing.md). */
  tracing?: Tracing;
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
  /** Rows above the relay's position: not yet acknowledged by the broker. */
  backlog: number;
  /** `created_at` of the oldest row above the position, undefined when there is none: the relay's lag. */
  oldestUnsentAt: number | undefined;
  /** Events this relay has published (and moved its position past) since it started. */
  published: number;
  lastPublishedAt: number | undefined;
  /** When the batch in flight was read, undefined when none is: a batch in flight for long means the broker does not answer. */
  publishingSince: number | undefined;
  /** Failed attempts since the last success; 0 when the relay is healthy. */
  consecutiveFailures: number;
  /** The most recent failure, kept after recovery. */
  lastError: OutboxRelayError | undefined;
  /** Whether this relay holds the outbox's lease (publishes) or stands by for another instance's. */
  lease: 'held' | 'standby';
  /** The epoch of the lease this relay holds, undefined when it stands by. */
  epoch: number | undefined;
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
  leaseTtlMs: 3000,
  leaseRetryMs: 500,
  logger: silentLogger,
  now: Date.now,
} satisfies Partial<OutboxRelayOptions>;

/** Rows read in commit order, turned into what the Publisher sends. */
interface Batch {
  records: PublishRecord[];
  /** The sequence of each record. */
  sequences: number[];
  /** As many rows as were asked for: the outbox may hold more. */
  full: boolean;
  /** Why the row after the last record cannot become an event (it does not hold JSON); undefined when none. */
  blocked: unknown;
}

interface Waiter {
  /** Resolve once every row up to this sequence is published; undefined = once a read finds no row above the position. */
  through: number | undefined;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class OutboxRelay {
  private readonly options: Required<Omit<OutboxRelayOptions, 'producer' | 'tracing'>>;
  private readonly tracing: Tracing | undefined;
  private readonly publisher: Publisher;
  private readonly logger: ShoalLogger;
  private readonly position: OutboxTable;

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
  /** The lease's epoch while this relay holds it. */
  private epoch: number | undefined;
  /** When the held lease is renewed next. */
  private renewLeaseAt = 0;

  constructor(options: OutboxRelayOptions) {
    this.options = { ...defaultOptions, owner: `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`, ...definedOnly(options) } as Required<Omit<OutboxRelayOptions, 'producer' | 'tracing'>>;
    this.tracing = options.tracing;
    validate(this.options);
    this.logger = this.options.logger.child({ module: 'outbox-relay' });
    this.publisher = new Publisher({ kafka: options.kafka, codec: options.codec, ...(options.producer === undefined ? {} : { producer: options.producer }) });
    this.position = options.database.outbox;
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
   * Stops gracefully: the batch in flight is finished and the position moved past it, then the producer
   * disconnects. With `drain`, everything committed before the call is published first. Each wait is bounded
   * by `stopTimeoutMs`; rows left above the position then are published by the next relay on this database.
   */
  stop(options: StopOptions = {}): Promise<void> {
    if (this.state === 'new') this.state = 'stopped';
    this.stopped ??= this.state === 'stopped' ? Promise.resolve() : this.shutDown(options);
    return this.stopped;
  }

  /** Resolves once every row committed before the call is published and the position moved past it. */
  async flush(): Promise<void> {
    if (this.state !== 'running') return this.notRunning();
    const last = await this.position.lastSequence();
    if (last <= (await this.position.publishedThrough())) return;
    if (this.state !== 'running') return this.notRunning();
    return this.waitFor(last);
  }

  /** Resolves the next time the relay reads the outbox and finds nothing above its position (e.g. for tests and benchmarks). */
  whenIdle(): Promise<void> {
    if (this.state !== 'running') return this.notRunning();
    return this.waitFor(undefined);
  }

  async status(): Promise<OutboxRelayStatus> {
    const { backlog, oldestUnsentAt } = await this.position.backlog();
    return {
      state: this.state,
      backlog,
      oldestUnsentAt,
      published: this.published,
      lastPublishedAt: this.lastPublishedAt,
      publishingSince: this.publishingSince,
      consecutiveFailures: this.consecutiveFailures,
      lastError: this.lastError,
      lease: this.epoch === undefined ? 'standby' : 'held',
      epoch: this.epoch,
    };
  }

  /**
   * Deletes the published rows committed more than `retentionMs` ago, a chunk per statement with a turn of
   * the event loop between chunks; returns how many. The running relay does this by itself every
   * `pruneIntervalMs`.
   */
  async prune(): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted = await this.pruneChunk();
      total += deleted;
      if (deleted < this.options.pruneChunkSize) return total;
      await nextTurn();
    }
  }

  private async shutDown(options: StopOptions): Promise<void> {
    if (options.drain === true) {
      const drained = await settlesWithin(this.flush(), this.options.stopTimeoutMs);
      if (!drained) this.logger.warn({ backlog: (await this.position.backlog().catch(() => undefined))?.backlog }, `The outbox was not drained within ${this.options.stopTimeoutMs} ms; the next relay publishes what is left`);
    }
    this.state = 'stopping';
    this.unsubscribe?.();
    this.stopSignal.abort();
    this.wakeUp?.();
    const finished = await settlesWithin(this.loop ?? Promise.resolve(), this.options.stopTimeoutMs);
    if (!finished) this.logger.warn({ publishingSince: this.publishingSince }, `The batch in flight was not acknowledged within ${this.options.stopTimeoutMs} ms; its rows stay above the position and will be published again`);
    if (this.epoch !== undefined) {
      this.epoch = undefined;
      await this.position.releaseLease(this.options.owner).catch((error: unknown) => this.logger.warn({ err: error }, 'Giving up the outbox lease failed; it expires by itself'));
    }
    const disconnect = this.publisher.disconnect().catch((error: unknown) => this.logger.warn({ err: error }, 'Disconnecting the producer failed'));
    if (!(await settlesWithin(disconnect, this.options.stopTimeoutMs))) this.logger.warn({}, 'The producer did not disconnect in time');
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
    /** The rows after the batch last sent, read while it was in flight. */
    let ahead: Batch | undefined;
    while (this.state === 'running') {
      if (!(await this.holdLease())) {
        ahead = undefined;
        await this.standBy();
        continue;
      }
      this.woken = false;
      let batch: Batch;
      try {
        batch = await this.nextBatch(ahead);
      } catch (error) {
        ahead = undefined;
        await this.failed(error);
        continue;
      }
      ahead = undefined;
      if (batch.records.length === 0 && batch.blocked === undefined) {
        this.settle(Number.POSITIVE_INFINITY);
        if (!(await this.pruneIfDue())) await this.idle();
        continue;
      }
      this.publishingSince = this.options.now();
      // Settled into a value at once: its rejection must not count as unhandled while the rows after it are read.
      const sent = this.publish(batch).then(
        () => undefined,
        (error: unknown) => ({ error }),
      );
      if (batch.full && batch.blocked === undefined) ahead = await this.readAhead(batch);
      const failure = await sent;
      this.publishingSince = undefined;
      if (failure !== undefined) {
        ahead = undefined;
        await this.failed(failure.error);
        continue;
      }
      await this.pruneIfDue();
    }
  }

  /** Takes or renews the lease when due; whether this relay holds it. */
  private async holdLease(): Promise<boolean> {
    const now = this.options.now();
    if (this.epoch !== undefined && now < this.renewLeaseAt) return true;
    let epoch: number | undefined;
    try {
      epoch = await this.position.acquireLease(this.options.owner, this.options.leaseTtlMs, now);
    } catch (error) {
      // Without a confirmed lease nothing is published; the lease expires by itself if this lasts.
      await this.failed(error);
      return false;
    }
    // The database answered: a standby that waited out an outage is not failing any more (its readiness
    // would otherwise stay false until it next published, which a standby never does).
    this.consecutiveFailures = 0;
    if (epoch === undefined) {
      if (this.epoch !== undefined) this.logger.warn({ epoch: this.epoch }, 'The outbox lease went to another relay; standing by');
      this.epoch = undefined;
      return false;
    }
    if (this.epoch !== epoch) this.logger.info({ epoch, owner: this.options.owner }, `Took the outbox lease (epoch ${epoch}): this relay publishes`);
    this.epoch = epoch;
    this.renewLeaseAt = now + Math.floor(this.options.leaseTtlMs / 3);
    return true;
  }

  /** Another relay holds the lease: settle the waiters it satisfied, then wait to try again. */
  private async standBy(): Promise<void> {
    try {
      const [publishedThrough, last] = [await this.position.publishedThrough(), await this.position.lastSequence()];
      this.settle(publishedThrough >= last ? Number.POSITIVE_INFINITY : publishedThrough);
    } catch {
      // Read again on the next try.
    }
    if (this.state === 'running') await sleep(this.options.leaseRetryMs, this.stopSignal.signal);
  }

  /** Records a failure and waits out the backoff (or the stop). */
  private async failed(error: unknown): Promise<void> {
    this.recordFailure(error);
    if (this.state === 'running') await sleep(backoffDelay(this.consecutiveFailures, this.options.backoff), this.stopSignal.signal);
  }

  private async connect(): Promise<boolean> {
    while (this.state === 'running') {
      try {
        await this.publisher.connect();
        this.consecutiveFailures = 0;
        return true;
      } catch (error) {
        await this.failed(error);
      }
    }
    return false;
  }

  /** The rows read ahead, completed up to `batchSize` with rows committed since; else the first rows above the position. */
  private async nextBatch(ahead: Batch | undefined): Promise<Batch> {
    if (ahead === undefined || ahead.records.length === 0) return this.read(await this.position.publishedThrough(), this.options.batchSize);
    if (ahead.full || ahead.blocked !== undefined) return ahead;
    const more = await this.read(ahead.sequences[ahead.sequences.length - 1]!, this.options.batchSize - ahead.records.length);
    return {
      records: ahead.records.concat(more.records),
      sequences: ahead.sequences.concat(more.sequences),
      full: more.full,
      blocked: more.blocked,
    };
  }

  /**
   * The rows after `batch`, read while it is in flight. Only after a turn of the event loop: kafkajs encodes
   * the batch and writes its request within the microtasks the send started, and reading first would delay it.
   * Undefined when the relay stops or the read fails (the loop then reads again from the position).
   */
  private async readAhead(batch: Batch): Promise<Batch | undefined> {
    await nextTurn();
    if (this.state !== 'running') return undefined;
    try {
      return await this.read(batch.sequences[batch.sequences.length - 1]!, this.options.batchSize);
    } catch {
      return undefined;
    }
  }

  private async read(after: number, limit: number): Promise<Batch> {
    const rows = await this.position.rowsAfter(after, limit);
    const batch: Batch = { records: [], sequences: [], full: rows.length === limit, blocked: undefined };
    for (const row of rows) {
      try {
        batch.records.push(recordOfRow(row));
      } catch (error) {
        batch.blocked = error;
        break;
      }
      batch.sequences.push(row.sequence);
    }
    return batch;
  }

  /** Publishes the batch and moves the position past it; if one event cannot be encoded, only past the ones before it. */
  private async publish(batch: Batch): Promise<void> {
    const { records, sequences } = batch;
    if (records.length > 0) {
      const spans = this.tracing?.publishing(records);
      try {
        const landed = await this.publisher.publishRecords(records);
        spans?.end(landed);
      } catch (error) {
        spans?.end({ error });
        // One event cannot be encoded: publish the ones before it, so only it and what follows it wait.
        const blockedAt = encodeFailureIndex(error);
        if (blockedAt !== undefined && blockedAt > 0) {
          await this.publisher.publishRecords(records.slice(0, blockedAt));
          await this.advance(sequences[blockedAt - 1]!, blockedAt);
        }
        throw error;
      }
      await this.advance(sequences[sequences.length - 1]!, records.length);
    }
    if (batch.blocked !== undefined) throw batch.blocked;
  }

  /** After the broker acknowledged every row up to `through` (`count` of them). */
  private async advance(through: number, count: number): Promise<void> {
    const now = this.options.now();
    if (!(await this.position.advance(through, now, this.epoch))) {
      // Fenced off: another relay took the lease meanwhile, and what this one just sent were duplicates.
      this.logger.warn({ epoch: this.epoch, through }, `The outbox lease was lost while a batch was in flight: its ${count} events may be published twice; standing by`);
      this.epoch = undefined;
      return;
    }
    this.published += count;
    this.lastPublishedAt = now;
    this.consecutiveFailures = 0;
    this.settle(through);
  }

  /** Resolves the waiters satisfied once every row up to `publishedThrough` is published (Infinity: none is above the position), or rejects them all. */
  private settle(publishedThrough: number, error?: unknown): void {
    const waiting: Waiter[] = [];
    for (const waiter of this.waiters) {
      if (error !== undefined) waiter.reject(error);
      else if (publishedThrough === Number.POSITIVE_INFINITY || (waiter.through !== undefined && waiter.through <= publishedThrough)) waiter.resolve();
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
  private async pruneIfDue(): Promise<boolean> {
    const now = this.options.now();
    if (now < this.nextPruneAt) return false;
    let deleted: number;
    try {
      deleted = await this.pruneChunk();
    } catch (error) {
      this.logger.warn({ err: error }, 'Pruning the outbox failed; retrying at the next interval');
      deleted = 0;
    }
    if (deleted < this.options.pruneChunkSize) this.nextPruneAt = now + this.options.pruneIntervalMs;
    if (deleted > 0) this.logger.debug({ deleted }, 'Pruned published outbox rows');
    return deleted === this.options.pruneChunkSize;
  }

  private pruneChunk(): Promise<number> {
    return this.position.prune(this.options.pruneChunkSize, this.options.now() - this.options.retentionMs);
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
      // Woken in time to renew the lease, however long the poll interval.
      const timer = setTimeout(done, Math.max(1, Math.min(this.options.pollIntervalMs, this.renewLeaseAt - this.options.now())));
      this.wakeUp = done;
    });
  }
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

function validate(options: Required<Omit<OutboxRelayOptions, 'producer' | 'tracing'>>): void {
  const positive = {
    batchSize: options.batchSize,
    pollIntervalMs: options.pollIntervalMs,
    pruneIntervalMs: options.pruneIntervalMs,
    pruneChunkSize: options.pruneChunkSize,
    stopTimeoutMs: options.stopTimeoutMs,
    leaseTtlMs: options.leaseTtlMs,
    leaseRetryMs: options.leaseRetryMs,
  };
  for (const [name, value] of Object.entries(positive)) {
    if (!Number.isInteger(value) || value <= 0) throw new ShoalError('SHOAL_CONFIG_INVALID', `OutboxRelay option ${name} must be a positive integer, got ${value}`);
  }
  if (!Number.isFinite(options.retentionMs) || options.retentionMs < 0) {
    throw new ShoalError('SHOAL_CONFIG_INVALID', `OutboxRelay option retentionMs must be a finite number of ms >= 0, got ${options.retentionMs}`);
  }
}
