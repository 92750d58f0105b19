/**
 * The `notifications` table: one row per customer-visible event, keyed by that event's id, so a message is
 * recorded (and CustomerNotified emitted) once per event even if the inbox no longer remembers the id (it
 * forgets after its retention) or the event is published again under another offset. Reads go by customer or
 * by order in event time, through the two indexes.
 *
 * The insert is written once with the query builder and compiled once per dialect (compiledQuery of
 * @shoal/store), the list built per request (queryBuilder: its filters vary); each runs on the executor it
 * is given (`tx.sql` in the handler), on SQLite and PostgreSQL alike. On PostgreSQL the table is created
 * under the schema lock (createTables), its times are BIGINT and its ids sort by code point (COLLATE "C"),
 * as on SQLite.
 */
import { compiledQuery, createTables, queryBuilder, type Kysely, type Params, type ServiceDatabase, type SqlExecutor } from '@shoal/store';

export function migrateNotifications(database: ServiceDatabase): Promise<void> {
  const statements = (dialect: 'sqlite' | 'postgres') => {
    const [int, id] = dialect === 'sqlite' ? ['INTEGER', 'TEXT'] : ['BIGINT', 'TEXT COLLATE "C"'];
    return [
      `CREATE TABLE IF NOT EXISTS notifications (
        event_id        ${id} PRIMARY KEY,
        notification_id TEXT NOT NULL UNIQUE,
        customer_id     TEXT NOT NULL,
        order_id        TEXT NOT NULL,
        channel         TEXT NOT NULL,
        template        TEXT NOT NULL,
        message         TEXT NOT NULL,
        event_time      ${int} NOT NULL,
        notified_at     ${int} NOT NULL
      )`,
      'CREATE INDEX IF NOT EXISTS notifications_by_customer ON notifications (customer_id, event_time, event_id)',
      'CREATE INDEX IF NOT EXISTS notifications_by_order ON notifications (order_id, event_time, event_id)',
    ];
  };
  return createTables(database, { sqlite: statements('sqlite'), postgres: statements('postgres') });
}

export interface Notification {
  notificationId: string;
  eventId: string;
  customerId: string;
  orderId: string;
  channel: 'EMAIL' | 'SMS';
  /** The CloudEvent type of the event the message is about. */
  template: string;
  message: string;
  /** When the event happened (its `time`), ms since the epoch: the order of a customer's messages. */
  eventTime: number;
  /** When the message was recorded, ms since the epoch. */
  notifiedAt: number;
}

export interface NotificationFilter {
  customerId?: string;
  orderId?: string;
  limit: number;
}

interface NotificationRow {
  event_id: string;
  notification_id: string;
  customer_id: string;
  order_id: string;
  channel: 'EMAIL' | 'SMS';
  template: string;
  message: string;
  event_time: number;
  notified_at: number;
}

export interface NotificationsTables {
  notifications: NotificationRow;
}

const insertRow = compiledQuery((db: Kysely<NotificationsTables>, p: Params<NotificationRow>) =>
  db
    .insertInto('notifications')
    .values({
      event_id: p.event_id,
      notification_id: p.notification_id,
      customer_id: p.customer_id,
      order_id: p.order_id,
      channel: p.channel,
      template: p.template,
      message: p.message,
      event_time: p.event_time,
      notified_at: p.notified_at,
    })
    .onConflict((conflict) => conflict.column('event_id').doNothing()),
);

export class NotificationStore {
  constructor(private readonly sql: SqlExecutor) {}

  /** False when the event already has its notification. */
  async insert(notification: Notification): Promise<boolean> {
    const inserted = await insertRow.run(this.sql, {
      event_id: notification.eventId,
      notification_id: notification.notificationId,
      customer_id: notification.customerId,
      order_id: notification.orderId,
      channel: notification.channel,
      template: notification.template,
      message: notification.message,
      event_time: notification.eventTime,
      notified_at: notification.notifiedAt,
    });
    return inserted === 1;
  }

  async list(filter: NotificationFilter): Promise<Notification[]> {
    const rows = await queryBuilder<NotificationsTables>(this.sql)
      .selectFrom('notifications')
      .selectAll()
      .$if(filter.customerId !== undefined, (query) => query.where('customer_id', '=', filter.customerId!))
      .$if(filter.orderId !== undefined, (query) => query.where('order_id', '=', filter.orderId!))
      .orderBy('event_time')
      .orderBy('event_id')
      .limit(filter.limit)
      .execute();
    return rows.map((row) => ({
      notificationId: row.notification_id,
      eventId: row.event_id,
      customerId: row.customer_id,
      orderId: row.order_id,
      channel: row.channel,
      template: row.template,
      message: row.message,
      eventTime: row.event_time,
      notifiedAt: row.notified_at,
    }));
  }
}
