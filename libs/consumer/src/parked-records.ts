/**
 * The `parked_records` table: per consumer group, the records held back by key, in the service's own database.
 * When a record fails for good (poison, or its retries ran out), it is published to the dead-letter topic and
 * stored here with its reason; from then on every later record of the same key in that group is stored here
 * behind it instead of being handled, in the order it arrived, while the records of other keys go on. A key
 * is blocked exactly as long as the group has rows for it: the first row is the key's dead letter, the rows
 * after it are the records parked behind it, and a redrive or a skip (parked-keys.ts) removes rows from the
 * front as it handles them.
 *
 *   seq             INTEGER  the order of redrive (AUTOINCREMENT: never reused, so later rows sort after)
 *   consumer_group  TEXT
 *   key             TEXT     the Kafka key as UTF-8 (the aggregate id, e.g. an order id)
 *   topic, partition, offset       where the record was read; UNIQUE per group, so a record delivered again
 *                                  (after a crash, before its offset was committed) is stored once
 *   event_id, type  TEXT     the CloudEvent id and type (from the ce_id and ce_type headers: a record that
 *                            could not be decoded still has them, or NULL)
 *   message_key, value BLOB, headers TEXT (JSON, values base64), timestamp TEXT: the record as it was read,
 *                            byte for byte, decoded again when it is redriven
 *   reason_code, reason_message, reason_kind (poison | exhausted), attempts, failed_at: why the record failed
 *                            for good; NULL for a record that was only parked
 *   published       INTEGER  1 once the record is in the dead-letter topic (a parked record that fails when
 *                            it is redriven is published then, so a skip never drops a record the topic lacks)
 *   parked_at       INTEGER  ms since the epoch
 *
 * Rows are written in the transactions of the consumer's runs (the inbox rows of the run's other records
 * commit with them) and of the redrives, so parked state, inbox and offsets cannot disagree after a crash.
 *
 * The same statements run on both adapters; the PostgreSQL table differs in its types only (an identity `seq`,
 * BYTEA for the bytes). On PostgreSQL transactions run side by side, so the runs and the redrives of a key
 * take the key's lock (`lockKey`, an advisory lock held to the end of the transaction) before they decide on
 * its rows: a record parked while a redrive of its key runs is parked before the redrive reads the rows (and
 * redriven by it) or sees the key released; SQLite's single writer gives the same order without a lock.
 */
import type { IHeaders, KafkaMessage } from 'kafkajs';
import { afterValue, type MaybePromise, type SqlDialect, type SqlExecutor } from '@shoal/store';
import { isFound, isOne } from './sql-results.js';

export type ParkedReasonKind = 'poison' | 'exhausted';

/** Why a record failed for good. */
export interface ParkedReason {
  code: string;
  message: string;
  kind: ParkedReasonKind;
  attempts: number;
  /** ms since the epoch */
  failedAt: number;
}

/** A record to store: where it was read, and the record itself. */
export interface RecordToPark {
  key: string;
  topic: string;
  partition: number;
  message: KafkaMessage;
  eventId: string | null;
  type: string | null;
}

/** One row as the runtime reads it back. */
export interface ParkedRow {
  seq: number;
  key: string;
  topic: string;
  partition: number;
  offset: string;
  eventId: string | null;
  type: string | null;
  message: KafkaMessage;
  reason: ParkedReason | null;
  published: boolean;
  parkedAt: number;
}

interface StoredRow {
  seq: number;
  key: string;
  topic: string;
  partition: number;
  offset: number;
  event_id: string | null;
  type: string | null;
  message_key: Buffer | null;
  value: Buffer | null;
  headers: string;
  timestamp: string;
  reason_code: string | null;
  reason_message: string | null;
  reason_kind: ParkedReasonKind | null;
  attempts: number | null;
  failed_at: number | null;
  published: number;
  parked_at: number;
}

const COLUMNS = `consumer_group, key, topic, "partition", "offset", event_id, type, message_key, value, headers, "timestamp",
      reason_code, reason_message, reason_kind, attempts, failed_at, published, parked_at`;

/** The table in each dialect (createTables of @shoal/store runs them). */
export const PARKED_RECORDS_TABLE: Record<SqlDialect, readonly string[]> = {
  sqlite: [
    `CREATE TABLE IF NOT EXISTS parked_records (
      seq            INTEGER PRIMARY KEY AUTOINCREMENT,
      consumer_group TEXT    NOT NULL,
      key            TEXT    NOT NULL,
      topic          TEXT    NOT NULL,
      "partition"    INTEGER NOT NULL,
      "offset"       INTEGER NOT NULL,
      event_id       TEXT,
      type           TEXT,
      message_key    BLOB,
      value          BLOB,
      headers        TEXT    NOT NULL,
      "timestamp"    TEXT    NOT NULL,
      reason_code    TEXT,
      reason_message TEXT,
      reason_kind    TEXT,
      attempts       INTEGER,
      failed_at      INTEGER,
      published      INTEGER NOT NULL,
      parked_at      INTEGER NOT NULL,
      UNIQUE (consumer_group, topic, "partition", "offset")
    )`,
    'CREATE INDEX IF NOT EXISTS parked_records_by_key ON parked_records (consumer_group, key, seq)',
  ],
  postgres: [
    `CREATE TABLE IF NOT EXISTS parked_records (
      seq            BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      consumer_group TEXT    NOT NULL,
      key            TEXT    NOT NULL,
      topic          TEXT    NOT NULL,
      "partition"    INTEGER NOT NULL,
      "offset"       BIGINT  NOT NULL,
      event_id       TEXT,
      type           TEXT,
      message_key    BYTEA,
      value          BYTEA,
      headers        TEXT    NOT NULL,
      "timestamp"    TEXT    NOT NULL,
      reason_code    TEXT,
      reason_message TEXT,
      reason_kind    TEXT,
      attempts       INTEGER,
      failed_at      BIGINT,
      published      INTEGER NOT NULL,
      parked_at      BIGINT  NOT NULL,
      UNIQUE (consumer_group, topic, "partition", "offset")
    )`,
    'CREATE INDEX IF NOT EXISTS parked_records_by_key ON parked_records (consumer_group, key, seq)',
  ],
};

const ANY = 'SELECT 1 AS found FROM parked_records WHERE consumer_group = ? LIMIT 1';
const BLOCKED = 'SELECT 1 AS found FROM parked_records WHERE consumer_group = ? AND key = ? LIMIT 1';
const INSERT = `INSERT INTO parked_records (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`;
const ROWS_OF_KEY = `SELECT seq, ${COLUMNS} FROM parked_records WHERE consumer_group = ? AND key = ? ORDER BY seq`;
const ROWS_OF_GROUP = `SELECT seq, ${COLUMNS} FROM parked_records WHERE consumer_group = ? ORDER BY key, seq`;
const KEYS_OF_GROUP = 'SELECT DISTINCT key FROM parked_records WHERE consumer_group = ? ORDER BY key';
const DELETE_ROW = 'DELETE FROM parked_records WHERE seq = ? AND consumer_group = ?';
const SET_REASON = 'UPDATE parked_records SET reason_code = ?, reason_message = ?, reason_kind = ?, attempts = ?, failed_at = ? WHERE seq = ?';
const SET_PUBLISHED = 'UPDATE parked_records SET published = 1 WHERE seq = ?';
const COUNT_ROWS = 'SELECT COUNT(DISTINCT key) AS "keys", COUNT(*) AS "rows" FROM parked_records WHERE consumer_group = ?';
/** The two-int advisory lock space (apart from the one-bigint space of the schema lock): the group, the key. */
const LOCK_KEY = 'SELECT pg_advisory_xact_lock(hashtext(?), hashtext(?))';

/** What a group holds back: keys with a dead letter, and the records parked behind them. */
export interface ParkedCounts {
  deadLetters: number;
  parked: number;
}

/**
 * The parked records of one consumer group, on either adapter. Every method takes the executor to run on: a
 * transaction's `tx.sql`, or the database's `sql` for reads. At once on SQLite, promises on PostgreSQL.
 */
export class ParkedRecords {
  constructor(
    readonly group: string,
    readonly dialect: SqlDialect,
  ) {}

  /** Whether the group holds back any key: one index seek per run, so that a group with nothing parked pays nothing per record. */
  any(sql: SqlExecutor): MaybePromise<boolean> {
    return afterValue(sql.get(ANY, [this.group]), isFound);
  }

  blocked(sql: SqlExecutor, key: string): MaybePromise<boolean> {
    return afterValue(sql.get(BLOCKED, [this.group, key]), isFound);
  }

  /**
   * Waits for, then holds to the end of `sql`'s transaction, the key's lock on PostgreSQL (see the file
   * comment); nothing on SQLite, whose transactions run one at a time.
   */
  lockKey(sql: SqlExecutor, key: string): MaybePromise<void> {
    if (sql.dialect === 'sqlite') return undefined;
    return afterValue(sql.run(LOCK_KEY, [this.group, key]), nothing);
  }

  /**
   * Whether a record of `key` read in a consumer run is to be parked, inside the run's transaction. On
   * PostgreSQL a key found blocked is locked and looked at again: a redrive of it that was running has
   * committed by then, and one that starts after waits for this run.
   */
  holdsBack(sql: SqlExecutor, key: string): MaybePromise<boolean> {
    const blocked = this.blocked(sql, key);
    if (sql.dialect === 'sqlite') return blocked;
    return afterValue(blocked, (found) => (found ? afterValue(this.lockKey(sql, key), () => this.blocked(sql, key)) : false));
  }

  /**
   * Stores `record` behind whatever its key holds (as the key's dead letter when it holds nothing), with its
   * reason when it failed for good. False when the group already stored this record (the same offset read again).
   */
  add(sql: SqlExecutor, record: RecordToPark, now: number, failure?: { reason: ParkedReason; published: boolean }): MaybePromise<boolean> {
    const { message } = record;
    const changed = sql.run(INSERT, [
      this.group,
      record.key,
      record.topic,
      record.partition,
      Number(message.offset),
      record.eventId,
      record.type,
      message.key ?? null,
      message.value ?? null,
      encodeHeaders(message.headers ?? {}),
      message.timestamp,
      failure?.reason.code ?? null,
      failure?.reason.message ?? null,
      failure?.reason.kind ?? null,
      failure?.reason.attempts ?? null,
      failure?.reason.failedAt ?? null,
      failure?.published === true ? 1 : 0,
      now,
    ]);
    return afterValue(changed, isOne);
  }

  /** The key's rows in redrive order: its dead letter first. */
  rows(sql: SqlExecutor, key: string): MaybePromise<ParkedRow[]> {
    return afterValue(sql.all<StoredRow>(ROWS_OF_KEY, [this.group, key]), rowsOf);
  }

  /** Every row of the group, by key and then in redrive order. */
  all(sql: SqlExecutor): MaybePromise<ParkedRow[]> {
    return afterValue(sql.all<StoredRow>(ROWS_OF_GROUP, [this.group]), rowsOf);
  }

  keys(sql: SqlExecutor): MaybePromise<string[]> {
    return afterValue(sql.all<{ key: string }>(KEYS_OF_GROUP, [this.group]), (rows) => rows.map((row) => row.key));
  }

  /** Removes a row; false when it was gone already. */
  remove(sql: SqlExecutor, seq: number): MaybePromise<boolean> {
    return afterValue(sql.run(DELETE_ROW, [seq, this.group]), isOne);
  }

  fail(sql: SqlExecutor, seq: number, reason: ParkedReason): MaybePromise<number> {
    return sql.run(SET_REASON, [reason.code, reason.message, reason.kind, reason.attempts, reason.failedAt, seq]);
  }

  published(sql: SqlExecutor, seq: number): MaybePromise<number> {
    return sql.run(SET_PUBLISHED, [seq]);
  }

  counts(sql: SqlExecutor): MaybePromise<ParkedCounts> {
    return afterValue(sql.get<{ keys: number; rows: number }>(COUNT_ROWS, [this.group]), (row) => ({ deadLetters: row!.keys, parked: row!.rows - row!.keys }));
  }
}

function nothing(): undefined {
  return undefined;
}

function rowsOf(rows: StoredRow[]): ParkedRow[] {
  return rows.map(rowOf);
}

/** Header values as base64 text, arrays kept as arrays, so the record is given back byte for byte. */
function encodeHeaders(headers: IHeaders): string {
  const encoded: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    encoded[name] = Array.isArray(value) ? value.map((item) => Buffer.from(item).toString('base64')) : Buffer.from(value).toString('base64');
  }
  return JSON.stringify(encoded);
}

function decodeHeaders(text: string): IHeaders {
  const headers: IHeaders = {};
  for (const [name, value] of Object.entries(JSON.parse(text) as Record<string, string | string[]>)) {
    headers[name] = Array.isArray(value) ? value.map((item) => Buffer.from(item, 'base64')) : Buffer.from(value, 'base64');
  }
  return headers;
}

function rowOf(row: StoredRow): ParkedRow {
  const message: KafkaMessage = {
    key: row.message_key,
    value: row.value,
    headers: decodeHeaders(row.headers),
    timestamp: row.timestamp,
    offset: String(row.offset),
    attributes: 0,
  };
  const reason: ParkedReason | null =
    row.reason_code === null
      ? null
      : { code: row.reason_code, message: row.reason_message ?? '', kind: row.reason_kind ?? 'poison', attempts: row.attempts ?? 1, failedAt: row.failed_at ?? row.parked_at };
  return {
    seq: row.seq,
    key: row.key,
    topic: row.topic,
    partition: row.partition,
    offset: String(row.offset),
    eventId: row.event_id,
    type: row.type,
    message,
    reason,
    published: row.published === 1,
    parkedAt: row.parked_at,
  };
}
