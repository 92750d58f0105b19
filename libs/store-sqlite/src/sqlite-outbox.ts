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
 *   outbox_relay   id = 1 (one row), published_through INTEGER, updated_at INTEGER (ms, when it last moved)
 *
 * Published rows stay for the relay's retention window (for inspection and CDC), then are pruned.
 */
import type Database from 'better-sqlite3';
import { ShoalError } from '@shoal/core';
import { checkEvent, type CloudEvent, type SchemaCatalog } from '@shoal/contract';
import { aggregateTypeOf, type EmitOptions, type OutboxBacklog, type OutboxTable, type RelayRow } from '@shoal/store';

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
      updated_at        INTEGER NOT NULL
    );
  `);
  db.prepare('INSERT OR IGNORE INTO outbox_relay (id, published_through, updated_at) VALUES (1, 0, ?)').run(now);
}

/**
 * The outbox of one SQLite connection as the relay reads it: its rows above the position and the position
 * itself, every statement prepared once. `advance` and `prune` are the relay's alone; reading is for anyone
 * (status, tests, tools).
 */
export class SqliteOutboxTable implements OutboxTable {
  private readonly after: Database.Statement;
  private readonly read: Database.Statement;
  private readonly move: Database.Statement;
  private readonly oldest: Database.Statement;
  private readonly last: Database.Statement;
  private readonly deletePublished: Database.Statement;

  constructor(db: Database.Database) {
    this.after = db.prepare('SELECT sequence, id, aggregateid, topic, headers, payload FROM outbox WHERE sequence > ? ORDER BY sequence LIMIT ?');
    this.read = db.prepare('SELECT published_through FROM outbox_relay WHERE id = 1').pluck();
    // Never backwards, whoever else moved it.
    this.move = db.prepare('UPDATE outbox_relay SET published_through = ?, updated_at = ? WHERE id = 1 AND published_through < ?');
    this.oldest = db.prepare('SELECT created_at FROM outbox WHERE sequence > ? ORDER BY sequence LIMIT 1').pluck();
    this.last = db.prepare('SELECT MAX(sequence) FROM outbox').pluck();
    // The first chunk of published rows by sequence, less those still in retention: commit times grow with the
    // sequence, so the oldest rows come first and the scan is never longer than a chunk. (Only a clock set back
    // can put a young row among them, which slows pruning to a chunk per interval until it expires as well.)
    this.deletePublished = db.prepare('DELETE FROM outbox WHERE sequence IN (SELECT sequence FROM outbox WHERE sequence <= ? ORDER BY sequence LIMIT ?) AND created_at < ?');
  }

  rowsAfter(after: number, limit: number): Promise<RelayRow[]> {
    return Promise.resolve(this.after.all(after, limit) as RelayRow[]);
  }

  publishedThrough(): Promise<number> {
    return Promise.resolve(this.readPosition());
  }

  advance(sequence: number, now: number): Promise<void> {
    this.move.run(sequence, now, sequence);
    return Promise.resolve();
  }

  lastSequence(): Promise<number> {
    return Promise.resolve(this.readLast());
  }

  /**
   * The backlog is a distance, not a count, so it costs the same for a million rows (an outage) as for none:
   * the sequences above the position have no gaps, since a rolled back insert's number is handed out again
   * and pruning deletes only below the position. (Rows deleted above it by hand would still be counted.)
   */
  backlog(): Promise<OutboxBacklog> {
    return Promise.resolve(this.backlogNow());
  }

  prune(chunk: number, writtenBefore: number): Promise<number> {
    return Promise.resolve(this.deletePublished.run(this.readPosition(), chunk, writtenBefore).changes);
  }

  /** `backlog()` at once, for code on this connection that cannot wait (a tool, a test). */
  backlogNow(): OutboxBacklog {
    const publishedThrough = this.readPosition();
    return {
      publishedThrough,
      backlog: Math.max(0, this.readLast() - publishedThrough),
      oldestUnsentAt: this.oldest.get(publishedThrough) as number | undefined,
    };
  }

  private readPosition(): number {
    return (this.read.get() as number | undefined) ?? 0;
  }

  private readLast(): number {
    return (this.last.get() as number | null) ?? 0;
  }
}

/** The backlog of a service database's outbox, e.g. for a tool or a test while the relay runs in another process. */
export function outboxBacklog(db: Database.Database): OutboxBacklog {
  return new SqliteOutboxTable(db).backlogNow();
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

