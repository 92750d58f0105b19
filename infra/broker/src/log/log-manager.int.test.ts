import Database from 'better-sqlite3';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ErrorCode } from '../protocol/error-codes.js';
import { encodeBatch } from '../testing/kafkajs-batch.js';
import { tempDir } from '@shoal/testing';
import { LogManager } from './log-manager.js';
import { LogStore } from './log-store.js';
import { readBaseOffset } from './record-batch.js';

const defaults = { retentionMs: -1, retentionBytes: -1, maxMessageBytes: 1024 * 1024 };

function openLogs(dataDir: string, clock: { now: number }, overrides: Partial<typeof defaults> = {}) {
  const store = new LogStore({ dataDir, fsync: false });
  const logs = new LogManager({ store, defaults: { ...defaults, ...overrides }, logger: pino({ level: 'silent' }), now: () => clock.now });
  return { store, logs };
}


describe('LogManager on a SQLite file', () => {
  it('gives every topic a protocol topic id that survives a restart, also to topics of a database written before ids existed', async () => {
    const dir = tempDir();
    // The topics table as it was before the uuid column.
    const old = new Database(join(dir, 'broker.db'));
    old.exec(`CREATE TABLE topics (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, partitions INTEGER NOT NULL, configs TEXT NOT NULL DEFAULT '{}');
              INSERT INTO topics (name, partitions) VALUES ('legacy', 1);
              CREATE TABLE partitions (topic_id INTEGER NOT NULL, partition INTEGER NOT NULL, log_start_offset INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (topic_id, partition)) WITHOUT ROWID;
              INSERT INTO partitions (topic_id, partition) VALUES (1, 0);`);
    old.close();

    const clock = { now: 1_000_000 };
    const first = openLogs(dir, clock);
    first.logs.createTopic('fresh', 2, {});
    const ids = first.logs.listTopics().map((t) => [t.name, t.uuid] as const);
    expect(ids.map(([name]) => name)).toEqual(['legacy', 'fresh']);
    for (const [, uuid] of ids) expect(uuid).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(ids.map(([, uuid]) => uuid)).size).toBe(2);
    expect(first.logs.getTopicByUuid(ids[1]![1])?.name).toBe('fresh');
    await first.store.close();

    const second = openLogs(dir, clock);
    onTestFinished(() => second.store.close());
    expect(second.logs.listTopics().map((t) => [t.name, t.uuid] as const)).toEqual(ids);
    // A topic deleted and created again is another topic, with another id.
    second.logs.deleteTopic('fresh');
    second.logs.createTopic('fresh', 2, {});
    expect(second.logs.getTopic('fresh')!.uuid).not.toBe(ids[1]![1]);
  });

  it('assigns consecutive offsets and restores topics, offsets and producer windows after reopening', async () => {
    const dir = tempDir();
    const clock = { now: 1_000_000 };
    const first = openLogs(dir, clock);
    expect(first.logs.createTopic('orders.order', 2, { 'retention.ms': '1000' }).errorCode).toBe(ErrorCode.NONE);
    const results = first.logs.append([
      { topic: 'orders.order', partition: 0, records: await encodeBatch([{ value: 'a' }, { value: 'b' }], { producerId: 7, firstSequence: 0 }) },
      { topic: 'orders.order', partition: 0, records: await encodeBatch([{ value: 'c' }], { producerId: 7, firstSequence: 2 }) },
      { topic: 'orders.order', partition: 1, records: await encodeBatch([{ value: 'd' }]) },
      { topic: 'nope', partition: 0, records: await encodeBatch([{ value: 'e' }]) },
    ]);
    expect(results.map((r) => [r.errorCode, r.baseOffset])).toEqual([[0, 0], [0, 2], [0, 0], [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, -1]]);
    await first.store.close();

    const second = openLogs(dir, clock);
    onTestFinished(() => second.store.close());
    const log = second.logs.getPartition('orders.order', 0)!;
    expect(log.logEndOffset).toBe(3);
    expect(second.logs.getTopic('orders.order')?.configs).toEqual({ 'retention.ms': '1000' });
    // The producer window came back: a retry of the first batch is still recognised as a duplicate.
    const retry = second.logs.append([{ topic: 'orders.order', partition: 0, records: await encodeBatch([{ value: 'a' }, { value: 'b' }], { producerId: 7, firstSequence: 0 }) }]);
    expect(retry[0]).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: 0 });
    expect(log.logEndOffset).toBe(3);
    const read = second.logs.read(log, 1, 1 << 20, true);
    expect(read.batches.map(readBaseOffset)).toEqual([0, 2]);
  });

  it('returns at least one batch when the first exceeds max bytes, and respects the limit after that', async () => {
    const { store, logs } = openLogs(tempDir(), { now: 0 });
    onTestFinished(() => store.close());
    logs.createTopic('t', 1, {});
    for (let i = 0; i < 3; i++) logs.append([{ topic: 't', partition: 0, records: await encodeBatch([{ value: 'x'.repeat(500) }]) }]);
    const log = logs.getPartition('t', 0)!;
    expect(logs.read(log, 0, 10, true).batches).toHaveLength(1);
    expect(logs.read(log, 0, 10, false).batches).toHaveLength(0);
    expect(logs.read(log, 3, 1 << 20, true).batches).toHaveLength(0);
  });

  it('deletes expired and oversized batches from the start but keeps the newest and the log end offset', async () => {
    const clock = { now: 10_000 };
    const { store, logs } = openLogs(tempDir(), clock);
    onTestFinished(() => store.close());
    logs.createTopic('timed', 1, { 'retention.ms': '1000' });
    logs.createTopic('sized', 1, { 'retention.bytes': '1' });
    for (let i = 0; i < 3; i++) {
      logs.append([
        { topic: 'timed', partition: 0, records: await encodeBatch([{ value: `t${i}` }], { firstTimestamp: 1000 + i }) },
        { topic: 'sized', partition: 0, records: await encodeBatch([{ value: `s${i}` }], { firstTimestamp: clock.now }) },
      ]);
    }
    logs.enforceRetention();
    for (const name of ['timed', 'sized']) {
      const log = logs.getPartition(name, 0)!;
      expect([log.logStartOffset, log.logEndOffset]).toEqual([2, 3]);
      expect(logs.read(log, 2, 1 << 20, true).batches.map(readBaseOffset)).toEqual([2]);
    }
  });

  it('moves the log start with deleteRecords and refuses offsets past the end', async () => {
    const { store, logs } = openLogs(tempDir(), { now: 0 });
    onTestFinished(() => store.close());
    logs.createTopic('t', 1, {});
    logs.append([{ topic: 't', partition: 0, records: await encodeBatch([{ value: 'a' }, { value: 'b' }]) }]);
    logs.append([{ topic: 't', partition: 0, records: await encodeBatch([{ value: 'c' }]) }]);
    const log = logs.getPartition('t', 0)!;
    expect(logs.deleteRecords(log, 1)).toEqual({ errorCode: ErrorCode.NONE, lowWatermark: 1 });
    expect(logs.deleteRecords(log, 9).errorCode).toBe(ErrorCode.OFFSET_OUT_OF_RANGE);
    expect(logs.deleteRecords(log, -1)).toEqual({ errorCode: ErrorCode.NONE, lowWatermark: 3 });
    expect(logs.read(log, 3, 1 << 20, true).batches).toHaveLength(0);
  });

  it('stamps LogAppendTime topics and finds offsets by timestamp', async () => {
    const clock = { now: 5_000_000 };
    const { store, logs } = openLogs(tempDir(), clock);
    onTestFinished(() => store.close());
    logs.createTopic('append-time', 1, { 'message.timestamp.type': 'LogAppendTime' });
    logs.createTopic('create-time', 1, {});
    const result = logs.append([{ topic: 'append-time', partition: 0, records: await encodeBatch([{ value: 'a' }], { firstTimestamp: 1 }) }]);
    expect(result[0]!.logAppendTimeMs).toBe(5_000_000);
    logs.append([{ topic: 'create-time', partition: 0, records: await encodeBatch([0, 1, 2, 3].map((i) => ({ value: `v${i}`, timestampDelta: i * 10 })), { firstTimestamp: 100 }) }]);
    const log = logs.getPartition('create-time', 0)!;
    expect(logs.offsetForTimestamp(log, 115)).toEqual({ offset: 2, timestamp: 120 });
    expect(logs.offsetForTimestamp(log, 131)).toBeNull();
  });

  it('validates topic names, partition counts and configs', () => {
    const { store, logs } = openLogs(tempDir(), { now: 0 });
    onTestFinished(() => store.close());
    expect(logs.createTopic('bad name', 1, {}).errorCode).toBe(ErrorCode.INVALID_TOPIC_EXCEPTION);
    expect(logs.createTopic('ok', 0, {}).errorCode).toBe(ErrorCode.INVALID_PARTITIONS);
    expect(logs.createTopic('ok', 1, { 'retention.ms': 'soon' }).errorCode).toBe(ErrorCode.INVALID_CONFIG);
    expect(logs.createTopic('ok', 1, {}, true).errorCode).toBe(ErrorCode.NONE);
    expect(logs.getTopic('ok')).toBeUndefined();
    expect(logs.addPartitions('missing', 2, false).errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });
});
