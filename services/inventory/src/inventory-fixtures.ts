/**
 * Test support for inventory's tests (not exported): the events other services would send it, built the
 * way they build them. The publisher to send them with and `call` come from @shoal/service/testing.
 */
import { v7 as uuidv7 } from 'uuid';
import { createEvent, type ShoalEvent } from '@shoal/contract';

export type PlacedOrder = ShoalEvent<'shoal.orders.OrderPlaced'>;

/** An OrderPlaced of `lines` (`[sku, quantity]`), each unit at `unitPrice` minor units. */
export function orderPlaced(lines: readonly (readonly [string, number])[], options: { orderId?: string; customerId?: string; currency?: string; unitPrice?: number } = {}): PlacedOrder {
  const orderId = options.orderId ?? `o-${uuidv7()}`;
  const currency = options.currency ?? 'EUR';
  const unitPrice = options.unitPrice ?? 100;
  const items = lines.map(([sku, quantity]) => ({ sku, quantity, unitPrice: { amount: unitPrice, currency } }));
  return createEvent(
    'shoal.orders.OrderPlaced',
    {
      orderId,
      customerId: options.customerId ?? 'c-1',
      lines: items,
      total: { amount: items.reduce((sum, line) => sum + line.quantity * line.unitPrice.amount, 0), currency },
      shippingAddress: null,
      placedAt: Date.now(),
    },
    { source: '/shoal/orders', subject: orderId },
  );
}

export function orderCancelled(placed: PlacedOrder, reason: 'OUT_OF_STOCK' | 'PAYMENT_DECLINED' | 'CUSTOMER_REQUEST' = 'CUSTOMER_REQUEST') {
  const { orderId, customerId } = placed.data;
  return createEvent(
    'shoal.orders.OrderCancelled',
    { orderId, customerId, reason, detail: `cancelled in a test (${reason})`, cancelledAt: Date.now() },
    { source: '/shoal/orders', subject: orderId, causedBy: placed },
  );
}

export function paymentDeclined(placed: PlacedOrder) {
  const { orderId, customerId, total } = placed.data;
  return createEvent(
    'shoal.payments.PaymentDeclined',
    { paymentId: uuidv7(), orderId, customerId, amount: total, reason: 'declined in a test', declinedAt: Date.now() },
    { source: '/shoal/payments', subject: orderId, causedBy: placed },
  );
}
