import Database from 'better-sqlite3';
import type { Database as SqliteDatabase } from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { WalCheckpointer } from './wal-checkpointer.js';

/**
 * The broker's durable state in one SQLite database (WAL):
 *
 *   topics(id, name, partitions, configs JSON, uuid)    one row per topic; ids are never reused; uuid is the
 *                                                        topic id clients see (Metadata v10+, KIP-848 assignments)
 *   partitions(topic_id, partition, log_start_offset)   the low watermark, advanced by retention/DeleteRecords
 *   batches(topic_id, partition, base_offset, last_offset, max_timestamp, size, data)
 *                                                        one row per validated record batch, stored opaque
 *   producer_states(topic_id, partition, producer_id, epoch, batches JSON)
 *                                                        idempotent-producer dedup window (last 5 batches)
 *   meta(key, value)                                     cluster id, next producer id
 *
 * The log end offset is not stored: it is max(last_offset) + 1, or the log start offset of an emptied log.
 * A produce request is one transaction, so after `kill -9` either all of its batches are there or none.
 */
export interface StoredTopic {
  id: number;
  /** The topic id of the protocol: 32 hex digits, random per topic (a recreated topic gets a new one). */
  uuid: string;
  name: string;
  partitions: number;
  configs: Record<string, string>;
}

export interface StoredPartitionState {
  logStartOffset: number;
  logEndOffset: number;
  sizeBytes: number;
}

export interface BatchRow {
  baseOffset: number;
  lastOffset: number;
  maxTimestamp: number;
  data: Buffer;
}

export interface LogStoreOptions {
  dataDir: string;
  /** true: every commit is fsynced (synchronous=FULL); false: WAL with synchronous=NORMAL, safe against process crashes. */
  fsync: boolean;
  /** How often the background thread checkpoints the WAL into the database file. Default 1000 ms. */
  checkpointIntervalMs?: number;
  /** Where checkpoint failures are reported (they are retried on the next interval). */
  onCheckpointError?: (message: string) => void;
}

export class LogStore {
  readonly db: SqliteDatabase;
  private readonly statements: ReturnType<LogStore['prepare']>;
  private readonly checkpointer: WalCheckpointer;
  // One wrapper for every transaction: better-sqlite3's wrapper is built once here, not per produce request.
  private readonly runInTransaction: (work: () => unknown) => unknown;

  constructor(options: LogStoreOptions) {
    mkdirSync(options.dataDir, { recursive: true });
    const path = join(options.dataDir, 'broker.db');
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${options.fsync ? 'FULL' : 'NORMAL'}`);
    // Checkpoints run in a worker thread (see wal-checkpointer.ts), never inline in a commit.
    this.db.pragma('wal_autocheckpoint = 0');
    this.db.pragma('journal_size_limit = 67108864');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS topics (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL UNIQUE,
        partitions INTEGER NOT NULL,
        configs TEXT NOT NULL DEFAULT '{}'
      );
      CREATE TABLE IF NOT EXISTS partitions (
        topic_id INTEGER NOT NULL,
        partition INTEGER NOT NULL,
        log_start_offset INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (topic_id, partition)
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS batches (
        topic_id INTEGER NOT NULL,
        partition INTEGER NOT NULL,
        base_offset INTEGER NOT NULL,
        last_offset INTEGER NOT NULL,
        max_timestamp INTEGER NOT NULL,
        size INTEGER NOT NULL,
        data BLOB NOT NULL
      );
      CREATE UNIQUE INDEX IF NOT EXISTS batches_by_last_offset ON batches (topic_id, partition, last_offset);
      CREATE TABLE IF NOT EXISTS producer_states (
        topic_id INTEGER NOT NULL,
        partition INTEGER NOT NULL,
        producer_id INTEGER NOT NULL,
        epoch INTEGER NOT NULL,
        batches TEXT NOT NULL,
        PRIMARY KEY (topic_id, partition, producer_id)
      ) WITHOUT ROWID;
    `);
    // Databases written before topics had protocol ids gain the column, and each old topic an id.
    const columns = this.db.prepare<[], { name: string }>('PRAGMA table_info(topics)').all();
    if (!columns.some((c) => c.name === 'uuid')) this.db.exec('ALTER TABLE topics ADD COLUMN uuid TEXT');
    const unnamed = this.db.prepare<[], { id: number }>('SELECT id FROM topics WHERE uuid IS NULL').all();
    const setUuid = this.db.prepare<[string, number]>('UPDATE topics SET uuid = ? WHERE id = ?');
    for (const { id } of unnamed) setUuid.run(newTopicUuid(), id);
    this.statements = this.prepare();
    this.runInTransaction = this.db.transaction((work: () => unknown) => work());
    this.checkpointer = new WalCheckpointer(path, options.checkpointIntervalMs ?? 1000, options.onCheckpointError ?? (() => undefined));
  }

  private prepare() {
    const db = this.db;
    return {
      getMeta: db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?'),
      setMeta: db.prepare<[string, string]>('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
      listTopics: db.prepare<[], { id: number; uuid: string; name: string; partitions: number; configs: string }>('SELECT id, uuid, name, partitions, configs FROM topics ORDER BY id'),
      insertTopic: db.prepare<[string, number, string, string]>('INSERT INTO topics (name, partitions, configs, uuid) VALUES (?, ?, ?, ?)'),
      updateTopicPartitions: db.prepare<[number, number]>('UPDATE topics SET partitions = ? WHERE id = ?'),
      updateTopicConfigs: db.prepare<[string, number]>('UPDATE topics SET configs = ? WHERE id = ?'),
      deleteTopic: db.prepare<[number]>('DELETE FROM topics WHERE id = ?'),
      insertPartition: db.prepare<[number, number]>('INSERT OR IGNORE INTO partitions (topic_id, partition) VALUES (?, ?)'),
      setLogStart: db.prepare<[number, number, number]>('UPDATE partitions SET log_start_offset = ? WHERE topic_id = ? AND partition = ?'),
      partitionState: db.prepare<[number, number, number, number], { log_start_offset: number; last_offset: number | null; first_offset: number | null; size: number | null }>(`
        SELECT p.log_start_offset,
               (SELECT MAX(last_offset) FROM batches WHERE topic_id = ? AND partition = ?) AS last_offset,
               (SELECT MIN(base_offset) FROM batches b WHERE b.topic_id = p.topic_id AND b.partition = p.partition) AS first_offset,
               (SELECT SUM(size) FROM batches b WHERE b.topic_id = p.topic_id AND b.partition = p.partition) AS size
        FROM partitions p WHERE p.topic_id = ? AND p.partition = ?`),
      deletePartitions: db.prepare<[number]>('DELETE FROM partitions WHERE topic_id = ?'),
      deleteBatchesOfTopic: db.prepare<[number]>('DELETE FROM batches WHERE topic_id = ?'),
      deleteProducersOfTopic: db.prepare<[number]>('DELETE FROM producer_states WHERE topic_id = ?'),
      insertBatch: db.prepare<[number, number, number, number, number, number, Buffer]>(
        'INSERT INTO batches (topic_id, partition, base_offset, last_offset, max_timestamp, size, data) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      readFrom: db.prepare<[number, number, number], { data: Buffer }>(
        'SELECT data FROM batches WHERE topic_id = ? AND partition = ? AND last_offset >= ? ORDER BY last_offset',
      ),
      firstBatchAtOrAfterTimestamp: db.prepare<[number, number, number], BatchRow>(
        `SELECT base_offset AS baseOffset, last_offset AS lastOffset, max_timestamp AS maxTimestamp, data
         FROM batches WHERE topic_id = ? AND partition = ? AND max_timestamp >= ? ORDER BY last_offset LIMIT 1`,
      ),
      batchWithMaxTimestamp: db.prepare<[number, number, number], BatchRow>(
        `SELECT base_offset AS baseOffset, last_offset AS lastOffset, max_timestamp AS maxTimestamp, data
         FROM batches WHERE topic_id = ? AND partition = ? AND last_offset >= ? ORDER BY max_timestamp DESC, last_offset ASC LIMIT 1`,
      ),
      oldestBatches: db.prepare<[number, number, number], { lastOffset: number; maxTimestamp: number; size: number }>(
        `SELECT last_offset AS lastOffset, max_timestamp AS maxTimestamp, size FROM batches
         WHERE topic_id = ? AND partition = ? ORDER BY last_offset LIMIT ?`,
      ),
      deleteBatchesBelow: db.prepare<[number, number, number]>('DELETE FROM batches WHERE topic_id = ? AND partition = ? AND last_offset < ?'),
      sizeBelow: db.prepare<[number, number, number], { size: number | null }>(
        'SELECT SUM(size) AS size FROM batches WHERE topic_id = ? AND partition = ? AND last_offset < ?',
      ),
      listProducerStates: db.prepare<[], { topic_id: number; partition: number; producer_id: number; epoch: number; batches: string }>(
        'SELECT topic_id, partition, producer_id, epoch, batches FROM producer_states',
      ),
      upsertProducerState: db.prepare<[number, number, number, number, string]>(
        `INSERT INTO producer_states (topic_id, partition, producer_id, epoch, batches) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (topic_id, partition, producer_id) DO UPDATE SET epoch = excluded.epoch, batches = excluded.batches`,
      ),
    };
  }

  getMeta(key: string): string | undefined {
    return this.statements.getMeta.get(key)?.value;
  }

  setMeta(key: string, value: string): void {
    this.statements.setMeta.run(key, value);
  }

  /** Runs `work` in one transaction (nested calls become savepoints). */
  transaction<T>(work: () => T): T {
    return this.runInTransaction(work) as T;
  }

  listTopics(): StoredTopic[] {
    return this.statements.listTopics.all().map((row) => ({ ...row, configs: JSON.parse(row.configs) as Record<string, string> }));
  }

  insertTopic(name: string, partitions: number, configs: Record<string, string>): { id: number; uuid: string } {
    return this.transaction(() => {
      const uuid = newTopicUuid();
      const id = Number(this.statements.insertTopic.run(name, partitions, JSON.stringify(configs), uuid).lastInsertRowid);
      for (let p = 0; p < partitions; p++) this.statements.insertPartition.run(id, p);
      return { id, uuid };
    });
  }

  /** Replaces a topic's stored configs (AlterConfigs, IncrementalAlterConfigs). */
  updateTopicConfigs(topicId: number, configs: Record<string, string>): void {
    this.statements.updateTopicConfigs.run(JSON.stringify(configs), topicId);
  }

  addPartitions(topicId: number, from: number, to: number): void {
    this.transaction(() => {
      this.statements.updateTopicPartitions.run(to, topicId);
      for (let p = from; p < to; p++) this.statements.insertPartition.run(topicId, p);
    });
  }

  deleteTopic(topicId: number): void {
    this.transaction(() => {
      this.statements.deleteBatchesOfTopic.run(topicId);
      this.statements.deleteProducersOfTopic.run(topicId);
      this.statements.deletePartitions.run(topicId);
      this.statements.deleteTopic.run(topicId);
    });
  }

  partitionState(topicId: number, partition: number): StoredPartitionState {
    const row = this.statements.partitionState.get(topicId, partition, topicId, partition);
    const logStart = Math.max(row?.log_start_offset ?? 0, row?.first_offset ?? 0);
    const logEnd = row?.last_offset === null || row?.last_offset === undefined ? logStart : row.last_offset + 1;
    return { logStartOffset: Math.min(logStart, logEnd), logEndOffset: Math.max(logEnd, row?.log_start_offset ?? 0), sizeBytes: row?.size ?? 0 };
  }

  insertBatch(topicId: number, partition: number, baseOffset: number, lastOffset: number, maxTimestamp: number, data: Buffer): void {
    this.statements.insertBatch.run(topicId, partition, baseOffset, lastOffset, maxTimestamp, data.length, data);
  }

  /** Batches whose last offset is at or after `offset`, oldest first, lazily (stop iterating to stop reading). */
  readFrom(topicId: number, partition: number, offset: number): IterableIterator<{ data: Buffer }> {
    return this.statements.readFrom.iterate(topicId, partition, offset);
  }

  firstBatchAtOrAfterTimestamp(topicId: number, partition: number, timestamp: number): BatchRow | undefined {
    return this.statements.firstBatchAtOrAfterTimestamp.get(topicId, partition, timestamp);
  }

  /** The batch holding the log's largest timestamp (the earliest such batch), ignoring batches below `from`. */
  batchWithMaxTimestamp(topicId: number, partition: number, from: number): BatchRow | undefined {
    return this.statements.batchWithMaxTimestamp.get(topicId, partition, from);
  }

  oldestBatches(topicId: number, partition: number, limit: number): { lastOffset: number; maxTimestamp: number; size: number }[] {
    return this.statements.oldestBatches.all(topicId, partition, limit);
  }

  /** Deletes whole batches that end below `offset` and records the new log start; returns the bytes freed. */
  truncateBefore(topicId: number, partition: number, offset: number): number {
    return this.transaction(() => {
      const freed = this.statements.sizeBelow.get(topicId, partition, offset)?.size ?? 0;
      this.statements.deleteBatchesBelow.run(topicId, partition, offset);
      this.statements.setLogStart.run(offset, topicId, partition);
      return freed;
    });
  }

  listProducerStates() {
    return this.statements.listProducerStates.all();
  }

  saveProducerState(topicId: number, partition: number, producerId: number, epoch: number, batches: unknown): void {
    this.statements.upsertProducerState.run(topicId, partition, producerId, epoch, JSON.stringify(batches));
  }

  async close(): Promise<void> {
    await this.checkpointer.stop();
    this.db.close();
  }
}

/** A random version-4 UUID as 32 hex digits: never Kafka's reserved all-zero or metadata-topic ids. */
function newTopicUuid(): string {
  return randomUUID().replaceAll('-', '');
}
