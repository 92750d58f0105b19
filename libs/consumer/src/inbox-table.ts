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
 *   PRIMARY KEY (consumer_group, event_id): the dedupe lookup, an index seek
 *
 * Nothing indexes processed_at: that index is a second b-tree insert for every record, and with it the inbox
 * row cost about 4.4 µs per record instead of 3 (docs/benchmarks.md, the consumer runtime). A rowid table is what
 * lets pruning do without it: an insert is an append to the table (rowids are handed out in insertion order,
 * max + 1) plus one entry in the primary key's index, rowid order is insertion order, and processed_at grows
 * with it, so the oldest rows are the lowest rowids. Pruning walks the table from its start, a chunk per
 * transaction, deletes the group's rows older than the cut-off and stops at the first row, of any group, that
 * is not (a clock stepping back leaves a few old rows for the next pruning). It reads what it deletes plus the
 * old rows of other groups, never the whole table.
 *
 * An event delivered again after its row was pruned is processed again: the retention must exceed the longest
 * redelivery the platform allows (a consumer group reset to an old offset, a producer retrying for days).
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { SqliteServiceDatabase, SqliteDatabase } from '@shoal/store-sqlite';

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

/** One pruning transaction: rows deleted, the last rowid it passed, and whether the old rows ran out. */
export interface PruneChunk {
  deleted: number;
  after: number;
  finished: boolean;
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
    );
  `);
}

/** The inbox of one consumer group on one connection. */
export class Inbox {
  private readonly insertRow;
  private readonly hasRow;
  private readonly oldestRows;
  private readonly deleteOlder;

  constructor(
    db: SqliteDatabase,
    readonly group: string,
    private readonly now: () => number,
  ) {
    createInboxTable(db);
    this.insertRow = db.prepare(
      `INSERT OR IGNORE INTO inbox (consumer_group, event_id, topic, "partition", "offset", type, processed_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    this.hasRow = db.prepare<[string, string]>('SELECT 1 FROM inbox WHERE consumer_group = ? AND event_id = ?').pluck();
    this.oldestRows = db.prepare<[number, number], [number, number]>('SELECT rowid, processed_at FROM inbox WHERE rowid > ? ORDER BY rowid LIMIT ?').raw();
    this.deleteOlder = db.prepare('DELETE FROM inbox WHERE rowid > ? AND rowid <= ? AND consumer_group = ? AND processed_at < ?');
  }

  /**
   * Records `entry` as processed; false when the group had already recorded its event id (a duplicate).
   * Must run inside the transaction of the handler's writes: that is what makes the two atomic.
   */
  record(entry: InboxEntry): boolean {
    // A number, not a BigInt: offsets are exact as numbers up to 2^53, and the conversion is paid per record.
    return this.insertRow.run(this.group, entry.eventId, entry.topic, entry.partition, Number(entry.offset), entry.type, this.now()).changes === 1;
  }

  /** Whether the group has processed the event `eventId`. */
  has(eventId: string): boolean {
    return this.hasRow.get(this.group, eventId) !== undefined;
  }

  /**
   * Looks at up to `limit` rows after rowid `after` and deletes the group's rows processed before `before` (ms
   * since the epoch) among them, up to the first row processed since.
   */
  pruneChunk(before: number, limit: number, after: number): PruneChunk {
    const rows = this.oldestRows.all(after, limit);
    let last = after;
    for (const [rowid, processedAt] of rows) {
      if (processedAt >= before) return { deleted: this.deleteUpTo(after, last, before), after: last, finished: true };
      last = rowid;
    }
    return { deleted: this.deleteUpTo(after, last, before), after: last, finished: rows.length < limit };
  }

  private deleteUpTo(after: number, last: number, before: number): number {
    return last === after ? 0 : this.deleteOlder.run(after, last, this.group, before).changes;
  }
}

/**
 * Deletes the rows of `inbox` processed before `before`, looking at `chunkSize` rows per transaction and letting
 * the event loop (and other writers) in between chunks. Returns how many rows went.
 */
export async function pruneInbox(database: SqliteServiceDatabase, inbox: Inbox, before: number, chunkSize: number): Promise<number> {
  let total = 0;
  let after = Number.MIN_SAFE_INTEGER;
  for (;;) {
    const chunk = await database.transact(() => inbox.pruneChunk(before, chunkSize, after));
    total += chunk.deleted;
    if (chunk.finished) return total;
    after = chunk.after;
    await nextTurn();
  }
}
