/**
 * The event store's tables, in the service database beside the outbox they feed, so that an append and its outbox rows commit together:
 *
 *   streams    stream_id       TEXT PK                    one row per stream with events
 *              version         INTEGER                    its number of events
 *   events     global_position INTEGER PK AUTOINCREMENT   order over all streams: SQLite has one writer at a
 *                                                         time, so positions are handed out in commit order
 *              stream_id       TEXT                       UNIQUE (stream_id, stream_version): the last guard
 *              stream_version  INTEGER                    1 for a stream's first event
 *              id              TEXT UNIQUE                the CloudEvent id
 *              type            TEXT                       the CloudEvent type, e.g. shoal.orders.OrderPlaced
 *              data            TEXT                       the event data as JSON
 *              attributes      TEXT                       every CloudEvent attribute but data, as JSON (the
 *                                                         outbox's `headers`)
 *              time            TEXT NULL                  the CloudEvent time, RFC 3339
 *              recorded_at     INTEGER                    ms since the epoch, when the append wrote it
 *   snapshots  stream_id       TEXT PK                    the latest snapshot of a stream's state
 *              stream_version  INTEGER                    the last event folded into it
 *              state_version   INTEGER                    the schema of the state (SnapshotPolicy.version)
 *              state           TEXT                       the state as JSON
 *              taken_at        INTEGER                    ms since the epoch
 *
 * Why `streams`, when MAX(stream_version) gives the same number: an append's first statement is the
 * compare-and-set of `streams.version`, a write. A deferred SQLite transaction that reads first and then
 * writes fails with SQLITE_BUSY_SNAPSHOT (not a conflict one can reason about) if another process committed
 * in between; one that writes first waits for the write lock and then sees the latest commit.
 */
import type Database from 'better-sqlite3';
import { eventOfRow } from '@shoal/store';
import type { SchemaCatalog, ShoalEvent } from '@shoal/contract';

/** An event as the store holds it: the CloudEvent and where it sits. */
export interface RecordedEvent<E = ShoalEvent> {
  /** Position over all streams, from 1, in commit order. */
  readonly globalPosition: number;
  readonly streamId: string;
  /** Position in its stream, from 1. */
  readonly streamVersion: number;
  /** ms since the epoch, when the append wrote it. */
  readonly recordedAt: number;
  /** The CloudEvent as appended, its data read with the catalog's current schema of its type. */
  readonly event: E;
}

export interface EventRow {
  global_position: number;
  stream_id: string;
  stream_version: number;
  id: string;
  type: string;
  data: string;
  attributes: string;
  time: string | null;
  recorded_at: number;
}

export interface SnapshotRow {
  stream_version: number;
  state: string;
}

export function createEventStoreTables(db: Database.Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS streams (
      stream_id TEXT    PRIMARY KEY,
      version   INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS events (
      global_position INTEGER PRIMARY KEY AUTOINCREMENT,
      stream_id       TEXT    NOT NULL,
      stream_version  INTEGER NOT NULL,
      id              TEXT    NOT NULL UNIQUE,
      type            TEXT    NOT NULL,
      data            TEXT    NOT NULL,
      attributes      TEXT    NOT NULL,
      time            TEXT,
      recorded_at     INTEGER NOT NULL,
      UNIQUE (stream_id, stream_version)
    );
    CREATE TABLE IF NOT EXISTS snapshots (
      stream_id      TEXT    PRIMARY KEY,
      stream_version INTEGER NOT NULL,
      state_version  INTEGER NOT NULL,
      state          TEXT    NOT NULL,
      taken_at       INTEGER NOT NULL
    ) WITHOUT ROWID;
  `);
}

/**
 * The event of a row, its data read with the catalog's current schema of its type: the JSON is what the
 * append validated against the schema of its day, and Avro schema resolution (avsc's `clone`) gives it the
 * defaults of fields added since and drops fields removed since, as a Kafka consumer decoding the history
 * with the newest reader schema sees it (docs/events.md, compatibility policy). A type the catalog no longer knows is read as stored.
 */
export function recordedEventOf(row: EventRow, catalog: SchemaCatalog): RecordedEvent {
  const stored = eventOfRow({ headers: row.attributes, payload: row.data });
  const data = catalog.events.has(stored.type) ? catalog.avroType(stored.type).clone(stored.data) : stored.data;
  return {
    globalPosition: row.global_position,
    streamId: row.stream_id,
    streamVersion: row.stream_version,
    recordedAt: row.recorded_at,
    event: { ...stored, data } as ShoalEvent,
  };
}
