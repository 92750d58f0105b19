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
 */
import type { IHeaders, KafkaMessage } from 'kafkajs';
import type { SqliteDatabase } from '@shoal/store-sqlite';

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

export function createParkedRecordsTable(db: SqliteDatabase): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS parked_records (
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
      timestamp      TEXT    NOT NULL,
      reason_code    TEXT,
      reason_message TEXT,
      reason_kind    TEXT,
      attempts       INTEGER,
      failed_at      INTEGER,
      published      INTEGER NOT NULL,
      parked_at      INTEGER NOT NULL,
      UNIQUE (consumer_group, topic, "partition", "offset")
    );
    CREATE INDEX IF NOT EXISTS parked_records_by_key ON parked_records (consumer_group, key, seq);
  `);
}

/** What a group holds back: keys with a dead letter, and the records parked behind them. */
export interface ParkedCounts {
  deadLetters: number;
  parked: number;
}

/** The parked records of one consumer group on one connection. */
export class ParkedRecords {
  private readonly anyRow;
  private readonly keyBlocked;
  private readonly insertRow;
  private readonly rowsOfKey;
  private readonly rowsOfGroup;
  private readonly keysOfGroup;
  private readonly deleteRow;
  private readonly setReason;
  private readonly setPublished;
  private readonly countRows;

  constructor(
    db: SqliteDatabase,
    readonly group: string,
  ) {
    createParkedRecordsTable(db);
    this.anyRow = db.prepare<[string]>('SELECT 1 FROM parked_records WHERE consumer_group = ? LIMIT 1').pluck();
    this.keyBlocked = db.prepare<[string, string]>('SELECT 1 FROM parked_records WHERE consumer_group = ? AND key = ? LIMIT 1').pluck();
    this.insertRow = db.prepare(`
      INSERT OR IGNORE INTO parked_records (consumer_group, key, topic, "partition", "offset", event_id, type, message_key, value, headers, timestamp,
        reason_code, reason_message, reason_kind, attempts, failed_at, published, parked_at)
      VALUES (@group, @key, @topic, @partition, @offset, @eventId, @type, @messageKey, @value, @headers, @timestamp,
        @reasonCode, @reasonMessage, @reasonKind, @attempts, @failedAt, @published, @parkedAt)`);
    this.rowsOfKey = db.prepare<[string, string], StoredRow>('SELECT * FROM parked_records WHERE consumer_group = ? AND key = ? ORDER BY seq');
    this.rowsOfGroup = db.prepare<[string], StoredRow>('SELECT * FROM parked_records WHERE consumer_group = ? ORDER BY key, seq');
    this.keysOfGroup = db.prepare<[string], string>('SELECT DISTINCT key FROM parked_records WHERE consumer_group = ? ORDER BY key').pluck();
    this.deleteRow = db.prepare<[number, string]>('DELETE FROM parked_records WHERE seq = ? AND consumer_group = ?');
    this.setReason = db.prepare('UPDATE parked_records SET reason_code = @code, reason_message = @message, reason_kind = @kind, attempts = @attempts, failed_at = @failedAt WHERE seq = @seq');
    this.setPublished = db.prepare<[number]>('UPDATE parked_records SET published = 1 WHERE seq = ?');
    this.countRows = db.prepare<[string], { keys: number; rows: number }>('SELECT COUNT(DISTINCT key) AS keys, COUNT(*) AS rows FROM parked_records WHERE consumer_group = ?');
  }

  /** Whether the group holds back any key: one index seek per run, so that a group with nothing parked pays nothing per record. */
  any(): boolean {
    return this.anyRow.get(this.group) !== undefined;
  }

  blocked(key: string): boolean {
    return this.keyBlocked.get(this.group, key) !== undefined;
  }

  /**
   * Stores `record` behind whatever its key holds (as the key's dead letter when it holds nothing), with its
   * reason when it failed for good. False when the group already stored this record (the same offset read again).
   */
  add(record: RecordToPark, now: number, failure?: { reason: ParkedReason; published: boolean }): boolean {
    const { message } = record;
    return (
      this.insertRow.run({
        group: this.group,
        key: record.key,
        topic: record.topic,
        partition: record.partition,
        offset: Number(message.offset),
        eventId: record.eventId,
        type: record.type,
        messageKey: message.key ?? null,
        value: message.value ?? null,
        headers: encodeHeaders(message.headers ?? {}),
        timestamp: message.timestamp,
        reasonCode: failure?.reason.code ?? null,
        reasonMessage: failure?.reason.message ?? null,
        reasonKind: failure?.reason.kind ?? null,
        attempts: failure?.reason.attempts ?? null,
        failedAt: failure?.reason.failedAt ?? null,
        published: failure?.published === true ? 1 : 0,
        parkedAt: now,
      }).changes === 1
    );
  }

  /** The key's rows in redrive order: its dead letter first. */
  rows(key: string): ParkedRow[] {
    return this.rowsOfKey.all(this.group, key).map(rowOf);
  }

  /** Every row of the group, by key and then in redrive order. */
  all(): ParkedRow[] {
    return this.rowsOfGroup.all(this.group).map(rowOf);
  }

  keys(): string[] {
    return this.keysOfGroup.all(this.group);
  }

  /** Removes a row; false when it was gone already. */
  remove(seq: number): boolean {
    return this.deleteRow.run(seq, this.group).changes === 1;
  }

  fail(seq: number, reason: ParkedReason): void {
    this.setReason.run({ seq, ...reason });
  }

  published(seq: number): void {
    this.setPublished.run(seq);
  }

  counts(): ParkedCounts {
    const { keys, rows } = this.countRows.get(this.group)!;
    return { deadLetters: keys, parked: rows - keys };
  }
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
