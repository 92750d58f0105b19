/**
 * Test support for inventory's tests (not exported): the events other services would send it, built the
 * way they build them, a connected publisher to send them with, and HTTP calls to the service.
 */
import { v7 as uuidv7 } from 'uuid';
import { connected } from '@shoal/broker/testing';
import { createEvent, Publisher, type ShoalEvent } from '@shoal/events';
import type { TestPlatform } from '@shoal/events/testing';
import type { ServiceConfig, ServiceHost } from '@shoal/service';

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

/** A connected publisher on `platform`, disconnected when the test ends. */
export function publisherFor(platform: TestPlatform): Promise<Publisher> {
  return connected(new Publisher({ kafka: platform.kafka(), codec: platform.codec }));
}

/** Sends `body` to the service and returns the status and parsed body. */
export async function call<C extends ServiceConfig>(host: ServiceHost<C>, method: 'GET' | 'PUT', url: string, body?: unknown) {
  const response = await host.app.inject({ method, url, ...(body === undefined ? {} : { payload: body as object }) });
  return { status: response.statusCode, contentType: String(response.headers['content-type']), body: response.json() as Record<string, unknown> };
}
