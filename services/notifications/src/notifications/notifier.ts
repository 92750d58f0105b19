/**
 * The reaction to every customer-visible event: render the message, record it, announce CustomerNotified,
 * all in the consumer's transaction (which also records the event in the inbox).
 *
 * Each event gets its own message, independently of the others, so the order in which they arrive does not
 * matter: a PaymentRefunded may well be recorded before the OrderCancelled that caused it (two topics, no
 * order between them). The customer's list is sorted by the time the events happened, not by arrival, so it
 * reads in the order the customer would expect either way.
 *
 * CustomerNotified is keyed by the customer (the manifest's key of notifications.notification): a customer's
 * messages stay in order on one partition. It is caused by the event it is about, so it joins that order's
 * flow (correlation id).
 */
import type { ShoalLogger } from '@shoal/core';
import type { MessageContext } from '@shoal/transport';
import { createEvent } from '@shoal/contract';
import type { Transaction } from '@shoal/store';
import { NotificationStore } from './notification-store.js';
import { render, type NotifiedEvent } from './render.js';

export interface NotifierOptions {
  /** `/shoal/notifications`. */
  source: string;
  logger: ShoalLogger;
  now: () => number;
  newId: () => string;
}

export class Notifier {
  private readonly options: NotifierOptions;
  private readonly logger: ShoalLogger;

  constructor(options: NotifierOptions) {
    this.options = options;
    this.logger = options.logger.child({ module: 'notifier' });
  }

  async notify(event: NotifiedEvent, tx: Transaction<unknown>, context: MessageContext): Promise<void> {
    const { customerId, orderId } = event.data;
    const now = this.options.now();
    const notification = {
      notificationId: this.options.newId(),
      eventId: event.id,
      customerId,
      orderId,
      channel: 'EMAIL' as const,
      template: event.type,
      message: render(event),
      // Every Shoal event has a time; the record's own timestamp stands in for one from elsewhere that has not.
      eventTime: event.time === undefined ? Number(context.timestamp) : Date.parse(event.time),
      notifiedAt: now,
    };
    if (!(await new NotificationStore(tx.sql).insert(notification))) {
      this.logger.debug({ eventId: event.id, orderId }, 'already notified');
      return;
    }
    const { eventId: _eventId, eventTime: _eventTime, ...data } = notification;
    tx.emit(
      createEvent('shoal.notifications.CustomerNotified', data, {
        source: this.options.source,
        subject: customerId,
        partitionKey: customerId,
        causedBy: event,
        time: new Date(now),
      }),
    );
    this.logger.debug({ orderId, customerId, template: event.type }, 'customer notified');
  }
}
