import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { tempDir } from '@shoal/testing';
import { isShoalError, silentLogger } from '@shoal/core';
import type { ModelStore } from './model-store.js';
import { PartitionMap } from './partition-map.js';
import { PostgresModelStore } from './postgres-model-store.js';
import { defineProjection, type ModelConnection } from './projection.js';
import { SqliteModelStore } from './sqlite-model-store.js';
import { projectionStores } from './testing/index.js';

interface Tables {
  counts: { id: string; n: number };
}

function projection(migrate: (model: ModelConnection<Tables>) => void | Promise<void>) {
  return defineProjection<Tables>({ name: 'counts', version: 1, topics: ['orders.order'], migrate, handlers: { 'shoal.orders.OrderPlaced': () => undefined } });
}

const countsTable = async ({ db }: ModelConnection<Tables>) => {
  await db.schema
    .createTable('counts')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('n', 'integer', (column) => column.notNull())
    .execute();
};

const newModel = (migrate: (model: ModelConnection<Tables>) => void | Promise<void> = countsTable) => ({
  projection: projection(migrate),
  builtFrom: { timestamp: 1234 },
  startOffsets: PartitionMap.of([{ topic: 'orders.order', partition: 0, value: 10 }]),
  createdAt: '2026-01-31T12:00:00.000Z',
});

const ids = ({ db }: ModelConnection<Tables>) =>
  db
    .selectFrom('counts')
    .select('id')
    .orderBy('id')
    .execute()
    .then((rows) => rows.map((row) => row.id));

describe.each(projectionStores)('read models on $name', (store) => {
  const openStore = async (): Promise<{ models: ModelStore; dataDir: string }> => {
    const dataDir = tempDir('read-model');
    const database = await store.database();
    const models = database === undefined ? new SqliteModelStore(dataDir, 'counts', { synchronous: 'NORMAL', busyTimeoutMs: 1000 }) : new PostgresModelStore(database, 'counts', silentLogger);
    await models.init();
    return { models, dataDir };
  };

  it.skipIf(store.missing !== undefined)('creates a model with its meta and start positions, and opens it again through the pointer', async () => {
    const { models } = await openStore();
    expect(await models.current()).toBeUndefined();
    const model = await models.createFirst(newModel(), '2026-01-31T12:05:00.000Z');
    expect(model.meta).toEqual({ name: 'counts', version: 1, generation: 1, builtFrom: { timestamp: 1234 }, createdAt: '2026-01-31T12:00:00.000Z', liveSince: '2026-01-31T12:05:00.000Z' });
    const current = await models.current();
    expect(current).toEqual({ location: model.location, version: 1, generation: 1 });
    expect(model.location).toBe(store.name === 'sqlite' ? 'counts.v1.g1.db' : 'counts_v1_g1');
    await model.close();
    const reopened = (await models.open(current!))!;
    expect(reopened.meta.liveSince).toBe('2026-01-31T12:05:00.000Z');
    expect(reopened.position('orders.order', 0)).toBe(10);
    expect(reopened.position('orders.order', 1)).toBeUndefined();
    await reopened.addMissingPositions(PartitionMap.of([{ topic: 'orders.order', partition: 0, value: 0 }, { topic: 'orders.order', partition: 1, value: 4 }]));
    expect(reopened.positions().list().map((p) => [p.partition, p.value])).toEqual([[0, 10], [1, 4]]);

    // A shadow is the next generation; promoted, it is what the pointer names, and the old one can go.
    const shadow = await models.createShadow(newModel());
    expect(shadow.meta).toMatchObject({ generation: 2, liveSince: null });
    await models.promote(shadow, '2026-01-31T13:00:00.000Z');
    expect(await models.current()).toEqual({ location: shadow.location, version: 1, generation: 2 });
    await models.drop(reopened);
    expect(await models.open({ location: reopened.location, version: 1, generation: 1 })).toBeUndefined();
    await shadow.close();
  });

  it.skipIf(store.missing !== undefined)('commits the writes of a run with its position, or neither', async () => {
    const { models } = await openStore();
    const model = await models.createFirst(newModel(), '2026-01-31T12:05:00.000Z');
    const insert = (id: string) => ({ db }: ModelConnection<Tables>) => db.insertInto('counts').values({ id, n: 1 }).execute();
    expect(
      await model.commit(
        async (connection) => {
          await insert('a')(connection);
          return 1;
        },
        'orders.order',
        0,
        11,
      ),
    ).toBe(1);
    await expect(
      model.commit(
        async (connection) => {
          await insert('b')(connection);
          throw new Error('handler failed');
        },
        'orders.order',
        0,
        12,
      ),
    ).rejects.toThrow('handler failed');
    // Raw statements, synchronous on SQLite: rolled back with the position when the run throws after writing.
    await expect(
      model.commit(
        ({ sql }) => {
          void sql.run("INSERT INTO counts VALUES ('c', 1)");
          throw new Error('failed after a write');
        },
        'orders.order',
        0,
        13,
      ),
    ).rejects.toThrow('failed after a write');
    expect(model.position('orders.order', 0)).toBe(11);
    expect(await model.read(ids)).toEqual(['a']);
    expect(await model.read(({ sql }) => sql.all<{ next_offset: number }>('SELECT next_offset FROM projection_positions'))).toEqual([{ next_offset: 11 }]);
    // A run that another writer already moved past (a stored position at or after its end) applies nothing.
    if (store.name === 'postgres') {
      await model.read(() => undefined);
      const stale = await model.commit(async (connection, from) => (from === undefined ? 0 : (await insert('z')(connection), 1)), 'orders.order', 0, 11);
      expect(stale).toBe(0);
      expect(await model.read(ids)).toEqual(['a']);
    }
    await model.close();
  });

  it.skipIf(store.missing !== undefined)('leaves nothing when migrate fails, and refuses to open what is not a read model', async () => {
    const { models, dataDir } = await openStore();
    const failed = await models
      .createFirst(
        newModel(() => {
          throw new Error('syntax error');
        }),
        '2026-01-31T12:05:00.000Z',
      )
      .catch((error: unknown) => error as Error);
    expect(isShoalError(failed, 'SHOAL_HANDLER_FAILED')).toBe(true);
    expect((failed as Error).message).toBe('migrate of projection counts v1 failed: syntax error');
    expect(await models.current()).toBeUndefined();
    if (store.name === 'sqlite') {
      expect(existsSync(join(dataDir, 'counts.v1.g1.db'))).toBe(false);
      const other = new Database(join(dataDir, 'counts.v1.g7.db'));
      other.exec('CREATE TABLE t (x)');
      other.close();
    } else {
      const database = (models as unknown as { database: { sql: ModelConnection['sql'] } }).database;
      expect(await database.sql.get("SELECT 1 AS found FROM pg_namespace WHERE nspname = 'counts_v1_g1'")).toBeUndefined();
      await database.sql.run('CREATE SCHEMA "counts_v1_g7"');
      await database.sql.run('CREATE TABLE "counts_v1_g7".t (x TEXT)');
    }
    const refused = await models.open({ location: store.name === 'sqlite' ? 'counts.v1.g7.db' : 'counts_v1_g7', version: 1, generation: 7 }).catch((error: unknown) => error as Error);
    expect(isShoalError(refused, 'SHOAL_DATABASE')).toBe(true);
    expect((refused as Error).message).toContain('is not a read model');
  });
});
