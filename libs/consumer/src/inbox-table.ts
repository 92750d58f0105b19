/**
 * The `inbox` table: the ids of the events a consumer group has processed, in the service's own database.
 * A row is inserted in the same transaction as the handler's writes and the events it emits, so the three
 * are committed together or not at all. Kafka delivers at least once (an offset is committed after the
 * transaction, and a crash in between delivers the record again); the inbox turns every further delivery of
 * an event id into a no-op, which makes the effects exactly-once.
 *
 *   consumer_group  TEXT     the group that processed it: two subscriptions of one service dedupe separately
 *   event_id        TEXT     the CloudEvent id (ce_id)
 *   topic           TEXT     where the first delivery came from, for inspection
 *   partition       INTEGER
 *   offset          INTEGER
 *   type            TEXT     the CloudEvent type
 *   processed_at    INTEGER  ms since the epoch, when the transaction ran; what pruning looks at
 *   PRIMARY KEY (consumer_group, event_id), WITHOUT ROWID: the dedupe lookup is the primary key itself,
 *   one b-tree insert per event rather than a rowid table plus an index
 *
 * Rows older than the retention window are pruned, a chunk per transaction so a large backlog of old rows
 * never holds the write lock for long. An event delivered again after its row was pruned is processed
 * again: the retention must exceed the longest redelivery the platform allows (a consumer group reset to
 * an old offset, a producer retrying for days).
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { ServiceDatabase, SqliteDatabase } from '@shoal/outbox';

/** Where a processed event came from. */
export interface InboxEntry {
  eventId: string;
  type: string;
  topic: string;
  partition: number;
  offset: string;
}

/** One row, as `SELECT * FROM inbox` reads it. */
export interface InboxRow {
  consumer_group: string;
  event_id: string;
  topic: string;
  partition: number;
  offset: number;
  type: string;
  processed_at: number;
}

export function createInboxTable(db: SqliteDatabase): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS inbox (
      consumer_group TEXT    NOT NULL,
      event_id       TEXT    NOT NULL,
      topic          TEXT    NOT NULL,
      "partition"    INTEGER NOT NULL,
      "offset"       INTEGER NOT NULL,
      type           TEXT    NOT NULL,
      processed_at   INTEGER NOT NULL,
      PRIMARY KEY (consumer_group, event_id)
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS inbox_processed_at ON inbox (consumer_group, processed_at);
  `);
}

/** The inbox of one consumer group on one connection. */
export class Inbox {
  private readonly insertRow;
  private readonly deleteChunk;

  constructor(
    db: SqliteDatabase,
    readonly group: string,
    private readonly now: () => number,
  ) {
    createInboxTable(db);
    this.insertRow = db.prepare(
      `INSERT OR IGNORE INTO inbox (consumer_group, event_id, topic, "partition", "offset", type, processed_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    this.deleteChunk = db.prepare(
      `DELETE FROM inbox WHERE consumer_group = ? AND event_id IN (
         SELECT event_id FROM inbox WHERE consumer_group = ? AND processed_at < ? LIMIT ?
       )`,
    );
  }

  /**
   * Records `entry` as processed; false when the group had already recorded its event id (a duplicate).
   * Must run inside the transaction of the handler's writes: that is what makes the two atomic.
   */
  record(entry: InboxEntry): boolean {
    return this.insertRow.run(this.group, entry.eventId, entry.topic, entry.partition, BigInt(entry.offset), entry.type, this.now()).changes === 1;
  }

  /** Deletes up to `limit` rows processed before `before` (ms since the epoch); returns how many. */
  pruneChunk(before: number, limit: number): number {
    return this.deleteChunk.run(this.group, this.group, before, limit).changes;
  }
}

/**
 * Deletes the rows of `inbox` processed before `before`, `chunkSize` rows per transaction, letting the event
 * loop (and other writers) in between chunks. Returns how many rows went.
 */
export async function pruneInbox(database: ServiceDatabase, inbox: Inbox, before: number, chunkSize: number): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = database.transact(() => inbox.pruneChunk(before, chunkSize));
    total += deleted;
    if (deleted < chunkSize) return total;
    await nextTurn();
  }
}
