/**
 * Test support for payments' tests (not exported): the events inventory and orders would send it, built
 * the way they build them. The publisher to send them with and `call` come from @shoal/service/testing.
 */
import { v7 as uuidv7 } from 'uuid';
import { createEvent, type ShoalEvent } from '@shoal/contract';

export type ReservedStock = ShoalEvent<'shoal.inventory.StockReserved'>;

/** A StockReserved for an order of `amount` minor units (one line), as inventory emits it. */
export function stockReserved(customerId: string, amount: number, options: { orderId?: string; currency?: string } = {}): ReservedStock {
  const orderId = options.orderId ?? `o-${uuidv7()}`;
  const currency = options.currency ?? 'EUR';
  return createEvent(
    'shoal.inventory.StockReserved',
    { orderId, customerId, lines: [{ sku: 'SKU-1', quantity: 1, unitPrice: { amount, currency } }], total: { amount, currency }, reservedAt: Date.now() },
    { source: '/shoal/inventory', subject: orderId },
  );
}

/** The OrderCancelled orders emits for the order of `reserved`. */
export function orderCancelled(reserved: ReservedStock, reason: 'OUT_OF_STOCK' | 'PAYMENT_DECLINED' | 'CUSTOMER_REQUEST' = 'CUSTOMER_REQUEST') {
  const { orderId, customerId } = reserved.data;
  return createEvent(
    'shoal.orders.OrderCancelled',
    { orderId, customerId, reason, detail: `cancelled in a test (${reason})`, cancelledAt: Date.now() },
    { source: '/shoal/orders', subject: orderId },
  );
}
