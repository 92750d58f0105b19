/**
 * The events a PostgreSQL transaction emitted, checked at once and written with the commit: one statement
 * for all of them, under the outbox's commit lock (postgres-service-database.ts says why), in emit order.
 * A savepoint rolled back drops the events emitted since it began.
 */
import { ShoalError } from '@shoal/core';
import { checkEvent, type CloudEvent, type SchemaCatalog } from '@shoal/contract';
import { aggregateTypeOf, type EmitOptions, type OutboxRow, type SqlExecutor } from '@shoal/store';

/** A row before its insert: the database gives it its sequence and `created_at`. */
type PendingRow = Omit<OutboxRow, 'sequence' | 'created_at'>;

/** The advisory lock every writer of the outbox takes for its insert and commit. */
export const OUTBOX_COMMIT_LOCK_KEY = 0x5_1a_0002;

export class OutboxWrites {
  private rows: PendingRow[] = [];

  constructor(
    private readonly catalog: SchemaCatalog,
    private readonly now: () => number,
  ) {}

  add(event: CloudEvent<unknown>, options: EmitOptions = {}): void {
    checkEvent(event, this.catalog);
    const topic = options.topic ?? this.catalog.event(event.type).topic;
    const key = event.partitionkey ?? event.subject;
    if (key === undefined) {
      throw new ShoalError('SHOAL_EVENT_INVALID', `Event ${event.id} (${event.type}) has neither partitionkey nor subject: the outbox needs its aggregate id as the Kafka key`);
    }
    if (this.rows.some((row) => row.id === event.id)) {
      throw new ShoalError('SHOAL_EVENT_INVALID', `Event id ${event.id} is already in the outbox: every emitted event needs a new id`);
    }
    const { data, ...attributes } = event;
    this.rows.push({ id: event.id, aggregatetype: aggregateTypeOf(topic), aggregateid: key, type: event.type, payload: JSON.stringify(data), topic, headers: JSON.stringify(attributes) });
  }

  /** Where a savepoint begins. */
  mark(): number {
    return this.rows.length;
  }

  rollBackTo(mark: number): void {
    this.rows.length = mark;
  }

  /** Inserts the rows, if any, as the transaction's last statements before COMMIT; whether there were any. */
  async flush(sql: SqlExecutor): Promise<boolean> {
    if (this.rows.length === 0) return false;
    const rows = this.rows;
    this.rows = [];
    const column = (name: keyof PendingRow) => rows.map((row) => row[name]);
    await sql.run('SELECT pg_advisory_xact_lock(?)', [OUTBOX_COMMIT_LOCK_KEY]);
    try {
      await sql.run(
        `INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload, topic, headers, created_at)
         SELECT id, aggregatetype, aggregateid, type, payload, topic, headers, ?
         FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[]) WITH ORDINALITY
           AS rows (id, aggregatetype, aggregateid, type, payload, topic, headers, n)
         ORDER BY n`,
        [this.now(), column('id'), column('aggregatetype'), column('aggregateid'), column('type'), column('payload'), column('topic'), column('headers')],
      );
    } catch (cause) {
      if ((cause as { code?: string }).code === '23505') {
        throw new ShoalError('SHOAL_EVENT_INVALID', `An event id is already in the outbox: every emitted event needs a new id (${(cause as Error).message})`, { cause });
      }
      throw cause;
    }
    return true;
  }
}
