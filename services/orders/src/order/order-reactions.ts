/**
 * How an order follows the rest of the choreography: one subscription (group `orders`) on the topics of
 * inventory, payments and shipping, where each event that matters to an order becomes a command of the Order
 * aggregate (order-decider.ts), run with `handleCommandIn` inside the consumer runtime's transaction. The
 * event's inbox row, the stream append and the outbox rows of what was decided commit together, so a
 * redelivered event is a duplicate of the inbox and never decides twice, and what is decided carries the
 * event as its cause (correlation and causation ids).
 *
 * Whether the event still applies is the decider's call (it decides nothing when it does not, for an unknown
 * order too), so nothing that arrives in a surprising order is dead-lettered. The other events of these
 * topics (StockReserved, StockReleased, PaymentRefunded, ShipmentScheduled, ShipmentCancelled) change
 * nothing about an order and have no handler: the runtime skips and counts them.
 */
import type { ShoalLogger } from '@shoal/core';
import { handleCommandIn, type EventStore } from '@shoal/eventstore';
import type { ShoalEvent, UnavailableLine } from '@shoal/contract';
import type { Transaction } from '@shoal/store';
import { orderDecider, type OrderCommand } from './order-decider.js';

export const REACTION_TOPICS = ['inventory.reservation', 'payments.payment', 'shipping.shipment'] as const;

type ReactionEvent = ShoalEvent<
  'shoal.inventory.StockReservationFailed' | 'shoal.payments.PaymentAuthorized' | 'shoal.payments.PaymentDeclined' | 'shoal.shipping.ShipmentDispatched'
>;

/** The command an upstream event asks of its order; `now` is when it is handled. */
export function commandOf(event: ReactionEvent, now: number): OrderCommand {
  switch (event.type) {
    case 'shoal.inventory.StockReservationFailed':
      return { type: 'RejectOrder', orderId: event.data.orderId, reason: 'OUT_OF_STOCK', detail: outOfStockDetail(event.data.unavailable), now };
    case 'shoal.payments.PaymentDeclined':
      return { type: 'RejectOrder', orderId: event.data.orderId, reason: 'PAYMENT_DECLINED', detail: event.data.reason, now };
    case 'shoal.payments.PaymentAuthorized':
      return { type: 'ConfirmOrder', orderId: event.data.orderId, paymentId: event.data.paymentId, now };
    case 'shoal.shipping.ShipmentDispatched':
      return { type: 'ShipOrder', orderId: event.data.orderId, shipmentId: event.data.shipmentId, trackingNumber: event.data.trackingNumber, shippedAt: event.data.dispatchedAt };
  }
}

/** `out of stock: SKU-1 (3 requested, 1 available), SKU-2 (1 requested, 0 available)` */
export function outOfStockDetail(unavailable: readonly UnavailableLine[]): string {
  if (unavailable.length === 0) return 'out of stock';
  return `out of stock: ${unavailable.map((line) => `${line.sku} (${line.requested} requested, ${line.available} available)`).join(', ')}`;
}

export interface OrderReactionsOptions {
  logger: ShoalLogger;
  /** Clock of the decisions (confirmedAt, cancelledAt). Default: Date.now. */
  now?: () => number;
}

/** The subscription's handlers. */
export function orderReactions(store: EventStore, options: OrderReactionsOptions) {
  const { logger } = options;
  const now = options.now ?? Date.now;
  const react = async (event: ReactionEvent, tx: Transaction<unknown>): Promise<void> => {
    const command = commandOf(event, now());
    const { newEvents, newState } = await handleCommandIn(tx, store, orderDecider, command.orderId, command, { causedBy: event });
    const about = { orderId: command.orderId, cause: event.type, causeId: event.id, status: newState.status };
    if (newEvents.length > 0) {
      logger.debug({ ...about, decided: newEvents.map((decided) => decided.type) }, 'order changed');
    } else if (command.type === 'ShipOrder' && newState.status === 'CANCELLED') {
      logger.warn(about, 'a shipment was dispatched for a cancelled order: the order stays cancelled, the parcel needs recovering');
    } else {
      logger.debug(about, newState.status === 'NONE' ? 'event for an unknown order ignored' : 'event no longer applies to the order, ignored');
    }
  };
  return {
    'shoal.inventory.StockReservationFailed': react,
    'shoal.payments.PaymentAuthorized': react,
    'shoal.payments.PaymentDeclined': react,
    'shoal.shipping.ShipmentDispatched': react,
  };
}
