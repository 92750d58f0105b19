/**
 * One read-model file: the projection's own tables plus two of Shoal's (docs/reference/projections.md).
 *
 *   projection_meta       one row: name, version, generation, where the build started, created_at,
 *                         live_since (when it began serving reads; null while it is a shadow being built)
 *   projection_positions  (topic, partition) -> next_offset, the offset of the next record to apply
 *
 * `commit` runs a batch's handler writes and the new position of its partition in ONE SQLite transaction
 * (asynchronous: the handlers may return promises, and commits on one connection queue, serial-transactions.ts
 * of @shoal/store-sqlite), so
 * the positions always describe exactly the events the model contains: after a crash the consumer resumes at
 * them and applies nothing twice and skips nothing. The positions are mirrored in memory (this object is
 * their only writer) so the consumer can drop already-applied records without a query.
 *
 * WAL with synchronous NORMAL by default: a commit survives a process crash (what positions must survive);
 * FULL also survives a power loss, at the cost of an fsync per commit.
 */
import { rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { ShoalError } from '@shoal/core';
import { SerialTransactions } from '@shoal/store-sqlite';
import { PartitionMap } from './partition-map.js';
import type { Projection, SqliteDatabase } from './projection.js';

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

export interface ReadModelFileOptions {
  synchronous: 'NORMAL' | 'FULL';
  busyTimeoutMs: number;
}

export interface ReadModelCreateOptions extends ReadModelFileOptions {
  projection: Projection;
  generation: number;
  builtFrom: BuildFrom;
  /** The first offset to apply in each partition. */
  startOffsets: PartitionMap<number>;
  createdAt: string;
}

interface MetaRow {
  name: string;
  version: number;
  generation: number;
  built_from: string;
  built_from_timestamp: number | null;
  created_at: string;
  live_since: string | null;
}

interface PositionRow {
  topic: string;
  partition: number;
  next_offset: number;
}

const SHOAL_TABLES = `
CREATE TABLE projection_meta (
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  generation INTEGER NOT NULL,
  built_from TEXT NOT NULL CHECK (built_from IN ('beginning', 'timestamp')),
  built_from_timestamp INTEGER,
  created_at TEXT NOT NULL,
  live_since TEXT
);
CREATE TABLE projection_positions (
  topic TEXT NOT NULL,
  partition INTEGER NOT NULL,
  next_offset INTEGER NOT NULL,
  PRIMARY KEY (topic, partition)
) WITHOUT ROWID;
`;

export class ReadModel {
  readonly path: string;
  readonly db: SqliteDatabase;
  private metaRow: ReadModelMeta;
  private readonly positionMap: PartitionMap<number>;
  private readonly savePosition: Database.Statement<[string, number, number]>;
  private readonly transactions: SerialTransactions;
  private closed = false;

  private constructor(path: string, db: SqliteDatabase) {
    this.path = path;
    this.db = db;
    const meta = db.prepare<[], MetaRow>('SELECT * FROM projection_meta').get();
    if (meta === undefined) throw new ShoalError('SHOAL_DATABASE', `${path} is not a read model: projection_meta is empty`);
    this.metaRow = metaOf(meta);
    this.positionMap = PartitionMap.of(
      db
        .prepare<[], PositionRow>('SELECT topic, partition, next_offset FROM projection_positions')
        .all()
        .map((row) => ({ topic: row.topic, partition: row.partition, value: row.next_offset })),
    );
    this.savePosition = db.prepare(
      'INSERT INTO projection_positions (topic, partition, next_offset) VALUES (?, ?, ?) ON CONFLICT (topic, partition) DO UPDATE SET next_offset = excluded.next_offset',
    );
    this.transactions = new SerialTransactions(db);
  }

  /**
   * A new file at `path` (any file there is replaced): Shoal's tables, the projection's `migrate`, the meta
   * row and the start positions, in one transaction. A `migrate` that throws leaves no file behind.
   */
  static create(path: string, options: ReadModelCreateOptions): ReadModel {
    removeFiles(path);
    const db = openFile(path, options);
    try {
      db.transaction(() => {
        db.exec(SHOAL_TABLES);
        try {
          options.projection.migrate(db);
        } catch (cause) {
          throw new ShoalError('SHOAL_HANDLER_FAILED', `migrate of projection ${options.projection.name} v${options.projection.version} failed: ${(cause as Error).message}`, {
            cause,
          });
        }
        const from = options.builtFrom;
        db.prepare(
          'INSERT INTO projection_meta (name, version, generation, built_from, built_from_timestamp, created_at, live_since) VALUES (?, ?, ?, ?, ?, ?, NULL)',
        ).run(
          options.projection.name,
          options.projection.version,
          options.generation,
          from === 'beginning' ? 'beginning' : 'timestamp',
          from === 'beginning' ? null : from.timestamp,
          options.createdAt,
        );
        const insert = db.prepare('INSERT INTO projection_positions (topic, partition, next_offset) VALUES (?, ?, ?)');
        for (const { topic, partition, value } of options.startOffsets.list()) insert.run(topic, partition, value);
      })();
      return new ReadModel(path, db);
    } catch (error) {
      db.close();
      removeFiles(path);
      throw error;
    }
  }

  /** The existing read model at `path`. */
  static open(path: string, options: ReadModelFileOptions): ReadModel {
    const db = openFile(path, options);
    try {
      return new ReadModel(path, db);
    } catch (cause) {
      db.close();
      if (cause instanceof ShoalError) throw cause;
      throw new ShoalError('SHOAL_DATABASE', `${path} is not a read model: ${(cause as Error).message}`, { cause });
    }
  }

  get meta(): ReadModelMeta {
    return this.metaRow;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** The offset of the next record to apply in a partition; undefined for a partition never seen. */
  position(topic: string, partition: number): number | undefined {
    return this.positionMap.get(topic, partition);
  }

  positions(): PartitionMap<number> {
    return PartitionMap.of(this.positionMap.list());
  }

  /**
   * Runs `apply` (the handlers of a run of records of one partition) and moves the partition's position to
   * `nextOffset`, in one transaction. A throw rolls back both.
   */
  async commit(apply: (db: SqliteDatabase) => void | PromiseLike<void>, topic: string, partition: number, nextOffset: number): Promise<void> {
    await this.transactions.run(() => {
      const applied = apply(this.db);
      if (applied === undefined) {
        this.savePosition.run(topic, partition, nextOffset);
        return undefined;
      }
      return Promise.resolve(applied).then(() => {
        this.savePosition.run(topic, partition, nextOffset);
      });
    });
    this.positionMap.set(topic, partition, nextOffset);
  }

  /** Stores a start position for each partition that has none (a partition added to a topic since the build). */
  async addMissingPositions(offsets: PartitionMap<number>): Promise<void> {
    const missing = offsets.list().filter(({ topic, partition }) => !this.positionMap.has(topic, partition));
    if (missing.length === 0) return;
    await this.transactions.run(() => {
      for (const { topic, partition, value } of missing) this.savePosition.run(topic, partition, value);
    });
    for (const { topic, partition, value } of missing) this.positionMap.set(topic, partition, value);
  }

  /**
   * Records when the model began serving reads. Synchronous, for the swap's single turn: one statement of its
   * own between two commits (a commit whose handlers are awaiting would take it into its transaction).
   */
  markLive(time: string): void {
    this.db.prepare('UPDATE projection_meta SET live_since = ?').run(time);
    this.metaRow = { ...this.metaRow, liveSince: time };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  /** Closes the connection and deletes the file with its WAL and shared-memory files. */
  remove(): void {
    this.close();
    removeFiles(this.path);
  }
}

function openFile(path: string, options: ReadModelFileOptions): SqliteDatabase {
  try {
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous}`);
    db.pragma(`busy_timeout = ${options.busyTimeoutMs}`);
    return db;
  } catch (cause) {
    throw new ShoalError('SHOAL_DATABASE', `Cannot open the read model ${path}: ${(cause as Error).message}`, { cause });
  }
}

/** A database file with its WAL and shared-memory companions. */
export function removeFiles(path: string): void {
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
}

function metaOf(row: MetaRow): ReadModelMeta {
  return {
    name: row.name,
    version: row.version,
    generation: row.generation,
    builtFrom: row.built_from === 'timestamp' ? { timestamp: row.built_from_timestamp ?? 0 } : 'beginning',
    createdAt: row.created_at,
    liveSince: row.live_since,
  };
}
