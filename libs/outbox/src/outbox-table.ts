/**
 * The `outbox` table: events waiting to be published, written in the transaction of the change that emitted
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
 *   sent_at        INTEGER NULL              ms since the epoch, when the broker acknowledged it; NULL until then
 *
 * Sent rows stay for the relay's retention window (for inspection and CDC), then are pruned.
 */
import type Database from 'better-sqlite3';
import { ShoalError } from '@shoal/core';
import { checkEvent, type CloudEvent, type CloudEventAttributes, type SchemaCatalog } from '@shoal/events';

export interface EmitOptions {
  /** Publish to this topic instead of the catalog topic of the event type. */
  topic?: string;
}

/** One row as the relay reads it. */
export interface OutboxRow {
  sequence: number;
  id: string;
  aggregatetype: string;
  aggregateid: string;
  type: string;
  payload: string;
  topic: string;
  headers: string;
  created_at: number;
  sent_at: number | null;
}

export function createOutboxTable(db: Database.Database): void {
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
      created_at    INTEGER NOT NULL,
      sent_at       INTEGER
    );
    CREATE INDEX IF NOT EXISTS outbox_unsent ON outbox (sequence) WHERE sent_at IS NULL;
    CREATE INDEX IF NOT EXISTS outbox_sent ON outbox (sent_at) WHERE sent_at IS NOT NULL;
  `);
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

/** The CloudEvent a row holds, as it was emitted. */
export function eventOfRow(row: Pick<OutboxRow, 'headers' | 'payload'>): CloudEvent<unknown> {
  const attributes = JSON.parse(row.headers) as CloudEventAttributes;
  return { ...attributes, data: JSON.parse(row.payload) as unknown };
}

function aggregateTypeOf(topic: string): string {
  const dot = topic.indexOf('.');
  return dot === -1 ? topic : topic.slice(dot + 1);
}
