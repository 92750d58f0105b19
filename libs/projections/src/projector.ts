/**
 * Runs one projection: keeps its read model up to date from Kafka, serves reads on it, rebuilds it without
 * read downtime, and reports its status (docs/reference/projections.md).
 *
 * Where the models live is the model store's (model-store.ts): SQLite files under `dataDir`, one process
 * owning them; or, given a PostgreSQL `database`, schemas of the service's database that every instance of
 * the service shares. Positions are kept in the model itself (read-model.ts), fed by one ModelFeed per copy
 * (model-feed.ts, a handler of the platform's consumer loop).
 *
 * Start: the pointer's model is opened. Same version: its feed resumes at its positions. Another version:
 * the old model keeps serving reads, stale (the old handlers are gone, so nothing can update it), while a
 * rebuild from the beginning builds the new version; no model at all: a fresh one is built live from the
 * beginning (no shadow: there is nothing to keep serving meanwhile).
 *
 * Rebuild (rebuild.ts, one at a time, SHOAL_PROJECTION_REBUILDING otherwise): a shadow with its own feed
 * from the captured start offsets, while the live model keeps consuming and serving reads. When the shadow
 * reaches the captured end offsets it is swapped in: the pointer is moved, reads go to the shadow from then
 * on, and the shadow's positions carry on (no gap, no double apply). Then the old feed is stopped and the old
 * model deleted. A failed rebuild deletes its shadow and leaves the live model untouched.
 *
 * Several instances (PostgreSQL): every instance feeds the live model in one consumer group, so each
 * partition is consumed by one of them, and a commit skips what the stored position says another applied.
 * Reads go through the pointer. Every `followIntervalMs` an instance refreshes its view of the positions
 * (partitions other instances consume) and of the pointer: when another instance swapped in a rebuilt model
 * of this version, it starts feeding that one and stops feeding the old one.
 *
 * Reads (`read(fn)`) run in a transaction of their own, so a read never sees half a run; on SQLite they queue
 * behind the commits on the model's one connection, and a swap closes the old model only after the reads
 * that began on it. A rebuild only ever writes its shadow: replays never trigger side effects.
 */
import { randomUUID } from 'node:crypto';
import type { Admin, Kafka } from 'kafkajs';
import { definedOnly, isShoalError, ShoalError, silentLogger, type ShoalLogger } from '@shoal/core';
import type { CloudEvent, EventCodec } from '@shoal/contract';
import type { ServiceDatabase } from '@shoal/store';
import type { Tracing } from '@shoal/telemetry';
import { asShoalError, consumeDefaults, partitionStatus, type ConsumeOptions, type ConsumerTuning, type PartitionStatus, type RetryOptions } from '@shoal/transport';
import { endOffsets, startOffsets } from './log-offsets.js';
import { ModelFeed, type ModelFeedStats } from './model-feed.js';
import type { ModelStore } from './model-store.js';
import { PartitionMap } from './partition-map.js';
import { PostgresModelStore } from './postgres-model-store.js';
import { handlersByType, type ModelConnection, type Projection, type ProjectionHandler } from './projection.js';
import type { BuildFrom, ReadModel, ReadModelMeta } from './read-model.js';
import { Rebuild, type RebuildHandle } from './rebuild.js';
import type { RebuildProgress, RebuildReason } from './rebuild-progress.js';
import { SqliteModelStore } from './sqlite-model-store.js';

export interface ProjectorOptions<Tables = any> extends Omit<ConsumeOptions, 'commitIntervalMs'> {
  projection: Projection<Tables>;
  /** Folder of the read-model files (created if missing), without `database`. One projector per projection and folder. */
  dataDir: string;
  /**
   * The service's PostgreSQL database: the models live there, one schema per generation, shared by every
   * instance of the service. Without it (or given a SQLite one) they are files under `dataDir`. A function is
   * called once, at start.
   */
  database?: ServiceDatabase | (() => ServiceDatabase | undefined);
  kafka: Kafka;
  codec: EventCodec;
  logger?: ShoalLogger;
  /** Consumer groups are `<groupPrefix>.<name>.v<version>.g<generation>`, with `.<run id>` for a copy one process owns. */
  groupPrefix?: string;
  /** SQLite `synchronous`: NORMAL survives a process crash, FULL also a power loss. */
  synchronous?: 'NORMAL' | 'FULL';
  busyTimeoutMs?: number;
  /** On PostgreSQL, how often an instance refreshes the positions other instances moved and follows the pointer, ms. */
  followIntervalMs?: number;
  /** Milliseconds since the epoch. */
  now?: () => number;
  /** The run id of consumer group names. */
  newId?: () => string;
  /** Runs each handler of the live model in an `apply` span, child of its event's trace context (docs/tracing.md); rebuilds are not traced. */
  tracing?: Tracing;
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
  followIntervalMs: 500,
  // A short long-poll: stopping a feed waits for its fetch in flight, and a swap stops one. Fetch sizes
  // stay kafkajs's (1 MiB per partition): larger fetches cost more in garbage collection than they save.
  consumer: { maxWaitTimeInMs: 500 },
  now: Date.now,
  newId: () => randomUUID().slice(0, 8),
} satisfies Partial<ProjectorOptions>;

/**
 * A group the instances share: a member that died without leaving (kill -9) holds its partitions until its
 * session expires, 10 s rather than kafkajs's 30 s, with heartbeats every second to stay well inside it.
 */
const sharedGroupTuning: ConsumerTuning = { sessionTimeout: 10_000, heartbeatInterval: 1_000 };

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
  /** Where the models are: SQLite files, or schemas of the service's PostgreSQL database. */
  store: 'sqlite' | 'postgres';
  /** The live model (`file`: its file name, or its schema on PostgreSQL), null before start or after stop. */
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

type Resolved = Required<Omit<ProjectorOptions, 'retry' | 'consumer' | 'tracing' | 'database'>> & { retry: RetryOptions; consumer: ConsumerTuning; tracing: Tracing | undefined };

export class Projector<Tables = any> {
  readonly projection: Projection<Tables>;
  private readonly options: Resolved;
  private readonly database: ProjectorOptions['database'];
  private readonly logger: ShoalLogger;
  private readonly handlers: ReadonlyMap<string, ProjectionHandler<CloudEvent<unknown>>>;
  private store: ModelStore | undefined;
  private admin: Admin | undefined;
  private live: LiveCopy | undefined;
  private active: Rebuild | undefined;
  private lastRebuild: Rebuild | undefined;
  private stateName: ProjectorState = 'new';
  private failure: ShoalError | undefined;
  private follower: NodeJS.Timeout | undefined;
  private following: Promise<void> | undefined;
  private readonly highWatermarks = new PartitionMap<number>();
  private readonly waiters = new Set<CaughtUpWaiter>();
  private readonly retiring = new Set<Promise<void>>();

  constructor(options: ProjectorOptions<Tables>) {
    this.projection = options.projection;
    this.database = options.database;
    this.options = {
      ...projectorDefaults,
      ...definedOnly(options),
      projection: options.projection,
      dataDir: options.dataDir,
      kafka: options.kafka,
      codec: options.codec,
      retry: { ...projectorDefaults.retry, ...options.retry },
      consumer: { ...projectorDefaults.consumer, ...options.consumer },
      tracing: options.tracing,
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
   * another version: once the rebuild of this version consumes, or, on PostgreSQL, once it is known that
   * another instance rebuilds it).
   */
  async start(): Promise<void> {
    if (this.stateName !== 'new') throw new ShoalError('SHOAL_CONFIG_INVALID', `Projector ${this.name} was already started`);
    this.stateName = 'starting';
    try {
      const store = this.openStore();
      this.store = store;
      await store.init();
      this.admin = this.options.kafka.admin();
      await this.admin.connect();
      const current = await store.current();
      if (!store.shared) await store.removeStrays();
      this.noteHighWatermarks(await endOffsets(this.admin, this.projection.topics));
      let model = current === undefined ? undefined : await store.open(current);
      if (current !== undefined && model === undefined) {
        this.logger.warn({ model: current.location }, `the pointer names ${current.location}, which is missing: building ${this.name} anew`);
      }
      model ??= await store.createFirst(
        { projection: this.projection, builtFrom: 'beginning', startOffsets: await startOffsets(this.admin, this.projection.topics, 'beginning'), createdAt: this.isoNow() },
        this.isoNow(),
      );
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
        try {
          await this.beginRebuild('beginning', 'version-change');
        } catch (error) {
          if (!isShoalError(error, 'SHOAL_PROJECTION_REBUILDING')) throw error;
          this.logger.info({ version: this.projection.version }, `another instance rebuilds ${this.name} v${this.projection.version}: this one follows its swap`);
        }
      }
      if (store.shared) this.follower = setInterval(() => void this.follow(), this.options.followIntervalMs);
    } catch (error) {
      await this.release();
      this.stateName = 'failed';
      this.failure = asShoalError(error);
      throw error;
    }
  }

  /**
   * Runs `query` on the live model in a transaction of its own and resolves to its result: it sees whole
   * runs only, and the model it began on until it ends (a swap retires the old model after its reads).
   */
  async read<T>(query: (model: ModelConnection<Tables>) => T | Promise<T>): Promise<T> {
    for (;;) {
      const live = this.live;
      if (this.store === undefined || live === undefined || live.model.isClosed) {
        throw new ShoalError('SHOAL_SERVICE_UNAVAILABLE', `Projection ${this.name} has no read model open (${this.stateName})`, { retriable: true });
      }
      try {
        return await this.store.read(live.model, query as (model: ModelConnection) => T | Promise<T>);
      } catch (error) {
        // Retired by a swap between the call and its turn on the connection: the next live model answers.
        if (isShoalError(error, 'SHOAL_SERVICE_UNAVAILABLE') && error.details?.closedModel !== undefined && this.live !== live) continue;
        throw error;
      }
    }
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
   * Starts a rebuild into a shadow; resolves once its offsets are captured and its feed runs. Throws
   * SHOAL_PROJECTION_REBUILDING while another rebuild runs (here, or on PostgreSQL in another instance).
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
      store: this.store?.shared === true ? 'postgres' : 'sqlite',
      model: model === undefined ? null : { ...model.meta, file: model.location },
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

  private openStore(): ModelStore {
    const database = typeof this.database === 'function' ? this.database() : this.database;
    if (database !== undefined && database.sql.dialect === 'postgres') return new PostgresModelStore(database, this.name, this.logger);
    return new SqliteModelStore(this.options.dataDir, this.name, this.options);
  }

  private async release(): Promise<void> {
    if (this.follower !== undefined) clearInterval(this.follower);
    await this.following;
    await this.live?.feed?.stop().catch((error: unknown) => this.logger.warn({ err: error }, 'the live feed did not stop cleanly'));
    await this.live?.model.close();
    await Promise.all(this.retiring);
    await this.admin?.disconnect().catch(() => undefined);
  }

  private async startLiveFeed(model: ReadModel, carried?: ModelFeedStats): Promise<void> {
    const feed = this.feedOf(model, this.store!.shared, this.options.tracing, carried);
    this.live = { model, feed };
    await feed.start();
  }

  /**
   * A feed of `model`; what its commits and failure mean depends on whether it feeds the live model or a
   * shadow. `shared`: in the group every instance of the service feeds the live model in.
   */
  private feedOf(model: ReadModel, shared: boolean, tracing?: Tracing, carried?: ModelFeedStats): ModelFeed {
    const { name, version } = this.projection;
    const group = `${this.options.groupPrefix}.${name}.v${version}.g${model.meta.generation}`;
    const feed: ModelFeed = new ModelFeed({
      projection: this.projection,
      handlers: this.handlers,
      model,
      kafka: this.options.kafka,
      codec: this.options.codec,
      groupId: shared ? group : `${group}.${this.options.newId()}`,
      logger: this.logger.child({ generation: model.meta.generation }),
      consume: {
        recordsPerTransaction: this.options.recordsPerTransaction,
        partitionsInFlight: this.options.partitionsInFlight,
        retry: this.options.retry,
        consumer: shared ? { ...sharedGroupTuning, ...this.options.consumer } : this.options.consumer,
      },
      onCommit: () => this.committed(feed),
      onFailure: (error) => this.feedFailed(feed, error),
      tracing,
      carried,
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

  private async beginRebuild(from: BuildFrom, reason: RebuildReason): Promise<RebuildHandle> {
    // Claimed before the first await, so a concurrent call is refused.
    const rebuild = new Rebuild(
      {
        projection: this.projection,
        store: this.store!,
        admin: this.admin!,
        logger: this.logger,
        now: this.options.now,
        feed: (model) => this.feedOf(model, false),
        noteHighWatermarks: (offsets) => this.noteHighWatermarks(offsets),
        caughtUp: (caughtUp) => void this.swap(caughtUp),
        ended: (ended) => {
          if (this.active === ended) this.active = undefined;
          this.lastRebuild = ended;
          this.settleWaiters();
        },
        refused: (refused) => {
          if (this.active === refused) this.active = undefined;
        },
      },
      from,
      reason,
    );
    this.active = rebuild;
    return rebuild.begin();
  }

  /**
   * The shadow becomes the live model: the pointer moved, then the live copy replaced here, so reads and
   * waiters see it; retiring the old copy follows. On PostgreSQL the shadow's own feed (a group of its own,
   * every partition) gives way to one in the group the instances share.
   */
  private async swap(rebuild: Rebuild): Promise<void> {
    let promoted: Awaited<ReturnType<Rebuild['promote']>>;
    try {
      promoted = await rebuild.promote();
    } catch (error) {
      void rebuild.end('failed', error);
      return;
    }
    if (this.active === rebuild) this.active = undefined;
    this.lastRebuild = rebuild;
    const old = this.live;
    const shared = this.store!.shared;
    const retiredFeeds: Array<ModelFeed | undefined> = [old?.feed];
    if (this.stateName === 'stopping' || this.stateName === 'stopped') {
      // Stopped while the pointer moved: the new model is live for every reader; this process only lets go of it.
      retiredFeeds.push(promoted.feed);
      this.live = { model: promoted.model, feed: undefined };
    } else if (shared) {
      retiredFeeds.push(promoted.feed);
      this.stateName = 'running';
      this.failure = undefined;
      await this.startLiveFeed(promoted.model, promoted.feed.stats()).catch((error: unknown) => this.feedFailed(this.live!.feed!, asShoalError(error)));
    } else {
      this.live = { model: promoted.model, feed: promoted.feed };
      this.stateName = 'running';
      this.failure = undefined;
    }
    this.logger.info({ generation: rebuild.generation, events: promoted.progress.done, elapsedMs: promoted.progress.elapsedMs }, `projection ${this.name} v${this.projection.version} swapped in`);
    this.settleWaiters();
    const retiring = rebuild.finish(this.retire(old?.model, retiredFeeds, true));
    this.retiring.add(retiring);
    void retiring.finally(() => this.retiring.delete(retiring));
  }

  /** Stops the feeds of a replaced copy and deletes its model (`drop`), or only closes it (another instance drops it). */
  private async retire(model: ReadModel | undefined, feeds: ReadonlyArray<ModelFeed | undefined>, drop: boolean): Promise<void> {
    for (const feed of feeds) {
      try {
        await feed?.stop();
      } catch (error) {
        this.logger.warn({ err: error }, 'the replaced feed did not stop cleanly');
      }
    }
    if (model === undefined) return;
    try {
      if (drop) await this.store!.drop(model);
      else await model.close();
    } catch (error) {
      this.logger.warn({ err: error, model: model.location }, `the replaced model ${model.location} could not be deleted (it is deleted with the next rebuild or start)`);
    }
  }

  /**
   * PostgreSQL: the positions other instances moved, and the pointer. When another instance swapped in a
   * model of this version, this one feeds it from now on, and stops feeding the old one (which the
   * rebuilding instance drops).
   */
  private follow(): Promise<void> {
    if (this.following !== undefined) return this.following;
    this.following = (async () => {
      try {
        const live = this.live;
        if (live === undefined || this.stateName === 'stopping' || this.stateName === 'stopped') return;
        if (!live.model.isClosed) await live.model.refreshPositions();
        const current = await this.store!.current();
        if (
          current !== undefined &&
          this.active === undefined &&
          current.location !== live.model.location &&
          current.version === this.projection.version &&
          current.generation > live.model.meta.generation
        ) {
          const model = await this.store!.open(current);
          if (model === undefined || this.live !== live || this.active !== undefined) return;
          this.logger.info({ model: current.location }, `projection ${this.name}: another instance swapped in ${current.location}, which this one now feeds`);
          this.stateName = 'running';
          this.failure = undefined;
          await this.startLiveFeed(model);
          const retiring = this.retire(live.model, [live.feed], false);
          this.retiring.add(retiring);
          void retiring.finally(() => this.retiring.delete(retiring));
        }
        this.settleWaiters();
      } catch (error) {
        this.logger.warn({ err: error }, `projection ${this.name} cannot read its positions and pointer yet: ${(error as Error).message}`);
      } finally {
        this.following = undefined;
      }
    })();
    return this.following;
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
      if (this.active !== undefined || this.stateName === 'starting' || this.store?.shared === true) return false;
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
