/**
 * A read model in a schema of the service's PostgreSQL database (read-model.ts): `<name>_v<version>_g<generation>`,
 * holding the projection's tables and Shoal's two, shared by every instance of the service.
 *
 * Every transaction on it sets `search_path` to its schema first (SET LOCAL, so for that transaction only):
 * the projection's SQL names its tables without a schema, and runs unchanged on SQLite. A commit locks its
 * partition's position row (SELECT ... FOR UPDATE) before the handlers run and applies only the events at
 * or past the stored position: two instances holding one partition for a moment (a rebalance) serialize on
 * that row, and the second applies nothing the first applied.
 *
 * A generation that was replaced and dropped (postgres-model-store.ts) answers a commit with a retriable
 * SHOAL_DATABASE: the feed that still writes into it waits until its projector follows the pointer and stops it.
 */
import { ShoalError } from '@shoal/core';
import { queryBuilder, type ServiceDatabase, type SqlExecutor } from '@shoal/store';
import { PartitionMap } from './partition-map.js';
import type { ModelConnection } from './projection.js';
import { INSERT_META, metaOf, metaParams, SAVE_POSITION, type MetaRow, type ModelApply, type PositionRow, type ReadModel, type ReadModelCreateOptions, type ReadModelMeta } from './read-model.js';

const SHOAL_TABLES = [
  `CREATE TABLE projection_meta (
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    generation INTEGER NOT NULL,
    built_from TEXT NOT NULL CHECK (built_from IN ('beginning', 'timestamp')),
    built_from_timestamp BIGINT,
    created_at TEXT NOT NULL,
    live_since TEXT
  )`,
  `CREATE TABLE projection_positions (
    topic TEXT NOT NULL,
    partition INTEGER NOT NULL,
    next_offset BIGINT NOT NULL,
    PRIMARY KEY (topic, partition)
  )`,
];

/** The schema of a model generation. */
export function modelSchemaName(name: string, version: number, generation: number): string {
  const schema = `${name}_v${version}_g${generation}`;
  if (Buffer.byteLength(schema) > 63) {
    throw new ShoalError('SHOAL_CONFIG_INVALID', `Projection ${name}: its schema name ${schema} is longer than PostgreSQL's 63 bytes: give the projection a shorter name`);
  }
  return schema;
}

/** A schema name as an identifier (names are letters, digits, - and _: nothing to escape). */
export function quoted(schema: string): string {
  return `"${schema}"`;
}

/** Makes `schema` the first place the transaction of `sql` looks for tables. */
export async function useSchema(sql: SqlExecutor, schema: string): Promise<void> {
  await sql.get("SELECT set_config('search_path', ?, true)", [quoted(schema)]);
}

export class PostgresReadModel implements ReadModel {
  readonly location: string;
  private readonly database: ServiceDatabase;
  private metaRow: ReadModelMeta;
  private readonly positionMap: PartitionMap<number>;
  private closed = false;
  private readonly inFlight = new Set<Promise<unknown>>();

  private constructor(database: ServiceDatabase, schema: string, meta: ReadModelMeta, positions: PartitionMap<number>) {
    this.database = database;
    this.location = schema;
    this.metaRow = meta;
    this.positionMap = positions;
  }

  /** A new schema with Shoal's tables, the projection's `migrate`, the meta row and the start positions, in `sql`'s transaction. */
  static async createIn(sql: SqlExecutor, database: ServiceDatabase, options: ReadModelCreateOptions): Promise<PostgresReadModel> {
    const schema = modelSchemaName(options.projection.name, options.projection.version, options.generation);
    await sql.run(`CREATE SCHEMA ${quoted(schema)}`);
    await useSchema(sql, schema);
    for (const statement of SHOAL_TABLES) await sql.run(statement);
    try {
      await options.projection.migrate({ db: queryBuilder(sql), sql });
    } catch (cause) {
      throw new ShoalError('SHOAL_HANDLER_FAILED', `migrate of projection ${options.projection.name} v${options.projection.version} failed: ${(cause as Error).message}`, { cause });
    }
    await sql.run(INSERT_META, metaParams(options));
    for (const { topic, partition, value } of options.startOffsets.list()) await sql.run(SAVE_POSITION, [topic, partition, value]);
    return PostgresReadModel.loadIn(sql, database, schema);
  }

  /** The model in `schema`, read in `sql`'s transaction. */
  static async loadIn(sql: SqlExecutor, database: ServiceDatabase, schema: string): Promise<PostgresReadModel> {
    await useSchema(sql, schema);
    let meta: MetaRow | undefined;
    let rows: PositionRow[];
    try {
      meta = await sql.get<MetaRow>('SELECT * FROM projection_meta');
      rows = await sql.all<PositionRow>('SELECT topic, partition, next_offset FROM projection_positions');
    } catch (cause) {
      if (cause instanceof ShoalError) throw cause;
      throw new ShoalError('SHOAL_DATABASE', `The schema ${schema} is not a read model: ${(cause as Error).message}`, { cause });
    }
    if (meta === undefined) throw new ShoalError('SHOAL_DATABASE', `The schema ${schema} is not a read model: projection_meta is empty`);
    return new PostgresReadModel(database, schema, metaOf(meta), PartitionMap.of(rows.map((row) => ({ topic: row.topic, partition: row.partition, value: Number(row.next_offset) }))));
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
    let stored: number | undefined;
    const applied = await this.transact(async (sql) => {
      const row = await sql.get<{ next_offset: number }>('SELECT next_offset FROM projection_positions WHERE topic = ? AND partition = ? FOR UPDATE', [topic, partition]);
      stored = row === undefined ? undefined : Number(row.next_offset);
      // Another instance applied the whole run already (it held the partition before a rebalance).
      if (stored !== undefined && stored >= nextOffset) return 0;
      const count = await apply({ db: queryBuilder(sql), sql }, stored);
      await sql.run(SAVE_POSITION, [topic, partition, nextOffset]);
      stored = nextOffset;
      return count;
    });
    this.advance(topic, partition, stored ?? nextOffset);
    return applied;
  }

  async addMissingPositions(offsets: PartitionMap<number>): Promise<void> {
    const missing = offsets.list().filter(({ topic, partition }) => !this.positionMap.has(topic, partition));
    if (missing.length === 0) return;
    await this.transact(async (sql) => {
      for (const { topic, partition, value } of missing) {
        await sql.run('INSERT INTO projection_positions (topic, partition, next_offset) VALUES (?, ?, ?) ON CONFLICT (topic, partition) DO NOTHING', [topic, partition, value]);
      }
    });
    await this.refreshPositions();
  }

  async refreshPositions(): Promise<void> {
    const rows: PositionRow[] = await this.transact((sql) => sql.all<PositionRow>('SELECT topic, partition, next_offset FROM projection_positions'));
    for (const row of rows) this.advance(row.topic, row.partition, Number(row.next_offset));
  }

  read<T>(query: (model: ModelConnection) => T | Promise<T>): Promise<T> {
    return this.transact(async (sql) => query({ db: queryBuilder(sql), sql }));
  }

  async markLive(time: string): Promise<void> {
    await this.transact((sql) => sql.run('UPDATE projection_meta SET live_since = ?', [time]));
    this.metaRow = { ...this.metaRow, liveSince: time };
  }

  /** Waits for the transactions in flight; the pool is the service's and stays open. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.inFlight]);
  }

  /** Closes; the schema is dropped by the model store, under the lock readers take (postgres-model-store.ts). */
  async remove(): Promise<void> {
    await this.close();
  }

  private advance(topic: string, partition: number, position: number): void {
    if (position > (this.positionMap.get(topic, partition) ?? -1)) this.positionMap.set(topic, partition, position);
  }

  /** `work` in a transaction on this model's schema. */
  private transact<T>(work: (sql: SqlExecutor) => T | Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new ShoalError('SHOAL_SERVICE_UNAVAILABLE', `The read model ${this.location} is closed`, { retriable: true }));
    const running = this.database
      .transact(async (tx) => {
        await useSchema(tx.sql, this.location);
        return await work(tx.sql);
      })
      .catch((error: unknown) => this.retired(error));
    this.inFlight.add(running);
    void running.then(
      () => this.inFlight.delete(running),
      () => this.inFlight.delete(running),
    );
    return running;
  }

  /** A missing table in a dropped generation is its retirement, which the feed waits out; anything else passes. */
  private async retired(error: unknown): Promise<never> {
    if ((error as { code?: unknown } | null)?.code === '42P01') {
      const exists = await this.database.sql.get<{ found: number }>('SELECT 1 AS found FROM pg_namespace WHERE nspname = ?', [this.location]);
      if (exists === undefined) {
        throw new ShoalError('SHOAL_DATABASE', `The read model ${this.location} was replaced by a rebuild and dropped`, { cause: error, retriable: true, details: { retiredModel: this.location } });
      }
    }
    throw error;
  }
}
