/**
 * Deciders for this package's tests (not exported), pure like the real ones and free of vitest, so that the
 * writer processes of the concurrency tests (test-writer-process.ts) run them too.
 *
 *   orderDecider         an order that is placed, confirmed or cancelled: the shape of the `orders` service's
 *                        aggregate, with domain errors and idempotent commands
 *   notificationDecider  a counter: each Notify decides one CustomerNotified whose message carries the count
 *                        of notifications before it plus one. Two commands decided on the same state would
 *                        write the same number twice, so a stream numbered 1..n proves no update was lost.
 */
import type { Decider } from '@shoal/core';
import type { LineItem, Money, OrderCancellationReason } from '@shoal/contract';
import type { DomainEvent } from './domain-event.js';

export type OrderEvent = DomainEvent<'shoal.orders.OrderPlaced' | 'shoal.orders.OrderConfirmed' | 'shoal.orders.OrderCancelled'>;

export type OrderCommand =
  | { type: 'PlaceOrder'; orderId: string; customerId: string; lines: LineItem[]; now: number }
  | { type: 'ConfirmOrder'; paymentId: string; now: number }
  | { type: 'CancelOrder'; reason: OrderCancellationReason; detail: string; now: number };

export type OrderState =
  | { status: 'NONE' }
  | { status: 'PLACED' | 'CONFIRMED' | 'CANCELLED'; orderId: string; customerId: string; total: Money };

/** A command the order's state does not allow. */
export class OrderRuleViolation extends Error {
  override readonly name = 'OrderRuleViolation';
}

export const orderDecider: Decider<OrderState, OrderCommand, OrderEvent> = {
  initialState: () => ({ status: 'NONE' }),
  evolve(state, event) {
    switch (event.type) {
      case 'shoal.orders.OrderPlaced':
        return { status: 'PLACED', orderId: event.data.orderId, customerId: event.data.customerId, total: event.data.total };
      case 'shoal.orders.OrderConfirmed':
        return state.status === 'NONE' ? state : { ...state, status: 'CONFIRMED' };
      case 'shoal.orders.OrderCancelled':
        return state.status === 'NONE' ? state : { ...state, status: 'CANCELLED' };
    }
  },
  decide(command, state) {
    switch (command.type) {
      case 'PlaceOrder': {
        if (state.status !== 'NONE') throw new OrderRuleViolation(`Order ${state.orderId} is already ${state.status}`);
        const amount = command.lines.reduce((sum, line) => sum + line.quantity * line.unitPrice.amount, 0);
        const currency = command.lines[0]?.unitPrice.currency ?? 'EUR';
        return [
          {
            type: 'shoal.orders.OrderPlaced',
            data: {
              orderId: command.orderId,
              customerId: command.customerId,
              lines: command.lines,
              total: { amount, currency },
              shippingAddress: null,
              placedAt: command.now,
            },
          },
        ];
      }
      case 'ConfirmOrder': {
        if (state.status === 'CONFIRMED') return [];
        if (state.status !== 'PLACED') throw new OrderRuleViolation(`Cannot confirm an order that is ${state.status}`);
        return [
          {
            type: 'shoal.orders.OrderConfirmed',
            data: { orderId: state.orderId, customerId: state.customerId, paymentId: command.paymentId, total: state.total, confirmedAt: command.now },
          },
        ];
      }
      case 'CancelOrder': {
        if (state.status === 'CANCELLED') return [];
        if (state.status === 'NONE') throw new OrderRuleViolation('Cannot cancel an order that was never placed');
        return [
          {
            type: 'shoal.orders.OrderCancelled',
            data: { orderId: state.orderId, customerId: state.customerId, reason: command.reason, detail: command.detail, cancelledAt: command.now },
          },
        ];
      }
    }
  },
};

export function testLines(): LineItem[] {
  return [
    { sku: 'SKU-1', quantity: 2, unitPrice: { amount: 250, currency: 'EUR' } },
    { sku: 'SKU-2', quantity: 1, unitPrice: { amount: 1000, currency: 'EUR' } },
  ];
}

export type NotificationEvent = DomainEvent<'shoal.notifications.CustomerNotified'>;
export interface NotifyCommand {
  type: 'Notify';
  notificationId: string;
  customerId: string;
  now: number;
}
export interface NotificationCount {
  sent: number;
}

export const notificationDecider: Decider<NotificationCount, NotifyCommand, NotificationEvent> = {
  initialState: () => ({ sent: 0 }),
  evolve: (state) => ({ sent: state.sent + 1 }),
  decide: (command, state) => [
    {
      type: 'shoal.notifications.CustomerNotified',
      data: {
        notificationId: command.notificationId,
        customerId: command.customerId,
        orderId: 'ord-1',
        channel: 'EMAIL',
        template: 'shoal.orders.OrderConfirmed',
        message: notificationMessage(state.sent + 1),
        notifiedAt: command.now,
      },
    },
  ],
};

export function notificationMessage(number: number): string {
  return `notification #${number}`;
}
