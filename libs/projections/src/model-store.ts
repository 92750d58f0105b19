/**
 * Where a projection's models live and which one is live: the pointer, the generations, the rebuild lock.
 * Two stores, one contract for the projector (projector.ts) and its rebuilds (rebuild.ts):
 *
 *   SqliteModelStore    a file per generation under the data dir, the pointer a JSON file (model-files.ts);
 *                       one process owns them, so one rebuild at a time is the projector's own check
 *   PostgresModelStore  a schema per generation in the service's database, the pointer a row that every
 *                       instance reads through, the rebuild lock an advisory lock in the database
 *                       (postgres-model-store.ts); `shared`: several instances feed and read the same models
 */
import type { ModelConnection } from './projection.js';
import type { ReadModel, ReadModelCreateOptions } from './read-model.js';

/** The live model as the pointer names it. */
export interface CurrentModel {
  /** The file name (SQLite) or the schema (PostgreSQL). */
  location: string;
  version: number;
  generation: number;
}

/** Held by the instance that rebuilds; released when the rebuild ends (or, on PostgreSQL, when its connection dies). */
export interface RebuildLock {
  release(): Promise<void>;
}

export type NewModelOptions = Omit<ReadModelCreateOptions, 'generation'>;

export interface ModelStore {
  /** Several instances share the models: each follows the pointer and feeds the live model in one consumer group. */
  readonly shared: boolean;
  /** Creates what the store needs (the data dir, the pointer table). */
  init(): Promise<void>;
  current(): Promise<CurrentModel | undefined>;
  /** The model the pointer names; undefined when it is missing. */
  open(current: CurrentModel): Promise<ReadModel | undefined>;
  /** The first model, live at once; on a shared store, the one another instance created meanwhile, if any. */
  createFirst(options: NewModelOptions, liveSince: string): Promise<ReadModel>;
  /** A shadow for a rebuild, of the next generation. */
  createShadow(options: NewModelOptions): Promise<ReadModel>;
  /** Makes `model` the live one for every reader: marked live, the pointer moved, atomically. */
  promote(model: ReadModel, liveSince: string): Promise<void>;
  /** Deletes a model that no reader may use any more (replaced by a swap, or a cancelled shadow). */
  drop(model: ReadModel): Promise<void>;
  /** Deletes the models the pointer does not name (a crashed rebuild's shadow, an interrupted deletion). */
  removeStrays(): Promise<void>;
  /** The rebuild lock, or undefined when another instance holds it. */
  lockRebuild(): Promise<RebuildLock | undefined>;
  /** Runs `query` on the live model: the pointer's (shared), else `live`. */
  read<T>(live: ReadModel | undefined, query: (model: ModelConnection) => T | Promise<T>): Promise<T>;
}
