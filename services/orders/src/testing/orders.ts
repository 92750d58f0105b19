/**
 * Test support for the orders service's integration tests (not part of the service): the service started
 * for real on a test platform, and the upstream events of the choreography as the other services publish
 * them. What the service publishes is read back with `watchTopics` of @shoal/service/testing.
 */
import { expect } from 'vitest';
import { createEvent, type CloudEvent, type ShoalEvent, type ShoalEventDataMap, type ShoalEventType } from '@shoal/contract';
import type { TestPlatform } from '@shoal/contract/testing';
import type { ServiceHost } from '@shoal/service';
import { startTestService, type TopicWatch } from '@shoal/service/testing';
import { buildOrders } from '../app.js';
import { configSpec } from '../config.js';

export function startOrders(options: { platform?: TestPlatform; dataDir?: string; env?: Record<string, string> } = {}) {
  return startTestService(configSpec, buildOrders, options);
}

/** A `POST /orders` body; `overrides` replace members. */
export function orderRequest(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    customerId: 'c1',
    currency: 'EUR',
    lines: [
      { sku: 'SKU-1', quantity: 2, unitPrice: 1500 },
      { sku: 'SKU-2', quantity: 1, unitPrice: 990 },
    ],
    ...overrides,
  };
}

/** Places an order over HTTP and returns its id. */
export async function placeOrder(host: ServiceHost, overrides: Record<string, unknown> = {}): Promise<string> {
  const response = await host.app.inject({ method: 'POST', url: '/orders', payload: orderRequest(overrides) });
  expect(response.statusCode, response.body).toBe(201);
  return response.json().orderId as string;
}

export async function getOrder(host: ServiceHost, orderId: string): Promise<{ statusCode: number; body: Record<string, unknown>; etag: unknown }> {
  const response = await host.app.inject({ method: 'GET', url: `/orders/${encodeURIComponent(orderId)}` });
  return { statusCode: response.statusCode, body: response.json(), etag: response.headers.etag };
}

const sources = { inventory: '/shoal/inventory', payments: '/shoal/payments', shipping: '/shoal/shipping' } as const;

function upstream<T extends ShoalEventType>(type: T, data: ShoalEventDataMap[T], source: string, causedBy?: CloudEvent<unknown>): ShoalEvent<T> {
  return createEvent(type, data, { source, subject: (data as { orderId: string }).orderId, ...(causedBy === undefined ? {} : { causedBy }) });
}

const eur = (amount: number) => ({ amount, currency: 'EUR' });

export const upstreamEvents = {
  paymentAuthorized: (orderId: string, causedBy?: CloudEvent<unknown>) =>
    upstream('shoal.payments.PaymentAuthorized', { paymentId: `pay-${orderId}`, orderId, customerId: 'c1', amount: eur(3990), authorizedAt: Date.now() }, sources.payments, causedBy),
  paymentDeclined: (orderId: string, reason = 'credit limit exceeded') =>
    upstream('shoal.payments.PaymentDeclined', { paymentId: `pay-${orderId}`, orderId, customerId: 'c1', amount: eur(3990), reason, declinedAt: Date.now() }, sources.payments),
  stockReservationFailed: (orderId: string) =>
    upstream(
      'shoal.inventory.StockReservationFailed',
      { orderId, customerId: 'c1', unavailable: [{ sku: 'SKU-1', requested: 2, available: 1 }], failedAt: Date.now() },
      sources.inventory,
    ),
  stockReserved: (orderId: string) =>
    upstream('shoal.inventory.StockReserved', { orderId, customerId: 'c1', lines: [], total: eur(3990), reservedAt: Date.now() }, sources.inventory),
  shipmentDispatched: (orderId: string, dispatchedAt = Date.now()) =>
    upstream('shoal.shipping.ShipmentDispatched', { shipmentId: `shp-${orderId}`, orderId, customerId: 'c1', trackingNumber: `TRK-${orderId}`, dispatchedAt }, sources.shipping),
};

/** The types of the events of one order among those a watch has read, in the order they arrived. */
export function typesOf(published: TopicWatch, orderId: string): string[] {
  return published
    .all()
    .filter((event) => event.subject === orderId)
    .map((event) => event.type);
}
