/**
 * One rebuild of a projection, from its start to its end: what `Projector.rebuild()`, the admin route,
 * `shoal replay` and a version change on start all run.
 *
 *   begin()      the rebuild lock is taken (model-store.ts: on PostgreSQL one rebuild at a time across the
 *                service's instances, SHOAL_PROJECTION_REBUILDING when another holds it), the end offsets (high
 *                watermarks) and the start offsets (the log start, or the first offsets at or after a time)
 *                are captured, a shadow of the next generation is created with those start positions (a file
 *                `<name>.v<version>.g<generation>.db`, or a schema `<name>_v<version>_g<generation>`), and its own
 *                feed starts; the live model keeps serving reads and consuming meanwhile (two copies, two
 *                consumer groups)
 *   committed()  after each commit of the shadow's feed: once the shadow reached the end offsets in every
 *                partition, the projector is told (`caughtUp`) and swaps it in (events arrived since are
 *                applied by the shadow too, but do not move the finish line)
 *   promote()    the swap's part of it: the shadow is marked live and the pointer moved (one transaction on
 *                PostgreSQL, so every instance switches at once); from then on the shadow's model is the
 *                projector's live copy, and the rebuild is over once the old copy is retired (finish()), which
 *                releases the lock
 *   end()        a rebuild that does not swap (failed, cancelled): its feed stops, its shadow is deleted, the
 *                live model is untouched, the lock released
 *
 * `handle.done` resolves when the rebuild ends, whatever the outcome; its progress is frozen then.
 */
import type { Admin } from 'kafkajs';
import { ShoalError, type ShoalLogger } from '@shoal/core';
import { endOffsets, startOffsets } from './log-offsets.js';
import type { ModelFeed } from './model-feed.js';
import type { ModelStore, RebuildLock } from './model-store.js';
import { PartitionMap } from './partition-map.js';
import type { Projection } from './projection.js';
import type { BuildFrom, ReadModel } from './read-model.js';
import { RebuildTracker, type RebuildProgress, type RebuildReason } from './rebuild-progress.js';

/** A rebuild in progress, as the projector hands it out. */
export interface RebuildHandle {
  /** The shadow's generation: known once the rebuild has begun (0 before). */
  readonly generation: number;
  progress(): RebuildProgress;
  /** Resolves when the rebuild ends, whatever the outcome: `state` says swapped, failed or cancelled. */
  readonly done: Promise<RebuildProgress>;
}

export interface RebuildContext {
  projection: Projection;
  store: ModelStore;
  admin: Admin;
  logger: ShoalLogger;
  now: () => number;
  /** A feed of `model` (not started), whose commits and failure the projector routes back here. */
  feed(model: ReadModel): ModelFeed;
  /** The end offsets captured: the projector's view of the high watermarks. */
  noteHighWatermarks(offsets: PartitionMap<number>): void;
  /** The shadow reached the end offsets: the projector swaps it in (promote) or ends the rebuild. */
  caughtUp(rebuild: Rebuild): void;
  /** The rebuild ended without a swap. */
  ended(rebuild: Rebuild): void;
  /** The rebuild was refused: another instance holds the lock. */
  refused(rebuild: Rebuild): void;
}

export class Rebuild {
  readonly handle: RebuildHandle;
  private readonly context: RebuildContext;
  private readonly reason: RebuildReason;
  private readonly from: BuildFrom;
  private tracker: RebuildTracker | undefined;
  private model: ReadModel | undefined;
  private shadowFeed: ModelFeed | undefined;
  private lock: RebuildLock | undefined;
  private shadowGeneration = 0;
  private over = false;
  private reportedCaughtUp = false;
  /** The swap's write of the pointer, while it runs: an end() meanwhile waits for it. */
  private promoting: Promise<void> | undefined;
  private settle!: (progress: RebuildProgress) => void;

  constructor(context: RebuildContext, from: BuildFrom, reason: RebuildReason) {
    this.context = context;
    this.from = from;
    this.reason = reason;
    const done = new Promise<RebuildProgress>((resolve) => (this.settle = resolve));
    const generation = () => this.shadowGeneration;
    this.handle = {
      get generation() {
        return generation();
      },
      done,
      progress: () => this.progress(),
    };
  }

  get generation(): number {
    return this.shadowGeneration;
  }

  /** The feed of the shadow, once it exists. */
  get feed(): ModelFeed | undefined {
    return this.shadowFeed;
  }

  /** Over: swapped, failed or cancelled. */
  get ended(): boolean {
    return this.over;
  }

  /**
   * Takes the lock, captures the offsets, creates the shadow and starts its feed; a failure ends the rebuild
   * 'failed' and is thrown. Another instance holding the lock: SHOAL_PROJECTION_REBUILDING, and nothing is recorded.
   */
  async begin(): Promise<RebuildHandle> {
    const { projection, admin, now, logger, store } = this.context;
    let lock: RebuildLock | undefined;
    try {
      lock = await store.lockRebuild();
    } catch (error) {
      await this.end('failed', error);
      throw error;
    }
    if (lock === undefined) {
      this.over = true;
      this.context.refused(this);
      this.settle(this.progress());
      throw new ShoalError('SHOAL_PROJECTION_REBUILDING', `Projection ${projection.name} is being rebuilt by another instance of the service`, { details: { projection: projection.name } });
    }
    this.lock = lock;
    try {
      // Under the lock no other shadow is being built: any model the pointer does not name is garbage.
      if (store.shared) await store.removeStrays();
      const startedAt = now();
      const start = await startOffsets(admin, projection.topics, this.from);
      const end = await endOffsets(admin, projection.topics);
      this.context.noteHighWatermarks(end);
      this.tracker = new RebuildTracker({ ...this.plan(startedAt), start, end });
      if (this.over) return this.handle;
      const model = await store.createShadow({ projection, builtFrom: this.from, startOffsets: start, createdAt: new Date(startedAt).toISOString() });
      this.model = model;
      this.shadowGeneration = model.meta.generation;
      this.tracker = new RebuildTracker({ ...this.plan(startedAt), start, end });
      if (this.over) {
        await store.drop(model);
        return this.handle;
      }
      logger.info({ generation: this.generation, reason: this.reason, from: this.from, events: this.tracker.progress(() => undefined, startedAt).total }, `rebuilding projection ${projection.name}`);
      this.shadowFeed = this.context.feed(this.model);
      await this.shadowFeed.start();
      // Topics with nothing to replay are caught up before any batch arrives.
      this.committed();
    } catch (error) {
      await this.end('failed', error);
      throw error;
    }
    return this.handle;
  }

  progress(): RebuildProgress {
    return this.trackerOf().progress(this.shadowPosition(), this.context.now());
  }

  /** After each commit of the shadow. */
  committed(): void {
    const { tracker, model, shadowFeed } = this;
    if (this.over || this.reportedCaughtUp || tracker === undefined || model === undefined || shadowFeed === undefined) return;
    if (tracker.caughtUp((topic, partition) => model.position(topic, partition))) {
      this.reportedCaughtUp = true;
      this.context.caughtUp(this);
    }
  }

  /**
   * The shadow becomes the live model: marked live, the pointer moved. Rejects if the model or the pointer
   * cannot be written (the rebuild is still on then: end it).
   */
  async promote(): Promise<{ model: ReadModel; feed: ModelFeed; progress: RebuildProgress }> {
    const { model, shadowFeed } = this;
    if (this.over || model === undefined || shadowFeed === undefined) throw new Error(`rebuild ${this.generation} has no shadow to promote`);
    const { store, now } = this.context;
    this.promoting = store.promote(model, new Date(now()).toISOString());
    try {
      await this.promoting;
    } finally {
      this.promoting = undefined;
    }
    this.over = true;
    const progress = this.trackerOf().finish('swapped', (topic, partition) => model.position(topic, partition), now());
    return { model, feed: shadowFeed, progress };
  }

  /** Settles `done` once the copy the promoted shadow replaced is retired, and releases the lock. */
  finish(retired: Promise<void>): Promise<void> {
    return retired.finally(() => this.releaseLock()).then(() => this.settle(this.progress()));
  }

  /** Ends a rebuild that did not swap: its feed stops, its shadow is deleted; the live model is untouched. Idempotent. */
  async end(state: 'failed' | 'cancelled', error?: unknown): Promise<void> {
    if (this.over) return;
    if (this.promoting !== undefined) {
      // Too late to cancel: the pointer is being moved to the shadow, which the projector then takes over.
      await this.promoting.catch(() => undefined);
      if (this.over) return;
    }
    this.over = true;
    const { projection, logger, now } = this.context;
    const progress = this.trackerOf().finish(state, this.shadowPosition(), now(), error);
    this.context.ended(this);
    if (state === 'failed') logger.error({ err: error, generation: this.generation }, `rebuild of projection ${projection.name} failed: ${(error as Error).message}`);
    else logger.info({ generation: this.generation }, `rebuild of projection ${projection.name} cancelled`);
    try {
      await this.shadowFeed?.stop();
    } catch (stopError) {
      logger.warn({ err: stopError }, 'the shadow consumer did not stop cleanly');
    }
    try {
      if (this.model !== undefined) await this.context.store.drop(this.model);
    } catch (dropError) {
      logger.warn({ err: dropError }, 'the shadow could not be deleted (it is deleted with the next rebuild or start)');
    }
    await this.releaseLock();
    this.settle(progress);
  }

  private async releaseLock(): Promise<void> {
    const lock = this.lock;
    this.lock = undefined;
    await lock?.release().catch((error: unknown) => this.context.logger.warn({ err: error }, 'the rebuild lock was not released cleanly'));
  }

  private plan(startedAt: number) {
    const { projection } = this.context;
    return { projection: projection.name, version: projection.version, generation: this.generation, reason: this.reason, from: this.from, startedAt };
  }

  /** The tracker; before the offsets are captured, one with an empty plan. */
  private trackerOf(): RebuildTracker {
    return this.tracker ?? new RebuildTracker({ ...this.plan(this.context.now()), start: new PartitionMap(), end: new PartitionMap() });
  }

  /** The shadow's positions while its file is open. */
  private shadowPosition(): (topic: string, partition: number) => number | undefined {
    const model = this.model;
    return (topic, partition) => (model === undefined || model.isClosed ? undefined : model.position(topic, partition));
  }
}
