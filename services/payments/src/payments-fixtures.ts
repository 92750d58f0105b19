/**
 * Test support for payments' tests (not exported): the events inventory and orders would send it, built
 * the way they build them, a connected publisher, and HTTP calls to the service.
 */
import { v7 as uuidv7 } from 'uuid';
import { connected } from '@shoal/broker/testing';
import { createEvent, Publisher, type ShoalEvent } from '@shoal/events';
import type { TestPlatform } from '@shoal/events/testing';
import type { ServiceConfig, ServiceHost } from '@shoal/service';

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

/** A connected publisher on `platform`, disconnected when the test ends. */
export function publisherFor(platform: TestPlatform): Promise<Publisher> {
  return connected(new Publisher({ kafka: platform.kafka(), codec: platform.codec }));
}

/** Sends `body` to the service and returns the status and parsed body. */
export async function call<C extends ServiceConfig>(host: ServiceHost<C>, method: 'GET' | 'PUT', url: string, body?: unknown) {
  const response = await host.app.inject({ method, url, ...(body === undefined ? {} : { payload: body as object }) });
  return { status: response.statusCode, contentType: String(response.headers['content-type']), body: response.json() as Record<string, unknown> };
}
