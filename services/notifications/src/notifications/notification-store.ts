/**
 * The `notifications` table: one row per customer-visible event, keyed by that event's id, so a message is
 * recorded (and CustomerNotified emitted) once per event even if the inbox no longer remembers the id (it
 * forgets after its retention) or the event is published again under another offset. Reads go by customer or
 * by order in event time, through the two indexes.
 */
import type { SqliteDatabase } from '@shoal/store-sqlite';

export function migrateNotifications(db: SqliteDatabase): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS notifications (
      event_id        TEXT PRIMARY KEY,
      notification_id TEXT NOT NULL UNIQUE,
      customer_id     TEXT NOT NULL,
      order_id        TEXT NOT NULL,
      channel         TEXT NOT NULL,
      template        TEXT NOT NULL,
      message         TEXT NOT NULL,
      event_time      INTEGER NOT NULL,
      notified_at     INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS notifications_by_customer ON notifications (customer_id, event_time, event_id);
    CREATE INDEX IF NOT EXISTS notifications_by_order ON notifications (order_id, event_time, event_id);
  `);
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

export class NotificationStore {
  private readonly insertRow;
  private readonly listRows;

  constructor(db: SqliteDatabase) {
    this.insertRow = db.prepare<[NotificationRow]>(
      `INSERT INTO notifications (event_id, notification_id, customer_id, order_id, channel, template, message, event_time, notified_at)
       VALUES (@event_id, @notification_id, @customer_id, @order_id, @channel, @template, @message, @event_time, @notified_at)
       ON CONFLICT (event_id) DO NOTHING`,
    );
    this.listRows = db.prepare<{ customerId: string | null; orderId: string | null; limit: number }, NotificationRow>(
      `SELECT * FROM notifications
       WHERE (@customerId IS NULL OR customer_id = @customerId) AND (@orderId IS NULL OR order_id = @orderId)
       ORDER BY event_time, event_id LIMIT @limit`,
    );
  }

  /** False when the event already has its notification. */
  insert(notification: Notification): boolean {
    return (
      this.insertRow.run({
        event_id: notification.eventId,
        notification_id: notification.notificationId,
        customer_id: notification.customerId,
        order_id: notification.orderId,
        channel: notification.channel,
        template: notification.template,
        message: notification.message,
        event_time: notification.eventTime,
        notified_at: notification.notifiedAt,
      }).changes === 1
    );
  }

  list(filter: NotificationFilter): Notification[] {
    return this.listRows.all({ customerId: filter.customerId ?? null, orderId: filter.orderId ?? null, limit: filter.limit }).map((row) => ({
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
