/**
 * The `outbox` table on SQLite: events waiting to be published, written in the transaction of the change that emitted
 * them. Its first five columns are the ones Debezium's outbox event router reads, so a CDC connector could
 * relay the table instead of OutboxRelay (route with `route.by.field=topic`):
 *
 *   sequence       INTEGER PK AUTOINCREMENT  commit order: SQLite has one writer at a time, so rowids are
 *                                            handed out in the order transactions commit
 *   id             TEXT UNIQUE               the CloudEvent id (Debezium: the event id)
 *   aggregatetype  TEXT                      the aggregate part of the topic, `order` for `orders.order`
 *   aggregateid    TEXT                      the Kafka key: the event's partitionkey, else its subject
 *   type           TEXT                      the CloudEvent type, e.g. shoal.orders.OrderPlaced
 *   payload        TEXT                      the event data as JSON
 *   topic          TEXT                      where the relay publishes it
 *   headers        TEXT                      every CloudEvent attribute but data, as JSON
 *   created_at     INTEGER                   ms since the epoch, when the transaction wrote it
 *
 * What is published is not a property of a row but a position, as a Kafka consumer keeps an offset rather
 * than acknowledging each message: the one row of `outbox_relay` holds `published_through`, the sequence up
 * to which the broker acknowledged everything, and the rows above it are the backlog. That is sound because
 * rows become visible strictly in sequence order: a sequence is handed out under the write lock, so every row
 * committed later has a larger one, and AUTOINCREMENT never hands one out twice, even after pruning. It is
 * also cheap: the relay reads `sequence > published_through` by primary key and moves the position with one
 * single-row UPDATE per batch, and an insert maintains no index but the primary key and the id's.
 *
 *   outbox_relay   id = 1 (one row), published_through INTEGER, updated_at INTEGER (ms, when it last moved),
 *                  and the relay's lease (lease_owner, lease_epoch, lease_until: @shoal/store's sql-outbox-table.ts)
 *
 * Published rows stay for the relay's retention window (for inspection and CDC), then are pruned.
 */
import type Database from 'better-sqlite3';
import { ShoalError } from '@shoal/core';
import { checkEvent, type CloudEvent, type SchemaCatalog } from '@shoal/contract';
import { aggregateTypeOf, type EmitOptions, type OutboxBacklog } from '@shoal/store';
import { SqliteExecutor } from './sqlite-executor.js';

/** The outbox and the relay's position (starting before the first row), on a new file or one that has them. */
export function createOutboxTable(db: Database.Database, now: number): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS outbox (
      sequence      INTEGER PRIMARY KEY AUTOINCREMENT,
      id            TEXT    NOT NULL UNIQUE,
      aggregatetype TEXT    NOT NULL,
      aggregateid   TEXT    NOT NULL,
      type          TEXT    NOT NULL,
      payload       TEXT    NOT NULL,
      topic         TEXT    NOT NULL,
      headers       TEXT    NOT NULL,
      created_at    INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS outbox_relay (
      id                INTEGER PRIMARY KEY CHECK (id = 1),
      published_through INTEGER NOT NULL,
      updated_at        INTEGER NOT NULL,
      lease_owner       TEXT,
      lease_epoch       INTEGER NOT NULL DEFAULT 0,
      lease_until       INTEGER NOT NULL DEFAULT 0
    );
  `);
  // A file from before the relay's lease: its columns added, nobody holding it.
  const columns = new Set((db.prepare('PRAGMA table_info(outbox_relay)').all() as Array<{ name: string }>).map((column) => column.name));
  if (!columns.has('lease_owner')) {
    db.exec(`
      ALTER TABLE outbox_relay ADD COLUMN lease_owner TEXT;
      ALTER TABLE outbox_relay ADD COLUMN lease_epoch INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE outbox_relay ADD COLUMN lease_until INTEGER NOT NULL DEFAULT 0;
    `);
  }
  db.prepare('INSERT OR IGNORE INTO outbox_relay (id, published_through, updated_at) VALUES (1, 0, ?)').run(now);
}

/** The backlog of a service database's outbox, e.g. for a tool or a test while the relay runs in another process. */
export function outboxBacklog(db: Database.Database): OutboxBacklog {
  const sql = new SqliteExecutor(db);
  const publishedThrough = sql.get<{ published_through: number }>('SELECT published_through FROM outbox_relay WHERE id = 1')?.published_through ?? 0;
  const last = sql.get<{ last: number | null }>('SELECT MAX(sequence) AS last FROM outbox')?.last ?? 0;
  const oldest = sql.get<{ created_at: number }>('SELECT created_at FROM outbox WHERE sequence > ? ORDER BY sequence LIMIT 1', [publishedThrough]);
  return { publishedThrough, backlog: Math.max(0, last - publishedThrough), oldestUnsentAt: oldest?.created_at };
}

/** Inserts checked events into the outbox of one connection. */
export class OutboxWriter {
  private readonly insertRow: Database.Statement;

  constructor(
    db: Database.Database,
    private readonly catalog: SchemaCatalog,
    private readonly onInsert: () => void,
    private readonly now: () => number = Date.now,
  ) {
    this.insertRow = db.prepare(
      `INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload, topic, headers, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
  }

  insert(event: CloudEvent<unknown>, options: EmitOptions = {}): void {
    checkEvent(event, this.catalog);
    const topic = options.topic ?? this.catalog.event(event.type).topic;
    const key = event.partitionkey ?? event.subject;
    if (key === undefined) {
      throw new ShoalError('SHOAL_EVENT_INVALID', `Event ${event.id} (${event.type}) has neither partitionkey nor subject: the outbox needs its aggregate id as the Kafka key`);
    }
    const { data, ...attributes } = event;
    try {
      this.insertRow.run(event.id, aggregateTypeOf(topic), key, event.type, JSON.stringify(data), topic, JSON.stringify(attributes), this.now());
    } catch (cause) {
      if ((cause as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
        throw new ShoalError('SHOAL_EVENT_INVALID', `Event id ${event.id} is already in the outbox: every emitted event needs a new id`, { cause });
      }
      throw cause;
    }
    this.onInsert();
  }
}

