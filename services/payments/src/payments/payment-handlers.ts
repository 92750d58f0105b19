/**
 * Payments' reactions (authorizing on StockReserved, refunding on OrderCancelled), run by the consumer
 * runtime inside the transaction that also records the event in the inbox, so a redelivered event never charges or refunds twice.
 *
 *   StockReserved   authorize the order's total against the customer's credit line
 *                   -> PaymentAuthorized | PaymentDeclined; nothing when the order has a payment already or
 *                   was cancelled first
 *   OrderCancelled  remember the cancellation; refund an AUTHORIZED payment -> PaymentRefunded
 *
 * StockReserved (inventory.reservation) and OrderCancelled (orders.order) are on different topics, so either
 * can come first:
 * - StockReserved first: the payment is decided; a later OrderCancelled refunds it if it was authorized
 *   (a declined one has nothing to give back: orders cancels declined orders itself).
 * - OrderCancelled first (the customer cancelled while stock was being reserved): the order is recorded in
 *   `cancelled_orders` and the late StockReserved charges nobody. Inventory releases the units on the same
 *   OrderCancelled, so nothing is held for an order that will never be paid.
 */
import type { EventHandlers } from '@shoal/consumer';
import type { ShoalLogger } from '@shoal/core';
import { createEvent } from '@shoal/contract';
import type { Transaction } from '@shoal/store';
import { CustomerTable } from '../customers/customer-table.js';
import { decidePayment } from './payment-decision.js';
import { PaymentTable } from './payment-table.js';

export interface PaymentHandlerOptions {
  /** CloudEvents source of the emitted events. */
  source: string;
  now: () => number;
  /** Payment ids. */
  newId: () => string;
  logger: ShoalLogger;
}

export function paymentHandlers(options: PaymentHandlerOptions) {
  const { source, now, newId, logger } = options;
  return {
    'shoal.inventory.StockReserved': async (event, tx: Transaction<unknown>) => {
      const { orderId, customerId } = event.data;
      const customers = new CustomerTable(tx.sql);
      const payments = new PaymentTable(tx.sql);
      const total = { amount: event.data.total.amount, currency: event.data.total.currency };
      const existing = await payments.get(orderId);
      if (existing !== undefined) {
        logger.info({ orderId, eventId: event.id, status: existing.status }, 'stock reserved again for an order that has a payment: ignored');
        return;
      }
      if (await payments.isCancelled(orderId)) {
        logger.debug({ orderId }, 'order cancelled before its stock was reserved: no payment');
        return;
      }
      const decision = decidePayment(customerId, await customers.get(customerId), total);
      const at = now();
      const paymentId = newId();
      const options = { source, subject: orderId, causedBy: event, time: new Date(at) };
      if (decision.outcome === 'authorized') {
        await customers.charge(customerId, total.amount, total.currency, at);
        await payments.insert({ paymentId, orderId, customerId, ...total, status: 'AUTHORIZED', reason: null, createdAt: at });
        tx.emit(createEvent('shoal.payments.PaymentAuthorized', { paymentId, orderId, customerId, amount: total, authorizedAt: at }, options));
        logger.debug({ orderId, paymentId }, 'payment authorized');
      } else {
        await payments.insert({ paymentId, orderId, customerId, ...total, status: 'DECLINED', reason: decision.reason, createdAt: at });
        tx.emit(createEvent('shoal.payments.PaymentDeclined', { paymentId, orderId, customerId, amount: total, reason: decision.reason, declinedAt: at }, options));
        logger.debug({ orderId, paymentId, reason: decision.reason }, 'payment declined');
      }
    },
    'shoal.orders.OrderCancelled': async (event, tx: Transaction<unknown>) => {
      const { orderId } = event.data;
      const customers = new CustomerTable(tx.sql);
      const payments = new PaymentTable(tx.sql);
      await payments.recordCancelled(orderId, event.data.cancelledAt);
      const payment = await payments.get(orderId);
      if (payment?.status !== 'AUTHORIZED') {
        logger.debug({ orderId, status: payment?.status ?? 'none' }, 'order cancelled: nothing to refund');
        return;
      }
      const at = now();
      await customers.refund(payment.customerId, payment.amount, payment.currency, at);
      await payments.markRefunded(orderId, at);
      tx.emit(
        createEvent(
          'shoal.payments.PaymentRefunded',
          { paymentId: payment.paymentId, orderId, customerId: payment.customerId, amount: { amount: payment.amount, currency: payment.currency }, refundedAt: at },
          { source, subject: orderId, causedBy: event, time: new Date(at) },
        ),
      );
      logger.debug({ orderId, paymentId: payment.paymentId }, 'payment refunded');
    },
  } satisfies EventHandlers;
}
