/**
 * A read model: the projection's own tables plus two of Shoal's, in a SQLite file (sqlite-read-model.ts) or
 * in a schema of the service's PostgreSQL database (postgres-read-model.ts), one per model generation
 * (docs/reference/projections.md).
 *
 *   projection_meta       one row: name, version, generation, where the build started, created_at,
 *                         live_since (when it began serving reads; null while it is a shadow being built)
 *   projection_positions  (topic, partition) -> next_offset, the offset of the next record to apply
 *
 * `commit` runs a run's handler writes and the new position of its partition in ONE transaction, so the
 * positions always describe exactly the events the model contains: after a crash the consumer resumes at
 * them and applies nothing twice and skips nothing. The positions are mirrored in memory so the consumer can
 * drop already-applied records without a query; where several instances feed one model (PostgreSQL), the
 * mirror of a partition another instance consumes is refreshed from the database (`refreshPositions`), and
 * `commit` reads the stored position under a row lock first, so a partition handed from one instance to
 * another in a rebalance still has each event applied once.
 */
import type { MaybePromise } from '@shoal/store';
import type { PartitionMap } from './partition-map.js';
import type { ModelConnection, Projection } from './projection.js';

/** Where a build starts reading each partition. */
export type BuildFrom = 'beginning' | { timestamp: number };

export interface ReadModelMeta {
  name: string;
  version: number;
  generation: number;
  builtFrom: BuildFrom;
  createdAt: string;
  liveSince: string | null;
}

export interface ReadModelCreateOptions {
  projection: Projection;
  generation: number;
  builtFrom: BuildFrom;
  /** The first offset to apply in each partition. */
  startOffsets: PartitionMap<number>;
  createdAt: string;
}

/**
 * Applies a run's events to the model: `from` is the stored position of the partition when the adapter read
 * it in the transaction (PostgreSQL), events below it were applied already; undefined when the mirror is
 * the stored position (SQLite). Answers how many events it applied.
 */
export type ModelApply = (model: ModelConnection, from: number | undefined) => MaybePromise<number>;

export interface ReadModel {
  /** Where it is: the file name (SQLite) or the schema (PostgreSQL). */
  readonly location: string;
  readonly meta: ReadModelMeta;
  readonly isClosed: boolean;
  /** The offset of the next record to apply in a partition; undefined for a partition never seen. */
  position(topic: string, partition: number): number | undefined;
  positions(): PartitionMap<number>;
  /**
   * Runs `apply` (the handlers of a run of records of one partition) and moves the partition's position to
   * `nextOffset`, in one transaction. A throw rolls back both. Resolves to the number of events applied.
   */
  commit(apply: ModelApply, topic: string, partition: number, nextOffset: number): Promise<number>;
  /** Stores a start position for each partition that has none (a partition added to a topic since the build). */
  addMissingPositions(offsets: PartitionMap<number>): Promise<void>;
  /** Reads the stored positions into the mirror (positions only grow). */
  refreshPositions(): Promise<void>;
  /** Runs `query` on this model in a transaction of its own: it sees whole runs only. */
  read<T>(query: (model: ModelConnection) => T | Promise<T>): Promise<T>;
  /** Records when the model began serving reads. */
  markLive(time: string): Promise<void>;
  /** Waits for the transactions in flight, then closes. */
  close(): Promise<void>;
  /** Closes and deletes the model (its file, or its schema). */
  remove(): Promise<void>;
}

export interface MetaRow {
  name: string;
  version: number;
  generation: number;
  built_from: string;
  built_from_timestamp: number | null;
  created_at: string;
  live_since: string | null;
}

export interface PositionRow {
  topic: string;
  partition: number;
  next_offset: number;
}

export const INSERT_META =
  'INSERT INTO projection_meta (name, version, generation, built_from, built_from_timestamp, created_at, live_since) VALUES (?, ?, ?, ?, ?, ?, NULL)';
export const SAVE_POSITION =
  'INSERT INTO projection_positions (topic, partition, next_offset) VALUES (?, ?, ?) ON CONFLICT (topic, partition) DO UPDATE SET next_offset = excluded.next_offset';

/** The parameters of INSERT_META for a new model. */
export function metaParams(options: ReadModelCreateOptions): unknown[] {
  const from = options.builtFrom;
  return [
    options.projection.name,
    options.projection.version,
    options.generation,
    from === 'beginning' ? 'beginning' : 'timestamp',
    from === 'beginning' ? null : from.timestamp,
    options.createdAt,
  ];
}

export function metaOf(row: MetaRow): ReadModelMeta {
  return {
    name: row.name,
    version: row.version,
    generation: row.generation,
    builtFrom: row.built_from === 'timestamp' ? { timestamp: Number(row.built_from_timestamp ?? 0) } : 'beginning',
    createdAt: row.created_at,
    liveSince: row.live_since,
  };
}
