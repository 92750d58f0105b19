import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { tempDir } from '@shoal/testing';
import { isShoalError } from '@shoal/core';
import { PartitionMap } from './partition-map.js';
import { defineProjection } from './projection.js';
import { ReadModel } from './read-model.js';

const file = { synchronous: 'NORMAL', busyTimeoutMs: 1000 } as const;

function projection(migrate: (db: Database.Database) => void) {
  return defineProjection({ name: 'counts', version: 1, topics: ['orders.order'], migrate, handlers: { 'shoal.orders.OrderPlaced': () => undefined } });
}

function create(path: string, migrate = (db: Database.Database) => void db.exec('CREATE TABLE counts (id TEXT PRIMARY KEY, n INTEGER NOT NULL)')) {
  return ReadModel.create(path, {
    ...file,
    projection: projection(migrate),
    generation: 3,
    builtFrom: { timestamp: 1234 },
    startOffsets: PartitionMap.of([{ topic: 'orders.order', partition: 0, value: 10 }]),
    createdAt: '2026-01-31T12:00:00.000Z',
  });
}

function refusal(call: () => unknown): Error {
  try {
    call();
  } catch (error) {
    return error as Error;
  }
  throw new Error('the call succeeded');
}

describe('ReadModel', () => {
  it('creates a model with its meta and start positions, and opens it again', async () => {
    const path = join(tempDir('read-model'), 'counts.v1.g3.db');
    const model = create(path);
    expect(model.meta).toEqual({ name: 'counts', version: 1, generation: 3, builtFrom: { timestamp: 1234 }, createdAt: '2026-01-31T12:00:00.000Z', liveSince: null });
    model.markLive('2026-01-31T12:05:00.000Z');
    model.close();
    const reopened = ReadModel.open(path, file);
    expect(reopened.meta.liveSince).toBe('2026-01-31T12:05:00.000Z');
    expect(reopened.position('orders.order', 0)).toBe(10);
    expect(reopened.position('orders.order', 1)).toBeUndefined();
    await reopened.addMissingPositions(PartitionMap.of([{ topic: 'orders.order', partition: 0, value: 0 }, { topic: 'orders.order', partition: 1, value: 4 }]));
    expect(reopened.positions().list().map((p) => [p.partition, p.value])).toEqual([[0, 10], [1, 4]]);
    reopened.remove();
    expect(existsSync(path)).toBe(false);
  });

  it('commits the writes of a run with its position, or neither', async () => {
    const path = join(tempDir('read-model'), 'counts.v1.g3.db');
    const model = create(path);
    await model.commit((db) => void db.prepare("INSERT INTO counts VALUES ('a', 1)").run(), 'orders.order', 0, 11);
    await expect(
      model.commit(
        (db) => {
          db.prepare("INSERT INTO counts VALUES ('b', 1)").run();
          throw new Error('handler failed');
        },
        'orders.order',
        0,
        12,
      ),
    ).rejects.toThrow('handler failed');
    // A run whose handlers await: rolled back with its position when it rejects after writing.
    await expect(
      model.commit(
        async (db) => {
          db.prepare("INSERT INTO counts VALUES ('c', 1)").run();
          await Promise.resolve();
          db.prepare("INSERT INTO counts VALUES ('d', 1)").run();
          throw new Error('failed after an await');
        },
        'orders.order',
        0,
        13,
      ),
    ).rejects.toThrow('failed after an await');
    expect(model.position('orders.order', 0)).toBe(11);
    expect(model.db.prepare('SELECT id FROM counts').pluck().all()).toEqual(['a']);
    expect(model.db.prepare('SELECT next_offset FROM projection_positions').pluck().all()).toEqual([11]);
    model.close();
  });

  it('leaves no file when migrate fails, and refuses to open a file that is not a read model', () => {
    const dir = tempDir('read-model');
    const failed = refusal(() =>
      create(join(dir, 'counts.v1.g3.db'), () => {
        throw new Error('syntax error');
      }),
    );
    expect(isShoalError(failed, 'SHOAL_HANDLER_FAILED')).toBe(true);
    expect(failed.message).toBe('migrate of projection counts v1 failed: syntax error');
    expect(existsSync(join(dir, 'counts.v1.g3.db'))).toBe(false);

    const other = new Database(join(dir, 'other.db'));
    other.exec('CREATE TABLE t (x)');
    other.close();
    const refused = refusal(() => ReadModel.open(join(dir, 'other.db'), file));
    expect(isShoalError(refused, 'SHOAL_DATABASE')).toBe(true);
    expect(refused.message).toContain('is not a read model');
  });
});
