/**
 * The notifications service's composition: its database (notifications and the outbox), one subscription
 * (group `notifications`) to the topics whose events a customer hears about, and the read API.
 *
 *   orders.order      OrderPlaced, OrderConfirmed, OrderCancelled, OrderShipped  -> a message + CustomerNotified
 *   payments.payment  PaymentRefunded                                           -> a message + CustomerNotified
 *
 * `deps` replaces the clock and the ids in tests.
 */
import { v7 as uuidv7 } from 'uuid';
import type { ServiceHost } from '@shoal/service';
import type { configSpec } from './config.js';
import { migrateNotifications, NotificationStore } from './notifications/notification-store.js';
import { Notifier } from './notifications/notifier.js';
import { notificationRoutes } from './notifications/routes.js';
import { sqliteOnly } from '@shoal/store-sqlite';

export type NotificationsConfig = ReturnType<typeof configSpec.load>;

export interface NotificationsDeps {
  now: () => number;
  newId: () => string;
}

export async function buildNotifications(host: ServiceHost<NotificationsConfig>, deps: Partial<NotificationsDeps> = {}): Promise<void> {
  const database = sqliteOnly(await host.openDatabase(), 'The notifications service');
  migrateNotifications(database.db);
  const store = new NotificationStore(database.db);
  const notifier = new Notifier({ store, source: host.source, logger: host.logger, now: deps.now ?? Date.now, newId: deps.newId ?? uuidv7 });
  host.subscribe({
    database,
    topics: ['orders.order', 'payments.payment'],
    handlers: {
      'shoal.orders.OrderPlaced': (event, tx, context) => notifier.notify(event, tx, context),
      'shoal.orders.OrderConfirmed': (event, tx, context) => notifier.notify(event, tx, context),
      'shoal.orders.OrderCancelled': (event, tx, context) => notifier.notify(event, tx, context),
      'shoal.orders.OrderShipped': (event, tx, context) => notifier.notify(event, tx, context),
      'shoal.payments.PaymentRefunded': (event, tx, context) => notifier.notify(event, tx, context),
    },
  });
  host.routes(notificationRoutes(store));
}
