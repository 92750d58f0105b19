/**
 * The outbox table as the relay sees it, on any adapter: one implementation over the adapter's SqlExecutor,
 * since every statement here is in the dialect SQLite and PostgreSQL share. The adapters create the tables
 * (their column types differ) and write the rows; this reads them and moves the position.
 *
 *   outbox_relay   id = 1 (one row)
 *                  published_through  the sequence up to which every row is published (the position)
 *                  updated_at         ms since the epoch, when the position last moved
 *                  lease_owner        the relay allowed to publish, NULL for none
 *                  lease_epoch        the fencing token: incremented whenever the lease changes hands
 *                  lease_until        ms since the epoch, when the lease expires unless renewed
 *
 * The lease is what lets several instances of a service share one database with one relay publishing: a
 * relay publishes only while it holds the lease, renews it well before it expires, and moves the position
 * only with the epoch it acquired (`advance` is a compare-and-set on it). A relay that lost its lease (it
 * stalled past the expiry, another took over and the epoch moved on) can therefore never move the position
 * again, whatever it still has in flight: its late acknowledgement is a duplicate the inbox absorbs, never a
 * gap. The lease's times come from the relays' clocks: instances on different machines need clocks closer
 * than the lease's time to live minus its renewal interval.
 */
import type { OutboxBacklog, OutboxTable, RelayRow } from './outbox-table.js';
import type { SqlExecutor } from './sql-executor.js';

export class SqlOutboxTable implements OutboxTable {
  constructor(private readonly sql: SqlExecutor) {}

  async rowsAfter(after: number, limit: number): Promise<RelayRow[]> {
    return this.sql.all<RelayRow>('SELECT sequence, id, aggregateid, topic, headers, payload FROM outbox WHERE sequence > ? ORDER BY sequence LIMIT ?', [after, limit]);
  }

  async publishedThrough(): Promise<number> {
    return (await this.sql.get<{ published_through: number }>('SELECT published_through FROM outbox_relay WHERE id = 1'))?.published_through ?? 0;
  }

  async advance(sequence: number, now: number, epoch?: number): Promise<boolean> {
    // Never backwards; with an epoch, only while it is still the lease's.
    if (epoch === undefined) {
      await this.sql.run('UPDATE outbox_relay SET published_through = ?, updated_at = ? WHERE id = 1 AND published_through < ?', [sequence, now, sequence]);
      return true;
    }
    const moved = await this.sql.run('UPDATE outbox_relay SET published_through = ?, updated_at = ? WHERE id = 1 AND published_through < ? AND lease_epoch = ?', [sequence, now, sequence, epoch]);
    if (moved === 1) return true;
    return (await this.lease())?.epoch === epoch;
  }

  async lastSequence(): Promise<number> {
    return (await this.sql.get<{ last: number | null }>('SELECT MAX(sequence) AS last FROM outbox'))?.last ?? 0;
  }

  /**
   * The backlog is a distance, not a count, so it costs the same for a million rows (an outage) as for none:
   * sequences above the position have no gaps on SQLite; on PostgreSQL a transaction that failed at its
   * commit leaves one, so there the distance can exceed the count by the failed commits' rows.
   */
  async backlog(): Promise<OutboxBacklog> {
    const publishedThrough = await this.publishedThrough();
    const last = await this.lastSequence();
    const oldest = await this.sql.get<{ created_at: number }>('SELECT created_at FROM outbox WHERE sequence > ? ORDER BY sequence LIMIT 1', [publishedThrough]);
    return { publishedThrough, backlog: Math.max(0, last - publishedThrough), oldestUnsentAt: oldest?.created_at };
  }

  async prune(chunk: number, writtenBefore: number): Promise<number> {
    // The first chunk of published rows by sequence, less those still in retention: commit times grow with the
    // sequence, so the oldest rows come first and the scan is never longer than a chunk.
    return this.sql.run('DELETE FROM outbox WHERE sequence IN (SELECT sequence FROM outbox WHERE sequence <= ? ORDER BY sequence LIMIT ?) AND created_at < ?', [
      await this.publishedThrough(),
      chunk,
      writtenBefore,
    ]);
  }

  async acquireLease(owner: string, ttlMs: number, now: number): Promise<number | undefined> {
    const row = await this.sql.get<{ lease_epoch: number }>(
      `UPDATE outbox_relay SET lease_epoch = lease_epoch + (CASE WHEN lease_owner = ? THEN 0 ELSE 1 END), lease_owner = ?, lease_until = ?
       WHERE id = 1 AND (lease_owner IS NULL OR lease_owner = ? OR lease_until < ?) RETURNING lease_epoch`,
      [owner, owner, now + ttlMs, owner, now],
    );
    return row?.lease_epoch;
  }

  async releaseLease(owner: string): Promise<void> {
    await this.sql.run('UPDATE outbox_relay SET lease_owner = NULL, lease_until = 0 WHERE id = 1 AND lease_owner = ?', [owner]);
  }

  async lease(): Promise<{ owner: string; epoch: number; until: number } | undefined> {
    const row = await this.sql.get<{ lease_owner: string | null; lease_epoch: number; lease_until: number }>('SELECT lease_owner, lease_epoch, lease_until FROM outbox_relay WHERE id = 1');
    return row === undefined || row.lease_owner === null ? undefined : { owner: row.lease_owner, epoch: row.lease_epoch, until: row.lease_until };
  }
}

