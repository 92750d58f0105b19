/**
 * The event store's tables, in the service database beside the outbox they feed, so that an append and its outbox rows commit together:
 *
 *   streams    stream_id       TEXT PK                    one row per stream with events
 *              version         INTEGER                    its number of events
 *   events     global_position INTEGER PK                 order over all streams, in commit order (below)
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
 * The same tables in each dialect's types: on SQLite `global_position` is an AUTOINCREMENT rowid, on
 * PostgreSQL a BIGINT identity and the integers BIGINT. Global positions are handed out in commit order on
 * both, which is what lets a catch-up reader page by position without ever passing an event that commits
 * later: SQLite has one writer at a time; on PostgreSQL an identity is drawn when the row is inserted, not
 * when it commits, so every append holds a transaction-level advisory lock (EVENT_APPEND_LOCK_KEY) from its
 * first statement to its commit, and the next append draws its positions only after that commit.
 *
 * Why `streams`, when MAX(stream_version) gives the same number: an append's first statement is the
 * compare-and-set of `streams.version`, a write. A deferred SQLite transaction that reads first and then
 * writes fails with SQLITE_BUSY_SNAPSHOT (not a conflict one can reason about) if another process committed
 * in between; one that writes first waits for the write lock and then sees the latest commit. On PostgreSQL
 * the row's lock does the same: a second writer's compare-and-set waits for the first's commit, then sees
 * the version it left and matches no row.
 */
import { createTables, eventOfRow, type ServiceDatabase } from '@shoal/store';
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

/**
 * The advisory lock key every append takes on PostgreSQL for the rest of its transaction (event-store.ts):
 * global positions in commit order. A number no other lock of the platform uses.
 */
export const EVENT_APPEND_LOCK_KEY = 0x5_1a_0e01;

const columns = {
  sqlite: { position: 'INTEGER PRIMARY KEY AUTOINCREMENT', integer: 'INTEGER', withoutRowid: ' WITHOUT ROWID' },
  postgres: { position: 'BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY', integer: 'BIGINT', withoutRowid: '' },
};

function tableStatements({ position, integer, withoutRowid }: (typeof columns)['sqlite']): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS streams (
      stream_id TEXT    PRIMARY KEY,
      version   ${integer} NOT NULL
    )${withoutRowid}`,
    `CREATE TABLE IF NOT EXISTS events (
      global_position ${position},
      stream_id       TEXT    NOT NULL,
      stream_version  ${integer} NOT NULL,
      id              TEXT    NOT NULL,
      type            TEXT    NOT NULL,
      data            TEXT    NOT NULL,
      attributes      TEXT    NOT NULL,
      time            TEXT,
      recorded_at     ${integer} NOT NULL,
      CONSTRAINT events_id_key UNIQUE (id),
      CONSTRAINT events_stream_version_key UNIQUE (stream_id, stream_version)
    )`,
    `CREATE TABLE IF NOT EXISTS snapshots (
      stream_id      TEXT    PRIMARY KEY,
      stream_version ${integer} NOT NULL,
      state_version  ${integer} NOT NULL,
      state          TEXT    NOT NULL,
      taken_at       ${integer} NOT NULL
    )${withoutRowid}`,
  ];
}

/** Creates the tables if they are missing, in the database's dialect. */
export function createEventStoreTables(database: ServiceDatabase): Promise<void> {
  return createTables(database, { sqlite: tableStatements(columns.sqlite), postgres: tableStatements(columns.postgres) });
}

/** Which of the events table's unique constraints a failed insert broke, on either adapter; undefined for another failure. */
export function brokenEventConstraint(cause: unknown): 'id' | 'stream_version' | undefined {
  const { code, constraint, message } = cause as { code?: unknown; constraint?: unknown; message?: unknown };
  if (code === '23505') return constraint === 'events_id_key' ? 'id' : constraint === 'events_stream_version_key' ? 'stream_version' : undefined;
  if (code !== 'SQLITE_CONSTRAINT_UNIQUE') return undefined;
  return String(message).includes('events.id') ? 'id' : 'stream_version';
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
