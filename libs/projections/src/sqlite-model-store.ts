/**
 * The models of a projection as SQLite files in a data dir (model-files.ts for the names and the pointer),
 * owned by one process: generations are counted here, and one rebuild at a time is the projector's check.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ShoalError } from '@shoal/core';
import { modelFileName, readCurrentModel, strayModelFiles, writeCurrentModel } from './model-files.js';
import type { CurrentModel, ModelStore, NewModelOptions, RebuildLock } from './model-store.js';
import type { ModelConnection } from './projection.js';
import type { ReadModel } from './read-model.js';
import { SqliteReadModel, type SqliteModelFileOptions } from './sqlite-read-model.js';

export class SqliteModelStore implements ModelStore {
  readonly shared = false;
  private generation = 0;

  constructor(
    private readonly dataDir: string,
    private readonly name: string,
    private readonly files: SqliteModelFileOptions,
  ) {}

  async init(): Promise<void> {
    mkdirSync(this.dataDir, { recursive: true });
  }

  async current(): Promise<CurrentModel | undefined> {
    const current = readCurrentModel(this.dataDir, this.name);
    this.generation = Math.max(this.generation, current?.generation ?? 0);
    return current === undefined ? undefined : { location: current.file, version: current.version, generation: current.generation };
  }

  async open(current: CurrentModel): Promise<ReadModel | undefined> {
    const path = join(this.dataDir, current.location);
    return existsSync(path) ? SqliteReadModel.open(path, this.files) : undefined;
  }

  async createFirst(options: NewModelOptions, liveSince: string): Promise<ReadModel> {
    const model = await this.createShadow(options);
    await this.promote(model, liveSince);
    return model;
  }

  async createShadow(options: NewModelOptions): Promise<ReadModel> {
    const generation = ++this.generation;
    return SqliteReadModel.create(join(this.dataDir, modelFileName(this.name, options.projection.version, generation)), { ...this.files, ...options, generation });
  }

  async promote(model: ReadModel, liveSince: string): Promise<void> {
    await model.markLive(liveSince);
    writeCurrentModel(this.dataDir, this.name, { file: basename(model.location), version: model.meta.version, generation: model.meta.generation });
  }

  async drop(model: ReadModel): Promise<void> {
    await model.remove();
  }

  async removeStrays(): Promise<void> {
    const current = readCurrentModel(this.dataDir, this.name);
    for (const path of strayModelFiles(this.dataDir, this.name, current?.file)) rmSync(path, { force: true });
  }

  /** One process owns the files: the projector refuses a second rebuild itself. */
  async lockRebuild(): Promise<RebuildLock> {
    return { release: async () => undefined };
  }

  read<T>(live: ReadModel | undefined, query: (model: ModelConnection) => T | Promise<T>): Promise<T> {
    if (live === undefined) return Promise.reject(new ShoalError('SHOAL_SERVICE_UNAVAILABLE', `Projection ${this.name} has no read model open`, { retriable: true }));
    return live.read(query);
  }
}
