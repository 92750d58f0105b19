/**
 * Inventory's reactions (to OrderPlaced, and the compensations of PaymentDeclined and OrderCancelled), run
 * by the consumer runtime inside the transaction that also records the event in the inbox, so a redelivered event never reserves or releases twice.
 *
 *   OrderPlaced      reserve every line or none -> StockReserved | StockReservationFailed
 *   PaymentDeclined  release a RESERVED reservation -> StockReleased (compensation)
 *   OrderCancelled   the same
 *
 * Why each reaction is also right when events arrive in a surprising order:
 * - OrderPlaced and OrderCancelled share the orders.order topic and the order's key, so a cancellation is
 *   always handled after its placement. A second OrderPlaced of an order (a new event id for an order
 *   already decided) finds the reservation row and changes nothing: an order is reserved at most once.
 * - PaymentDeclined (payments.payment) is caused by StockReserved, which is emitted in the same transaction
 *   as the reservation, so the reservation is always there before it. A declined order also gets an
 *   OrderCancelled from orders; whichever of the two comes second finds the reservation RELEASED and does
 *   nothing. Releasing only a RESERVED row is what makes the pair, and any redelivery, safe.
 * - A release for an order inventory never saw, or whose reservation FAILED, has nothing to give back.
 *
 * Confirmed orders keep their units reserved: shipping does not consume stock in this reference flow, so a
 * shipped order's units stay in `reserved` (available + reserved changes only through PUT /stock).
 */
import type { EventHandlers } from '@shoal/consumer';
import type { ShoalLogger } from '@shoal/core';
import { createEvent, type ShoalEvent } from '@shoal/contract';
import type { Transaction } from '@shoal/store';
import { StockTable } from '../stock/stock-table.js';
import { decideReservation, describeUnavailable, quantitiesBySku } from './reservation-decision.js';
import { ReservationTable } from './reservation-table.js';

export interface ReservationHandlerOptions {
  /** CloudEvents source of the emitted events. */
  source: string;
  now: () => number;
  logger: ShoalLogger;
}

/**
 * Lines in sku order: the order in which a transaction takes the stock rows. On PostgreSQL, where instances
 * lock the rows they decide on, two orders of the same skus then wait for each other instead of deadlocking.
 */
function bySku<L extends { sku: string }>(lines: readonly L[]): L[] {
  return [...lines].sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0));
}

type ReleasingEvent = ShoalEvent<'shoal.orders.OrderCancelled' | 'shoal.payments.PaymentDeclined'>;

export function reservationHandlers(options: ReservationHandlerOptions) {
  const { source, now, logger } = options;

  const release = async (event: ReleasingEvent, tx: Transaction<unknown>): Promise<void> => {
    const { orderId } = event.data;
    const stock = new StockTable(tx.sql);
    const reservations = new ReservationTable(tx.sql);
    const reservation = await reservations.get(orderId);
    if (reservation?.status !== 'RESERVED') {
      logger.debug({ orderId, cause: event.type, status: reservation?.status ?? 'unknown' }, 'nothing to release');
      return;
    }
    const at = now();
    for (const { sku, quantity } of bySku(reservation.lines)) await stock.release(sku, quantity, at);
    await reservations.markReleased(orderId, event.type, at);
    tx.emit(
      createEvent(
        'shoal.inventory.StockReleased',
        { orderId, lines: reservation.lines, reason: event.type, releasedAt: at },
        { source, subject: orderId, causedBy: event, time: new Date(at) },
      ),
    );
    logger.debug({ orderId, cause: event.type }, 'stock released');
  };

  return {
    'shoal.orders.OrderPlaced': async (event, tx: Transaction<unknown>) => {
      const { orderId, customerId, lines, total } = event.data;
      const stock = new StockTable(tx.sql);
      const reservations = new ReservationTable(tx.sql);
      const known = await reservations.get(orderId);
      if (known !== undefined) {
        logger.info({ orderId, eventId: event.id, status: known.status }, 'order placed again under a new event id: already decided, ignored');
        return;
      }
      const levels = new Map<string, number>();
      for (const { sku } of bySku(quantitiesBySku(lines))) levels.set(sku, await stock.availableOf(sku));
      const decision = decideReservation(lines, (sku) => levels.get(sku) ?? 0);
      const at = now();
      const options = { source, subject: orderId, causedBy: event, time: new Date(at) };
      if (decision.outcome === 'reserved') {
        for (const { sku, quantity } of decision.quantities) await stock.reserve(sku, quantity, at);
        await reservations.insert({ orderId, customerId, status: 'RESERVED', lines: decision.quantities, reason: null, createdAt: at });
        // Payments decides on this event alone (it cannot read the order), so the order's lines and total travel with it.
        const reservedLines = lines.map(({ sku, quantity, unitPrice }) => ({ sku, quantity, unitPrice: { amount: unitPrice.amount, currency: unitPrice.currency } }));
        tx.emit(
          createEvent(
            'shoal.inventory.StockReserved',
            { orderId, customerId, lines: reservedLines, total: { amount: total.amount, currency: total.currency }, reservedAt: at },
            options,
          ),
        );
        logger.debug({ orderId }, 'stock reserved');
      } else {
        const reason = describeUnavailable(decision.unavailable);
        await reservations.insert({ orderId, customerId, status: 'FAILED', lines: decision.quantities, reason, createdAt: at });
        tx.emit(createEvent('shoal.inventory.StockReservationFailed', { orderId, customerId, unavailable: decision.unavailable, failedAt: at }, options));
        logger.debug({ orderId, reason }, 'stock reservation failed');
      }
    },
    'shoal.orders.OrderCancelled': release,
    'shoal.payments.PaymentDeclined': release,
  } satisfies EventHandlers;
}
