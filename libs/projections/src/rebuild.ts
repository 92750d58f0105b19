/**
 * One rebuild of a projection, from its start to its end: what `Projector.rebuild()`, the admin route,
 * `shoal replay` and a version change on start all run.
 *
 *   begin()      the end offsets (high watermarks) and the start offsets (the log start, or the first offsets
 *                at or after a time) are captured, a shadow file `<name>.v<version>.g<generation>.db` is
 *                created with those start positions, and its own feed starts; the live model keeps serving
 *                reads and consuming meanwhile (two copies, two connections, two consumer groups)
 *   committed()  after each commit of the shadow's feed: once the shadow reached the end offsets in every
 *                partition, the projector is told (`caughtUp`) and swaps it in (events arrived since are
 *                applied by the shadow too, but do not move the finish line)
 *   promote()    the swap's part of it: the shadow is marked live and the pointer replaced; from then on the
 *                shadow's model and feed are the projector's live copy, and the rebuild is over once the old
 *                copy is retired (finish())
 *   end()        a rebuild that does not swap (failed, cancelled): its feed stops, its shadow is deleted, the
 *                live model is untouched
 *
 * `handle.done` resolves when the rebuild ends, whatever the outcome; its progress is frozen then.
 */
import { basename, join } from 'node:path';
import type { Admin } from 'kafkajs';
import type { ShoalLogger } from '@shoal/core';
import { endOffsets, startOffsets } from './log-offsets.js';
import { modelFileName, writeCurrentModel } from './model-files.js';
import type { ModelFeed } from './model-feed.js';
import { PartitionMap } from './partition-map.js';
import type { Projection } from './projection.js';
import { ReadModel, type BuildFrom, type ReadModelFileOptions } from './read-model.js';
import { RebuildTracker, type RebuildProgress, type RebuildReason } from './rebuild-progress.js';

/** A rebuild in progress, as the projector hands it out. */
export interface RebuildHandle {
  readonly generation: number;
  progress(): RebuildProgress;
  /** Resolves when the rebuild ends, whatever the outcome: `state` says swapped, failed or cancelled. */
  readonly done: Promise<RebuildProgress>;
}

export interface RebuildContext {
  projection: Projection;
  dataDir: string;
  admin: Admin;
  files: ReadModelFileOptions;
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
}

export class Rebuild {
  readonly generation: number;
  readonly handle: RebuildHandle;
  private readonly context: RebuildContext;
  private readonly reason: RebuildReason;
  private readonly from: BuildFrom;
  private tracker: RebuildTracker | undefined;
  private model: ReadModel | undefined;
  private shadowFeed: ModelFeed | undefined;
  private over = false;
  private settle!: (progress: RebuildProgress) => void;

  constructor(context: RebuildContext, generation: number, from: BuildFrom, reason: RebuildReason) {
    this.context = context;
    this.generation = generation;
    this.from = from;
    this.reason = reason;
    const done = new Promise<RebuildProgress>((resolve) => (this.settle = resolve));
    this.handle = { generation, done, progress: () => this.progress() };
  }

  /** The feed of the shadow, once it exists. */
  get feed(): ModelFeed | undefined {
    return this.shadowFeed;
  }

  /** Over: swapped, failed or cancelled. */
  get ended(): boolean {
    return this.over;
  }

  /** Captures the offsets, creates the shadow and starts its feed; a failure ends the rebuild 'failed' and is thrown. */
  async begin(): Promise<RebuildHandle> {
    const { projection, admin, now, logger } = this.context;
    try {
      const startedAt = now();
      const start = await startOffsets(admin, projection.topics, this.from);
      const end = await endOffsets(admin, projection.topics);
      this.context.noteHighWatermarks(end);
      this.tracker = new RebuildTracker({ ...this.plan(startedAt), start, end });
      if (this.over) return this.handle;
      this.model = ReadModel.create(join(this.context.dataDir, modelFileName(projection.name, projection.version, this.generation)), {
        ...this.context.files,
        projection,
        generation: this.generation,
        builtFrom: this.from,
        startOffsets: start,
        createdAt: new Date(startedAt).toISOString(),
      });
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
    if (this.over || tracker === undefined || model === undefined || shadowFeed === undefined) return;
    if (tracker.caughtUp((topic, partition) => model.position(topic, partition))) this.context.caughtUp(this);
  }

  /**
   * The shadow becomes the live model: marked live, the pointer replaced. Synchronous, so the projector can
   * switch its reads in the same turn. Throws if the file or the pointer cannot be written (the rebuild is
   * still on then: end it).
   */
  promote(): { model: ReadModel; feed: ModelFeed; progress: RebuildProgress } {
    const { model, shadowFeed } = this;
    if (this.over || model === undefined || shadowFeed === undefined) throw new Error(`rebuild ${this.generation} has no shadow to promote`);
    const { projection, dataDir, now } = this.context;
    model.markLive(new Date(now()).toISOString());
    writeCurrentModel(dataDir, projection.name, { file: basename(model.path), version: projection.version, generation: this.generation });
    this.over = true;
    const progress = this.trackerOf().finish('swapped', (topic, partition) => model.position(topic, partition), now());
    return { model, feed: shadowFeed, progress };
  }

  /** Settles `done` once the copy the promoted shadow replaced is retired. */
  finish(retired: Promise<void>): Promise<void> {
    return retired.then(() => this.settle(this.progress()));
  }

  /** Ends a rebuild that did not swap: its feed stops, its shadow is deleted; the live model is untouched. Idempotent. */
  async end(state: 'failed' | 'cancelled', error?: unknown): Promise<void> {
    if (this.over) return;
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
    this.model?.remove();
    this.settle(progress);
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
