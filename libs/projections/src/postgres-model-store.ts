/**
 * The models of a projection in the service's PostgreSQL database, shared by every instance of the service:
 *
 *   "<name>_v<version>_g<generation>"   a schema per model generation (postgres-read-model.ts)
 *   public.shoal_projections           the pointer: one row per projection naming the live schema, and
 *                                      the next generation to hand out
 *
 * The swap after a rebuild is one transaction that marks the shadow live and moves the pointer, so every
 * instance switches at once: reads go through the pointer (each read is a REPEATABLE READ transaction that
 * reads the pointer, then its model). A replaced generation is dropped under an advisory lock that every
 * read takes shared: the drop waits for the reads that began on the old schema, and later reads see the
 * new pointer.
 *
 * One rebuild at a time across instances: the rebuilding instance holds an advisory lock, taken with
 * pg_try_advisory_xact_lock in a transaction it keeps open while it rebuilds. If the instance dies, its
 * connection closes and the server releases the lock; another instance may then rebuild. The first model
 * is created under the same lock, so instances starting together create one.
 */
import { ShoalError, type ShoalLogger } from '@shoal/core';
import { createTables, queryBuilder, type ServiceDatabase } from '@shoal/store';
import type { CurrentModel, ModelStore, NewModelOptions, RebuildLock } from './model-store.js';
import { PostgresReadModel, quoted, useSchema } from './postgres-read-model.js';
import type { ModelConnection } from './projection.js';
import type { ReadModel } from './read-model.js';

/** Advisory lock classes (the first key of the two-key form; the second is hashtext of the projection's name). */
export const REBUILD_LOCK_CLASS = 0x5_1a_0002;
export const READ_LOCK_CLASS = 0x5_1a_0003;

interface PointerRow {
  schema: string;
  version: number;
  generation: number;
}

export class PostgresModelStore implements ModelStore {
  readonly shared = true;

  constructor(
    private readonly database: ServiceDatabase,
    private readonly name: string,
    private readonly logger: ShoalLogger,
  ) {
    if (database.sql.dialect !== 'postgres') throw new ShoalError('SHOAL_CONFIG_INVALID', `PostgresModelStore needs a PostgreSQL database, got ${database.sql.dialect}`);
  }

  async init(): Promise<void> {
    await createTables(this.database, {
      sqlite: [],
      postgres: [
        `CREATE TABLE IF NOT EXISTS public.shoal_projections (
          name            TEXT PRIMARY KEY,
          schema          TEXT NOT NULL,
          version         INTEGER NOT NULL,
          generation      INTEGER NOT NULL,
          next_generation INTEGER NOT NULL,
          swapped_at      TEXT NOT NULL
        )`,
      ],
    });
  }

  async current(): Promise<CurrentModel | undefined> {
    const row = await this.database.sql.get<PointerRow>('SELECT schema, version, generation FROM public.shoal_projections WHERE name = ?', [this.name]);
    return row === undefined ? undefined : { location: row.schema, version: row.version, generation: row.generation };
  }

  async open(current: CurrentModel): Promise<ReadModel | undefined> {
    const exists = await this.database.sql.get('SELECT 1 AS found FROM pg_namespace WHERE nspname = ?', [current.location]);
    if (exists === undefined) return undefined;
    return this.database.transact((tx) => PostgresReadModel.loadIn(tx.sql, this.database, current.location));
  }

  async createFirst(options: NewModelOptions, liveSince: string): Promise<ReadModel> {
    return this.database.transact(async (tx) => {
      await tx.sql.get('SELECT pg_advisory_xact_lock(?, hashtext(?))', [REBUILD_LOCK_CLASS, this.name]);
      const pointer = await tx.sql.get<PointerRow>('SELECT schema, version, generation FROM public.shoal_projections WHERE name = ?', [this.name]);
      const generation = pointer === undefined ? 1 : pointer.generation + 1;
      if (pointer !== undefined) {
        const exists = await tx.sql.get('SELECT 1 AS found FROM pg_namespace WHERE nspname = ?', [pointer.schema]);
        // Another instance created it while this one looked.
        if (exists !== undefined) return PostgresReadModel.loadIn(tx.sql, this.database, pointer.schema);
      }
      const model = await PostgresReadModel.createIn(tx.sql, this.database, { ...options, generation });
      await tx.sql.run('UPDATE projection_meta SET live_since = ?', [liveSince]);
      await tx.sql.run(
        `INSERT INTO public.shoal_projections (name, schema, version, generation, next_generation, swapped_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET schema = excluded.schema, version = excluded.version, generation = excluded.generation,
           next_generation = excluded.next_generation, swapped_at = excluded.swapped_at`,
        [this.name, model.location, options.projection.version, generation, generation + 1, liveSince],
      );
      return PostgresReadModel.loadIn(tx.sql, this.database, model.location);
    });
  }

  async createShadow(options: NewModelOptions): Promise<ReadModel> {
    return this.database.transact(async (tx) => {
      const next = await tx.sql.get<{ generation: number }>(
        'UPDATE public.shoal_projections SET next_generation = next_generation + 1 WHERE name = ? RETURNING next_generation - 1 AS generation',
        [this.name],
      );
      if (next === undefined) throw new ShoalError('SHOAL_DATABASE', `Projection ${this.name} has no live model to rebuild`);
      return PostgresReadModel.createIn(tx.sql, this.database, { ...options, generation: next.generation });
    });
  }

  async promote(model: ReadModel, liveSince: string): Promise<void> {
    await this.database.transact(async (tx) => {
      await useSchema(tx.sql, model.location);
      await tx.sql.run('UPDATE projection_meta SET live_since = ?', [liveSince]);
      await tx.sql.run('UPDATE public.shoal_projections SET schema = ?, version = ?, generation = ?, swapped_at = ? WHERE name = ?', [
        model.location,
        model.meta.version,
        model.meta.generation,
        liveSince,
        this.name,
      ]);
    });
  }

  async drop(model: ReadModel): Promise<void> {
    await model.close();
    await this.dropSchema(model.location);
  }

  async removeStrays(): Promise<void> {
    const current = await this.current();
    const schemas = await this.database.sql.all<{ nspname: string }>('SELECT nspname FROM pg_namespace WHERE nspname ~ ?', [`^${this.name}_v[0-9]+_g[0-9]+$`]);
    for (const { nspname } of schemas) {
      if (nspname === current?.location) continue;
      this.logger.info({ schema: nspname }, `dropping ${nspname}, a model of ${this.name} that the pointer does not name`);
      await this.dropSchema(nspname);
    }
  }

  async lockRebuild(): Promise<RebuildLock | undefined> {
    let answer!: (locked: boolean) => void;
    const acquired = new Promise<boolean>((resolve) => (answer = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    // Held for as long as the transaction stays open; it writes nothing, so the open transaction holds back no vacuum.
    const holding = this.database.transact(async (tx) => {
      const row = await tx.sql.get<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock(?, hashtext(?)) AS locked', [REBUILD_LOCK_CLASS, this.name]);
      answer(row?.locked === true);
      if (row?.locked === true) await released;
    });
    const failed = holding.then(
      () => undefined,
      (error: unknown) => error,
    );
    const first = await Promise.race([acquired, failed.then((error) => (error === undefined ? false : Promise.reject(error)))]);
    if (!first) {
      await holding.catch(() => undefined);
      return undefined;
    }
    void failed.then((error) => {
      if (error !== undefined) this.logger.warn({ err: error }, `the rebuild lock of ${this.name} was lost with its connection`);
    });
    return {
      release: async () => {
        release();
        await holding.catch(() => undefined);
      },
    };
  }

  read<T>(_live: ReadModel | undefined, query: (model: ModelConnection) => T | Promise<T>): Promise<T> {
    return this.database.transact(async (tx) => {
      await tx.sql.run('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      await tx.sql.get('SELECT pg_advisory_xact_lock_shared(?, hashtext(?))', [READ_LOCK_CLASS, this.name]);
      const live = await tx.sql.get<{ path: string }>(`SELECT set_config('search_path', '"' || schema || '"', true) AS path FROM public.shoal_projections WHERE name = ?`, [this.name]);
      if (live === undefined) throw new ShoalError('SHOAL_SERVICE_UNAVAILABLE', `Projection ${this.name} has no read model yet`, { retriable: true });
      return query({ db: queryBuilder(tx.sql), sql: tx.sql });
    });
  }

  private async dropSchema(schema: string): Promise<void> {
    await this.database.transact(async (tx) => {
      await tx.sql.get('SELECT pg_advisory_xact_lock(?, hashtext(?))', [READ_LOCK_CLASS, this.name]);
      await tx.sql.run(`DROP SCHEMA IF EXISTS ${quoted(schema)} CASCADE`);
    });
  }
}
