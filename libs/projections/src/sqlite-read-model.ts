/**
 * A read model in a SQLite file of its own (read-model.ts): WAL with synchronous NORMAL by default, so a
 * commit survives a process crash (what positions must survive); FULL also survives a power loss, at the
 * cost of an fsync per commit.
 *
 * One connection per file, and every transaction on it, reads included, runs through one queue
 * (serial-transactions.ts of @shoal/store-sqlite): a run whose handlers await holds the connection until it
 * commits, so a read never sees half a run. A run whose handlers return nothing is begun, applied and
 * committed in one synchronous stretch, as before handlers could await. This process is the file's only
 * writer, so the mirror of the positions is the stored position.
 */
import { rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { ShoalError } from '@shoal/core';
import { queryBuilder } from '@shoal/store';
import { isPromiseLike, SerialTransactions, SqliteExecutor } from '@shoal/store-sqlite';
import { PartitionMap } from './partition-map.js';
import type { ModelConnection } from './projection.js';
import { INSERT_META, metaOf, metaParams, SAVE_POSITION, type MetaRow, type ModelApply, type PositionRow, type ReadModel, type ReadModelCreateOptions, type ReadModelMeta } from './read-model.js';

export interface SqliteModelFileOptions {
  synchronous: 'NORMAL' | 'FULL';
  busyTimeoutMs: number;
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

export class SqliteReadModel implements ReadModel {
  readonly path: string;
  readonly location: string;
  /** The connection; for tests that look inside the file. */
  readonly db: Database.Database;
  private readonly connection: ModelConnection;
  private metaRow: ReadModelMeta;
  private readonly positionMap: PartitionMap<number>;
  private readonly sql: SqliteExecutor;
  private readonly transactions: SerialTransactions;
  private closed = false;

  private constructor(path: string, db: Database.Database, meta: ReadModelMeta, positions: PartitionMap<number>) {
    this.path = path;
    this.location = path.slice(path.lastIndexOf('/') + 1);
    this.db = db;
    this.sql = new SqliteExecutor(db);
    this.connection = { db: queryBuilder(this.sql), sql: this.sql };
    this.metaRow = meta;
    this.positionMap = positions;
    this.transactions = new SerialTransactions(db);
  }

  private static load(path: string, db: Database.Database): SqliteReadModel {
    const meta = db.prepare<[], MetaRow>('SELECT * FROM projection_meta').get();
    if (meta === undefined) throw new ShoalError('SHOAL_DATABASE', `${path} is not a read model: projection_meta is empty`);
    const positions = PartitionMap.of(
      db
        .prepare<[], PositionRow>('SELECT topic, partition, next_offset FROM projection_positions')
        .all()
        .map((row) => ({ topic: row.topic, partition: row.partition, value: row.next_offset })),
    );
    return new SqliteReadModel(path, db, metaOf(meta), positions);
  }

  /**
   * A new file at `path` (any file there is replaced): Shoal's tables, the projection's `migrate`, the meta
   * row and the start positions, in one transaction. A `migrate` that throws leaves no file behind.
   */
  static async create(path: string, options: ReadModelCreateOptions & SqliteModelFileOptions): Promise<SqliteReadModel> {
    removeFiles(path);
    const db = openFile(path, options);
    try {
      const sql = new SqliteExecutor(db);
      await new SerialTransactions(db).run(async () => {
        db.exec(SHOAL_TABLES);
        try {
          await options.projection.migrate({ db: queryBuilder(sql), sql });
        } catch (cause) {
          throw new ShoalError('SHOAL_HANDLER_FAILED', `migrate of projection ${options.projection.name} v${options.projection.version} failed: ${(cause as Error).message}`, {
            cause,
          });
        }
        sql.run(INSERT_META, metaParams(options));
        for (const { topic, partition, value } of options.startOffsets.list()) sql.run(SAVE_POSITION, [topic, partition, value]);
      });
      return SqliteReadModel.load(path, db);
    } catch (error) {
      db.close();
      removeFiles(path);
      throw error;
    }
  }

  /** The existing read model at `path`. */
  static open(path: string, options: SqliteModelFileOptions): SqliteReadModel {
    const db = openFile(path, options);
    try {
      return SqliteReadModel.load(path, db);
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

  position(topic: string, partition: number): number | undefined {
    return this.positionMap.get(topic, partition);
  }

  positions(): PartitionMap<number> {
    return PartitionMap.of(this.positionMap.list());
  }

  async commit(apply: ModelApply, topic: string, partition: number, nextOffset: number): Promise<number> {
    const applied = await this.transactions.run(() => {
      const count = apply(this.connection, undefined);
      if (!isPromiseLike(count)) {
        this.sql.run(SAVE_POSITION, [topic, partition, nextOffset]);
        return count;
      }
      return Promise.resolve(count).then((resolved) => {
        this.sql.run(SAVE_POSITION, [topic, partition, nextOffset]);
        return resolved;
      });
    });
    this.positionMap.set(topic, partition, nextOffset);
    return applied;
  }

  async addMissingPositions(offsets: PartitionMap<number>): Promise<void> {
    const missing = offsets.list().filter(({ topic, partition }) => !this.positionMap.has(topic, partition));
    if (missing.length === 0) return;
    await this.transactions.run(() => {
      for (const { topic, partition, value } of missing) this.sql.run(SAVE_POSITION, [topic, partition, value]);
    });
    for (const { topic, partition, value } of missing) this.positionMap.set(topic, partition, value);
  }

  /** Nothing to do: this process is the file's only writer. */
  async refreshPositions(): Promise<void> {}

  read<T>(query: (model: ModelConnection) => T | Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(modelClosed(this.location));
    return this.transactions.run(() => {
      if (this.closed) throw modelClosed(this.location);
      return query(this.connection);
    });
  }

  async markLive(time: string): Promise<void> {
    await this.transactions.run(() => this.sql.run('UPDATE projection_meta SET live_since = ?', [time]));
    this.metaRow = { ...this.metaRow, liveSince: time };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // Behind every transaction queued before it: a read that began on this model ends on it.
    await this.transactions.run(() => {
      this.closed = true;
    });
    this.db.close();
  }

  /** Closes the connection and deletes the file with its WAL and shared-memory files. */
  async remove(): Promise<void> {
    await this.close();
    removeFiles(this.path);
  }
}

/** A read refused because the model closed (a swap retired it): the projector reads the live one instead. */
export function modelClosed(location: string): ShoalError {
  return new ShoalError('SHOAL_SERVICE_UNAVAILABLE', `The read model ${location} is closed`, { retriable: true, details: { closedModel: location } });
}

function openFile(path: string, options: SqliteModelFileOptions): Database.Database {
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
