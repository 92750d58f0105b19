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
 * On PostgreSQL, the same statements run on a table with an identity column `id` standing for the rowid, and an
 * index on it: a heap table has no order of its own, so there is one extra index either way (the other
 * choice, an index on processed_at, would cost the same insert and need a second pruning algorithm). The
 * identity is handed out at insert time, not at commit, so rows of transactions running side by side can
 * land out of order by a few milliseconds: pruning stopping at the first younger row handles that as it
 * handles a clock stepping back.
 *
 * An event delivered again after its row was pruned is processed again: the retention must exceed the longest
 * redelivery the platform allows (a consumer group reset to an old offset, a producer retrying for days).
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { afterValue, type MaybePromise, type ServiceDatabase, type SqlDialect, type SqlExecutor } from '@shoal/store';
import { isFound, isOne } from './sql-results.js';

/** Where a processed event came from. */
export interface InboxEntry {
  eventId: string;
  type: string;
  topic: string;
  partition: number;
  offset: string;
}

/** One row, as `SELECT * FROM inbox` reads it (PostgreSQL adds `id`, its insertion order). */
export interface InboxRow {
  consumer_group: string;
  event_id: string;
  topic: string;
  partition: number;
  offset: number;
  type: string;
  processed_at: number;
}

/** One pruning transaction: rows deleted, the last row (in insertion order) it passed, and whether the old rows ran out. */
export interface PruneChunk {
  deleted: number;
  after: number;
  finished: boolean;
}

/** The table in each dialect (createTables of @shoal/store runs them). */
export const INBOX_TABLE: Record<SqlDialect, readonly string[]> = {
  sqlite: [
    `CREATE TABLE IF NOT EXISTS inbox (
      consumer_group TEXT    NOT NULL,
      event_id       TEXT    NOT NULL,
      topic          TEXT    NOT NULL,
      "partition"    INTEGER NOT NULL,
      "offset"       INTEGER NOT NULL,
      type           TEXT    NOT NULL,
      processed_at   INTEGER NOT NULL,
      PRIMARY KEY (consumer_group, event_id)
    )`,
  ],
  postgres: [
    `CREATE TABLE IF NOT EXISTS inbox (
      id             BIGINT  GENERATED ALWAYS AS IDENTITY,
      consumer_group TEXT    NOT NULL,
      event_id       TEXT    NOT NULL,
      topic          TEXT    NOT NULL,
      "partition"    INTEGER NOT NULL,
      "offset"       BIGINT  NOT NULL,
      type           TEXT    NOT NULL,
      processed_at   BIGINT  NOT NULL,
      PRIMARY KEY (consumer_group, event_id)
    )`,
    'CREATE INDEX IF NOT EXISTS inbox_insertion_order ON inbox (id)',
  ],
};

/** The column of the insertion order. */
const ORDER: Record<SqlDialect, string> = { sqlite: 'rowid', postgres: 'id' };

const INSERT = `INSERT INTO inbox (consumer_group, event_id, topic, "partition", "offset", type, processed_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`;
/** PostgreSQL only: the rows of arrays of event ids, topics, partitions, offsets and types, in their order. */
const INSERT_ALL = `INSERT INTO inbox (consumer_group, event_id, topic, "partition", "offset", type, processed_at)
  SELECT ?::text, r.event_id, r.topic, r.p, r.o, r.type, ?::bigint FROM unnest(?::text[], ?::text[], ?::int[], ?::bigint[], ?::text[]) WITH ORDINALITY AS r(event_id, topic, p, o, type, n)
  ORDER BY r.n ON CONFLICT DO NOTHING RETURNING event_id`;
const HAS = 'SELECT 1 AS found FROM inbox WHERE consumer_group = ? AND event_id = ?';

/**
 * The inbox of one consumer group in a service database, on either adapter (the same statements). Every
 * method takes the executor to run on: a transaction's `tx.sql`, or the database's `sql` for reads. On SQLite
 * the results come back at once (no promise per record), on PostgreSQL as promises.
 */
export class Inbox {
  private readonly oldestRows: string;
  private readonly deleteOlder: string;

  constructor(
    readonly group: string,
    private readonly now: () => number,
    dialect: SqlDialect,
  ) {
    const order = ORDER[dialect];
    this.oldestRows = `SELECT ${order} AS position, processed_at FROM inbox WHERE ${order} > ? ORDER BY ${order} LIMIT ?`;
    this.deleteOlder = `DELETE FROM inbox WHERE ${order} > ? AND ${order} <= ? AND consumer_group = ? AND processed_at < ?`;
  }

  /**
   * Records `entry` as processed; false when the group had already recorded its event id (a duplicate).
   * Must run inside the transaction of the handler's writes (`sql` is its `tx.sql`): that is what makes the
   * two atomic. On PostgreSQL, a second instance recording the same id at the same time waits for the
   * first's transaction and then finds the row: one of them applies the event.
   */
  record(sql: SqlExecutor, entry: InboxEntry): MaybePromise<boolean> {
    // A number, not a BigInt: offsets are exact as numbers up to 2^53, and the conversion is paid per record.
    return afterValue(sql.run(INSERT, [this.group, entry.eventId, entry.topic, entry.partition, Number(entry.offset), entry.type, this.now()]), isOne);
  }

  /**
   * Records every entry as `record` does, in order, inside the caller's transaction; the event ids it recorded
   * (not duplicates; an id twice among the entries is recorded once). On PostgreSQL one statement for all of
   * them, so a run of 200 records costs one round trip for its inbox rows instead of 200; on SQLite a row at
   * a time, at once.
   */
  recordAll(sql: SqlExecutor, entries: readonly InboxEntry[]): MaybePromise<Set<string>> {
    if (sql.dialect === 'sqlite') {
      const recorded = new Set<string>();
      for (const entry of entries) if (this.record(sql, entry) === true) recorded.add(entry.eventId);
      return recorded;
    }
    const rows = sql.all<{ event_id: string }>(INSERT_ALL, [
      this.group,
      this.now(),
      entries.map((entry) => entry.eventId),
      entries.map((entry) => entry.topic),
      entries.map((entry) => entry.partition),
      entries.map((entry) => Number(entry.offset)),
      entries.map((entry) => entry.type),
    ]);
    return afterValue(rows, (inserted) => new Set(inserted.map((row) => row.event_id)));
  }

  /** Whether the group has processed the event `eventId`. */
  has(sql: SqlExecutor, eventId: string): MaybePromise<boolean> {
    return afterValue(sql.get(HAS, [this.group, eventId]), isFound);
  }

  /**
   * Looks at up to `limit` rows after position `after` and deletes the group's rows processed before `before`
   * (ms since the epoch) among them, up to the first row processed since.
   */
  async pruneChunk(sql: SqlExecutor, before: number, limit: number, after: number): Promise<PruneChunk> {
    const rows = await sql.all<{ position: number; processed_at: number }>(this.oldestRows, [after, limit]);
    let last = after;
    for (const { position, processed_at: processedAt } of rows) {
      if (processedAt >= before) return { deleted: await this.deleteUpTo(sql, after, last, before), after: last, finished: true };
      last = position;
    }
    return { deleted: await this.deleteUpTo(sql, after, last, before), after: last, finished: rows.length < limit };
  }

  private async deleteUpTo(sql: SqlExecutor, after: number, last: number, before: number): Promise<number> {
    return last === after ? 0 : sql.run(this.deleteOlder, [after, last, this.group, before]);
  }
}

/**
 * Deletes the rows of `inbox` processed before `before`, looking at `chunkSize` rows per transaction and letting
 * the event loop (and other writers) in between chunks. Returns how many rows went.
 */
export async function pruneInbox(database: ServiceDatabase, inbox: Inbox, before: number, chunkSize: number): Promise<number> {
  let total = 0;
  let after = Number.MIN_SAFE_INTEGER;
  for (;;) {
    const chunk = await database.transact((tx) => inbox.pruneChunk(tx.sql, before, chunkSize, after));
    total += chunk.deleted;
    if (chunk.finished) return total;
    after = chunk.after;
    await nextTurn();
  }
}
