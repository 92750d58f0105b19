/**
 * Runs one projection: keeps its read model up to date from Kafka, serves reads on it, rebuilds it without
 * read downtime, and reports its status (docs/reference/projections.md).
 *
 * Files: the live model and the pointer that names it (model-files.ts); positions kept in the model itself
 * (read-model.ts), fed by one ModelFeed per copy (model-feed.ts, a handler of the platform's consumer loop).
 *
 * Start: the pointer's model is opened. Same version: its feed resumes at its positions. Another version:
 * the old model keeps serving reads, stale (the old handlers are gone, so nothing can update it), while a
 * rebuild from the beginning builds the new version; no model at all: a fresh file is built live from the
 * beginning (no shadow: there is nothing to keep serving meanwhile).
 *
 * Rebuild (rebuild.ts, one at a time, SHOAL_PROJECTION_REBUILDING otherwise): a shadow file with its own feed
 * from the captured start offsets, while the live model keeps consuming and serving reads. When the shadow
 * reaches the captured end offsets it is swapped in here: the pointer is replaced atomically, reads go to the
 * shadow's connection from the next call on, and the shadow's feed simply carries on as the live one (its
 * positions are its own: no gap, no double apply). Then the old feed is stopped, its connection closed, its
 * file deleted. A failed rebuild deletes its shadow and leaves the live model untouched.
 *
 * Reads run synchronously on the live connection (`read(fn)`), between transactions: better-sqlite3 is
 * synchronous and every run is one synchronous transaction, so a read never sees half a run, and since no
 * reader can hold the connection across an await, closing the old one after a swap cannot break a reader.
 * A rebuild only ever writes its shadow: replays never trigger side effects.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Admin, Kafka } from 'kafkajs';
import { definedOnly, ShoalError, silentLogger, type ShoalLogger } from '@shoal/core';
import type { CloudEvent, EventCodec } from '@shoal/contract';
import { asShoalError, consumeDefaults, partitionStatus, type ConsumeOptions, type ConsumerTuning, type PartitionStatus, type RetryOptions } from '@shoal/transport';
import { endOffsets, startOffsets } from './log-offsets.js';
import { ModelFeed, type ModelFeedStats } from './model-feed.js';
import { modelFileName, readCurrentModel, strayModelFiles, writeCurrentModel } from './model-files.js';
import { PartitionMap } from './partition-map.js';
import { handlersByType, type Projection, type ProjectionHandler, type SqliteDatabase } from './projection.js';
import { ReadModel, type BuildFrom, type ReadModelMeta } from './read-model.js';
import { Rebuild, type RebuildHandle } from './rebuild.js';
import type { RebuildProgress, RebuildReason } from './rebuild-progress.js';

export interface ProjectorOptions extends Omit<ConsumeOptions, 'commitIntervalMs'> {
  projection: Projection;
  /** Folder of the read-model files (created if missing). One projector per projection and folder. */
  dataDir: string;
  kafka: Kafka;
  codec: EventCodec;
  logger?: ShoalLogger;
  /** Consumer groups are `<groupPrefix>.<name>.v<version>.g<generation>.<run id>`. */
  groupPrefix?: string;
  /** SQLite `synchronous`: NORMAL survives a process crash, FULL also a power loss. */
  synchronous?: 'NORMAL' | 'FULL';
  busyTimeoutMs?: number;
  /** Milliseconds since the epoch. */
  now?: () => number;
  /** The run id of consumer group names. */
  newId?: () => string;
}

export const projectorDefaults = {
  logger: silentLogger,
  groupPrefix: 'shoal.projection',
  // A fetched batch is split into runs of this size, one transaction each: a rebuild replays far more than
  // a subscription ever handles at once.
  recordsPerTransaction: 2000,
  partitionsInFlight: consumeDefaults.partitionsInFlight,
  retry: consumeDefaults.retry,
  synchronous: 'NORMAL',
  busyTimeoutMs: 5000,
  // A short long-poll: stopping a feed waits for its fetch in flight, and a swap stops one. Fetch sizes
  // stay kafkajs's (1 MiB per partition): larger fetches cost more in garbage collection than they save.
  consumer: { maxWaitTimeInMs: 500 },
  now: Date.now,
  newId: () => randomUUID().slice(0, 8),
} satisfies Partial<ProjectorOptions>;

export type ProjectorState = 'new' | 'starting' | 'running' | 'stale' | 'failed' | 'stopping' | 'stopped';

export interface ProjectionStatus {
  name: string;
  /** The version this process runs. */
  version: number;
  /**
   * running: live and consuming; stale: serving a model of another version while the rebuild builds this one;
   * failed: serving the model as it was when its feed stopped on an error (see `error`).
   */
  state: ProjectorState;
  /** The live model, null before start or after stop. */
  model: (ReadModelMeta & { file: string }) | null;
  /** Whether reads come from a model of another version. */
  stale: boolean;
  /** Records behind the high watermarks last seen, over all partitions. */
  lag: number;
  /** Every partition of the live model: its position (nextOffset), the high watermark last seen, the lag. */
  partitions: PartitionStatus[];
  /** Of the live model's feed since this process started it. */
  applied: number;
  skipped: number;
  skippedByType: Record<string, number>;
  poisoned: number;
  rebuilding: boolean;
  /** The rebuild in progress, else the last one this process ran, else null. */
  rebuild: RebuildProgress | null;
  error: { code: string; message: string } | null;
}

interface LiveCopy {
  model: ReadModel;
  feed: ModelFeed | undefined;
}

interface CaughtUpWaiter {
  targets: PartitionMap<number>;
  resolve(): void;
  reject(error: unknown): void;
}

type Resolved = Required<Omit<ProjectorOptions, 'retry' | 'consumer'>> & { retry: RetryOptions; consumer: ConsumerTuning };

export class Projector {
  readonly projection: Projection;
  private readonly options: Resolved;
  private readonly logger: ShoalLogger;
  private readonly handlers: ReadonlyMap<string, ProjectionHandler<CloudEvent<unknown>>>;
  private admin: Admin | undefined;
  private live: LiveCopy | undefined;
  private active: Rebuild | undefined;
  private lastRebuild: Rebuild | undefined;
  private stateName: ProjectorState = 'new';
  private failure: ShoalError | undefined;
  private generation = 0;
  private readonly highWatermarks = new PartitionMap<number>();
  private readonly waiters = new Set<CaughtUpWaiter>();
  private readonly retiring = new Set<Promise<void>>();

  constructor(options: ProjectorOptions) {
    this.projection = options.projection;
    this.options = {
      ...projectorDefaults,
      ...definedOnly(options),
      projection: options.projection,
      dataDir: options.dataDir,
      kafka: options.kafka,
      codec: options.codec,
      retry: { ...projectorDefaults.retry, ...options.retry },
      consumer: { ...projectorDefaults.consumer, ...options.consumer },
    };
    this.logger = this.options.logger.child({ module: 'projector', projection: this.projection.name });
    this.handlers = handlersByType(this.projection);
  }

  get name(): string {
    return this.projection.name;
  }

  get state(): ProjectorState {
    return this.stateName;
  }

  /**
   * Opens (or creates) the live model and starts its feed; resolves once it consumes (for a model of
   * another version: once the rebuild of this version consumes).
   */
  async start(): Promise<void> {
    if (this.stateName !== 'new') throw new ShoalError('SHOAL_CONFIG_INVALID', `Projector ${this.name} was already started`);
    this.stateName = 'starting';
    try {
      mkdirSync(this.options.dataDir, { recursive: true });
      this.admin = this.options.kafka.admin();
      await this.admin.connect();
      const current = readCurrentModel(this.options.dataDir, this.name);
      for (const path of strayModelFiles(this.options.dataDir, this.name, current?.file)) rmSync(path, { force: true });
      this.generation = current?.generation ?? 0;
      this.noteHighWatermarks(await endOffsets(this.admin, this.projection.topics));
      const path = current === undefined ? undefined : join(this.options.dataDir, current.file);
      if (current !== undefined && !existsSync(path!)) {
        this.logger.warn({ file: current.file }, `the pointer names ${current.file}, which is missing: building ${this.name} anew`);
      }
      if (path !== undefined && existsSync(path)) {
        const model = ReadModel.open(path, this.options);
        this.live = { model, feed: undefined };
        if (model.meta.version === this.projection.version) {
          await model.addMissingPositions(await startOffsets(this.admin, this.projection.topics, 'beginning'));
          await this.startLiveFeed(model);
          this.stateName = 'running';
        } else {
          this.stateName = 'stale';
          this.logger.info(
            { from: model.meta.version, to: this.projection.version },
            `projection ${this.name} v${model.meta.version} serves reads while v${this.projection.version} is rebuilt`,
          );
          await this.beginRebuild('beginning', 'version-change');
        }
      } else {
        const generation = ++this.generation;
        const model = ReadModel.create(join(this.options.dataDir, modelFileName(this.name, this.projection.version, generation)), {
          ...this.options,
          projection: this.projection,
          generation,
          builtFrom: 'beginning',
          startOffsets: await startOffsets(this.admin, this.projection.topics, 'beginning'),
          createdAt: this.isoNow(),
        });
        model.markLive(this.isoNow());
        writeCurrentModel(this.options.dataDir, this.name, { file: basename(model.path), version: this.projection.version, generation });
        this.live = { model, feed: undefined };
        await this.startLiveFeed(model);
        this.stateName = 'running';
      }
    } catch (error) {
      await this.release();
      this.stateName = 'failed';
      this.failure = asShoalError(error);
      throw error;
    }
  }

  /**
   * Runs `query` on the live model and returns its result. Synchronous on purpose: after a swap the old
   * connection is closed, so a query must not keep it across an await (a promise result is refused).
   */
  read<T>(query: (db: SqliteDatabase) => T): T {
    const live = this.live;
    if (live === undefined || live.model.isClosed) {
      throw new ShoalError('SHOAL_SERVICE_UNAVAILABLE', `Projection ${this.name} has no read model open (${this.stateName})`, { retriable: true });
    }
    const result = query(live.model.db);
    if (typeof (result as { then?: unknown } | null)?.then === 'function') {
      throw new ShoalError('SHOAL_HANDLER_INVALID', `A read of projection ${this.name} returned a promise: reads are synchronous (the connection may be closed by a swap before it settles)`);
    }
    return result;
  }

  /** Resolves once the live model, of this version, has applied every record written before the call. */
  async whenCaughtUp(): Promise<void> {
    if (this.admin === undefined) throw new ShoalError('SHOAL_SERVICE_UNAVAILABLE', `Projector ${this.name} is not started`);
    const targets = await endOffsets(this.admin, this.projection.topics);
    this.noteHighWatermarks(targets);
    return new Promise((resolve, reject) => {
      const waiter = { targets, resolve, reject };
      if (!this.settleWaiter(waiter)) this.waiters.add(waiter);
    });
  }

  /**
   * Starts a rebuild into a shadow file; resolves once its offsets are captured and its feed runs.
   * Throws SHOAL_PROJECTION_REBUILDING while another rebuild runs.
   */
  async rebuild(options: { from?: BuildFrom } = {}): Promise<RebuildHandle> {
    if (this.active !== undefined) {
      throw new ShoalError('SHOAL_PROJECTION_REBUILDING', `Projection ${this.name} is already being rebuilt (generation ${this.active.generation})`, {
        details: { projection: this.name, generation: this.active.generation },
      });
    }
    if (this.stateName !== 'running' && this.stateName !== 'stale' && this.stateName !== 'failed') {
      throw new ShoalError('SHOAL_SERVICE_UNAVAILABLE', `Projection ${this.name} cannot be rebuilt while ${this.stateName}`, { retriable: true });
    }
    return this.beginRebuild(options.from ?? 'beginning', 'requested');
  }

  /** The rebuild in progress, if any. */
  rebuilding(): RebuildHandle | undefined {
    return this.active?.handle;
  }

  status(): ProjectionStatus {
    const live = this.live;
    const model = live !== undefined && !live.model.isClosed ? live.model : undefined;
    if (live?.feed !== undefined) {
      for (const { topic, partition, highWatermark } of live.feed.status().partitions) if (highWatermark !== null) this.noteHighWatermark(topic, partition, highWatermark);
    }
    const partitions = (model?.positions() ?? new PartitionMap<number>())
      .list()
      .map(({ topic, partition, value: position }) => partitionStatus(topic, partition, position, Math.max(position, this.highWatermarks.get(topic, partition) ?? position)));
    const stats: ModelFeedStats = live?.feed?.stats() ?? { applied: 0, skipped: 0, skippedByType: {}, poisoned: 0 };
    return {
      name: this.name,
      version: this.projection.version,
      state: this.stateName,
      model: model === undefined ? null : { ...model.meta, file: basename(model.path) },
      stale: model !== undefined && model.meta.version !== this.projection.version,
      lag: partitions.reduce((sum, p) => sum + (p.lag ?? 0), 0),
      partitions,
      ...stats,
      rebuilding: this.active !== undefined,
      rebuild: (this.active ?? this.lastRebuild)?.progress() ?? null,
      error: this.failure === undefined ? null : { code: this.failure.code, message: this.failure.message },
    };
  }

  /** Cancels a rebuild in progress (its shadow is deleted), stops the live feed, closes the model. */
  async stop(): Promise<void> {
    if (this.stateName === 'stopped' || this.stateName === 'stopping') return;
    this.stateName = 'stopping';
    await this.active?.end('cancelled');
    await this.release();
    this.stateName = 'stopped';
    this.settleWaiters();
  }

  private async release(): Promise<void> {
    await this.live?.feed?.stop().catch((error: unknown) => this.logger.warn({ err: error }, 'the live feed did not stop cleanly'));
    this.live?.model.close();
    await Promise.all(this.retiring);
    await this.admin?.disconnect().catch(() => undefined);
  }

  private async startLiveFeed(model: ReadModel): Promise<void> {
    const feed = this.feedOf(model);
    this.live = { model, feed };
    await feed.start();
  }

  /** A feed of `model`; what its commits and failure mean depends on whether it feeds the live model or a shadow. */
  private feedOf(model: ReadModel): ModelFeed {
    const { name, version } = this.projection;
    const feed: ModelFeed = new ModelFeed({
      projection: this.projection,
      handlers: this.handlers,
      model,
      kafka: this.options.kafka,
      codec: this.options.codec,
      groupId: `${this.options.groupPrefix}.${name}.v${version}.g${model.meta.generation}.${this.options.newId()}`,
      logger: this.logger.child({ generation: model.meta.generation }),
      consume: {
        recordsPerTransaction: this.options.recordsPerTransaction,
        partitionsInFlight: this.options.partitionsInFlight,
        retry: this.options.retry,
        consumer: this.options.consumer,
      },
      onCommit: () => this.committed(feed),
      onFailure: (error) => this.feedFailed(feed, error),
    });
    return feed;
  }

  private committed(feed: ModelFeed): void {
    if (this.live?.feed === feed) this.settleWaiters();
    else if (this.active?.feed === feed) this.active.committed();
  }

  private feedFailed(feed: ModelFeed, error: ShoalError): void {
    if (this.live?.feed === feed) {
      this.stateName = 'failed';
      this.failure = error;
      this.settleWaiters();
    } else if (this.active?.feed === feed) {
      void this.active.end('failed', error);
    }
  }

  private beginRebuild(from: BuildFrom, reason: RebuildReason): Promise<RebuildHandle> {
    // Claimed before the first await, so a concurrent call is refused.
    const rebuild = new Rebuild(
      {
        projection: this.projection,
        dataDir: this.options.dataDir,
        admin: this.admin!,
        files: this.options,
        logger: this.logger,
        now: this.options.now,
        feed: (model) => this.feedOf(model),
        noteHighWatermarks: (offsets) => this.noteHighWatermarks(offsets),
        caughtUp: (caughtUp) => this.swap(caughtUp),
        ended: (ended) => {
          if (this.active === ended) this.active = undefined;
          this.lastRebuild = ended;
          this.settleWaiters();
        },
      },
      ++this.generation,
      from,
      reason,
    );
    this.active = rebuild;
    return rebuild.begin();
  }

  /**
   * The shadow becomes the live model. Synchronous up to the switch (pointer, then the reference reads
   * use), so no read and no commit can fall between the two; retiring the old copy follows.
   */
  private swap(rebuild: Rebuild): void {
    let promoted: ReturnType<Rebuild['promote']>;
    try {
      promoted = rebuild.promote();
    } catch (error) {
      void rebuild.end('failed', error);
      return;
    }
    this.active = undefined;
    this.lastRebuild = rebuild;
    const old = this.live;
    this.live = { model: promoted.model, feed: promoted.feed };
    this.stateName = 'running';
    this.failure = undefined;
    this.logger.info({ generation: rebuild.generation, events: promoted.progress.done, elapsedMs: promoted.progress.elapsedMs }, `projection ${this.name} v${this.projection.version} swapped in`);
    this.settleWaiters();
    const retiring = rebuild.finish(this.retire(old));
    this.retiring.add(retiring);
    void retiring.finally(() => this.retiring.delete(retiring));
  }

  /** Stops the old copy and deletes its file. */
  private async retire(old: LiveCopy | undefined): Promise<void> {
    if (old === undefined) return;
    try {
      await old.feed?.stop();
    } catch (error) {
      this.logger.warn({ err: error }, 'the replaced feed did not stop cleanly');
    }
    old.model.remove();
  }

  private settleWaiters(): void {
    for (const waiter of this.waiters) if (this.settleWaiter(waiter)) this.waiters.delete(waiter);
  }

  /** True when the waiter is settled (resolved or rejected). */
  private settleWaiter(waiter: CaughtUpWaiter): boolean {
    if (this.stateName === 'stopped' || this.stateName === 'stopping') {
      waiter.reject(new ShoalError('SHOAL_SERVICE_UNAVAILABLE', `Projector ${this.name} stopped`));
      return true;
    }
    if (this.stateName === 'failed' && this.active === undefined) {
      waiter.reject(this.failure ?? new ShoalError('SHOAL_HANDLER_FAILED', `Projection ${this.name} failed`));
      return true;
    }
    const model = this.live?.model;
    if (model === undefined || model.isClosed) return false;
    if (model.meta.version !== this.projection.version) {
      if (this.active !== undefined || this.stateName === 'starting') return false;
      const lastError = this.lastRebuild?.progress().error?.message;
      waiter.reject(new ShoalError('SHOAL_HANDLER_FAILED', `Projection ${this.name} serves v${model.meta.version}: the rebuild of v${this.projection.version} failed (${lastError ?? 'see its status'})`));
      return true;
    }
    const caughtUp = waiter.targets.list().every(({ topic, partition, value }) => (model.position(topic, partition) ?? 0) >= value);
    if (caughtUp) waiter.resolve();
    return caughtUp;
  }

  private noteHighWatermarks(offsets: PartitionMap<number>): void {
    for (const { topic, partition, value } of offsets.list()) this.noteHighWatermark(topic, partition, value);
  }

  private noteHighWatermark(topic: string, partition: number, highWatermark: number): void {
    if (highWatermark > (this.highWatermarks.get(topic, partition) ?? -1)) this.highWatermarks.set(topic, partition, highWatermark);
  }

  private isoNow(): string {
    return new Date(this.options.now()).toISOString();
  }
}
