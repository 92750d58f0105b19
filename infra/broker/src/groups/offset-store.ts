import type { Database, Statement } from 'better-sqlite3';

/**
 * Committed consumer-group offsets, kept in the broker's SQLite database so they survive a restart
 * (Kafka keeps them in __consumer_offsets; one table is the embedded equivalent).
 *
 *   group_offsets(group_id, topic, partition) -> committed_offset, leader_epoch, metadata, commit_timestamp
 *
 * Group membership is deliberately not stored: after a restart every member has to rejoin anyway, and a
 * group that only has offsets is reported as Empty.
 */
export interface CommittedOffset {
  topic: string;
  partition: number;
  offset: number;
  leaderEpoch: number;
  metadata: string;
}

interface OffsetRow {
  topic: string;
  partition: number;
  committed_offset: number;
  leader_epoch: number;
  metadata: string;
}

export class OffsetStore {
  private readonly upsert: Statement<[string, string, number, number, number, string, number]>;
  private readonly selectOne: Statement<[string, string, number], OffsetRow>;
  private readonly selectGroup: Statement<[string], OffsetRow>;
  private readonly selectAnyOfGroup: Statement<[string], { found: number }>;
  private readonly selectGroupIds: Statement<[], { group_id: string }>;
  private readonly deleteOfGroup: Statement<[string]>;
  private readonly deleteOfTopic: Statement<[string]>;
  private readonly commitAll: (groupId: string, offsets: readonly CommittedOffset[]) => void;

  constructor(
    db: Database,
    private readonly now: () => number = Date.now,
  ) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS group_offsets (
        group_id         TEXT    NOT NULL,
        topic            TEXT    NOT NULL,
        partition        INTEGER NOT NULL,
        committed_offset INTEGER NOT NULL,
        leader_epoch     INTEGER NOT NULL,
        metadata         TEXT    NOT NULL,
        commit_timestamp INTEGER NOT NULL,
        PRIMARY KEY (group_id, topic, partition)
      ) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS group_offsets_by_topic ON group_offsets (topic);
    `);
    this.upsert = db.prepare(`
      INSERT INTO group_offsets (group_id, topic, partition, committed_offset, leader_epoch, metadata, commit_timestamp)
      VALUES (?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (group_id, topic, partition) DO UPDATE SET
        committed_offset = excluded.committed_offset,
        leader_epoch = excluded.leader_epoch,
        metadata = excluded.metadata,
        commit_timestamp = excluded.commit_timestamp
    `);
    const columns = 'topic, partition, committed_offset, leader_epoch, metadata';
    this.selectOne = db.prepare(`SELECT ${columns} FROM group_offsets WHERE group_id = ? AND topic = ? AND partition = ?`);
    this.selectGroup = db.prepare(`SELECT ${columns} FROM group_offsets WHERE group_id = ? ORDER BY topic, partition`);
    this.selectAnyOfGroup = db.prepare('SELECT 1 AS found FROM group_offsets WHERE group_id = ? LIMIT 1');
    this.selectGroupIds = db.prepare('SELECT DISTINCT group_id FROM group_offsets ORDER BY group_id');
    this.deleteOfGroup = db.prepare('DELETE FROM group_offsets WHERE group_id = ?');
    this.deleteOfTopic = db.prepare('DELETE FROM group_offsets WHERE topic = ?');
    // One transaction per OffsetCommit request: a client's commit of several partitions lands whole or not at all.
    this.commitAll = db.transaction((groupId: string, offsets: readonly CommittedOffset[]) => {
      const timestamp = this.now();
      for (const o of offsets) {
        this.upsert.run(groupId, o.topic, o.partition, o.offset, o.leaderEpoch, o.metadata, timestamp);
      }
    });
  }

  commit(groupId: string, offsets: readonly CommittedOffset[]): void {
    if (offsets.length > 0) this.commitAll(groupId, offsets);
  }

  fetch(groupId: string, topic: string, partition: number): CommittedOffset | undefined {
    const row = this.selectOne.get(groupId, topic, partition);
    return row === undefined ? undefined : toCommittedOffset(row);
  }

  fetchAll(groupId: string): CommittedOffset[] {
    return this.selectGroup.all(groupId).map(toCommittedOffset);
  }

  hasGroup(groupId: string): boolean {
    return this.selectAnyOfGroup.get(groupId) !== undefined;
  }

  groupIds(): string[] {
    return this.selectGroupIds.all().map((row) => row.group_id);
  }

  deleteGroup(groupId: string): void {
    this.deleteOfGroup.run(groupId);
  }

  deleteTopic(topic: string): void {
    this.deleteOfTopic.run(topic);
  }
}

function toCommittedOffset(row: OffsetRow): CommittedOffset {
  return {
    topic: row.topic,
    partition: row.partition,
    offset: row.committed_offset,
    leaderEpoch: row.leader_epoch,
    metadata: row.metadata,
  };
}
