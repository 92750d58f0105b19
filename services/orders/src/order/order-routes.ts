/**
 * The orders API. Commands go through `handleCommand`, which reads the order's stream, decides and appends
 * (events in the outbox of the same transaction) and, when another request appended in between, does it all
 * again on the newer state: two retries of one placement racing each other end as one OrderPlaced and one
 * 200. Queries fold the stream; the stream's version is the order's ETag.
 *
 *   POST /orders                 201 + Location, or 200 when the client's orderId was placed with this body
 *   POST /orders/:id/cancel      200 with the order (also when it was cancelled already)
 *   GET  /orders/:id             200 with the order
 *
 * Refusals are the decider's ShoalErrors, answered by the host as problem+json (order-decider.ts).
 */
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { v7 as uuidv7 } from 'uuid';
import type { ShoalLogger } from '@shoal/core';
import { handleCommand, type EventStore } from '@shoal/eventstore';
import type { Address } from '@shoal/contract';
import { problemResponses } from '@shoal/service';
import { CUSTOMER_CANCEL_DETAIL, notFound, orderDecider, type Order, type OrderLineRequest, type OrderState } from './order-decider.js';
import { cancelOrderBody, orderParams, orderResponse, placedOrderResponse, placeOrderBody } from './order-http-schemas.js';

export interface OrderRoutesOptions {
  logger: ShoalLogger;
  /** Clock of the commands (placedAt, cancelledAt). Default: Date.now. */
  now?: () => number;
  /** Ids of orders whose client chose none. Default: UUIDv7. */
  newOrderId?: () => string;
}

interface PlaceOrderRequest {
  orderId?: string;
  customerId: string;
  currency: string;
  lines: OrderLineRequest[];
  shippingAddress?: Address;
}

/** The order as the API shows it. */
interface OrderRepresentation {
  orderId: string;
  status: Order['status'];
  customerId: string;
  currency: string;
  lines: OrderLineRequest[];
  total: Order['total'];
  shippingAddress?: Address;
  placedAt: string;
  paymentId?: string;
  shipmentId?: string;
  trackingNumber?: string;
  cancellation?: Order['cancellation'];
  version: number;
}

export function orderRoutes(store: EventStore, options: OrderRoutesOptions): FastifyPluginAsync {
  const now = options.now ?? Date.now;
  const newOrderId = options.newOrderId ?? uuidv7;
  const logger = options.logger;

  return async (app) => {
    app.post<{ Body: PlaceOrderRequest }>(
      '/orders',
      { schema: { body: placeOrderBody, response: { 200: orderResponse, 201: placedOrderResponse, ...problemResponses(409) } } },
      async (request, reply) => {
        const { body } = request;
        const orderId = body.orderId ?? newOrderId();
        const result = await handleCommand(store, orderDecider, orderId, {
          type: 'PlaceOrder',
          orderId,
          customerId: body.customerId,
          currency: body.currency,
          lines: body.lines.map((line) => ({ sku: line.sku, quantity: line.quantity, unitPrice: line.unitPrice })),
          shippingAddress: body.shippingAddress === undefined ? null : { ...body.shippingAddress, line2: body.shippingAddress.line2 ?? null },
          now: now(),
        });
        const order = placedOrder(result.newState, orderId);
        withVersion(reply, result.nextExpectedVersion);
        if (result.newEvents.length === 0) return reply.code(200).send(representation(order, result.nextExpectedVersion));
        logger.debug({ orderId, customerId: order.customerId, total: order.total }, 'order placed');
        return reply
          .code(201)
          .header('location', `/orders/${encodeURIComponent(orderId)}`)
          .send({ orderId, status: order.status, total: order.total });
      },
    );

    app.post<{ Params: { id: string }; Body: { reason?: string } | null | undefined }>(
      '/orders/:id/cancel',
      { schema: { params: orderParams, body: cancelOrderBody, response: { 200: orderResponse, ...problemResponses(404, 409) } } },
      async (request, reply) => {
        const orderId = request.params.id;
        const detail = request.body?.reason ?? CUSTOMER_CANCEL_DETAIL;
        const result = await handleCommand(store, orderDecider, orderId, { type: 'CancelOrder', orderId, detail, now: now() });
        if (result.newEvents.length > 0) logger.debug({ orderId, detail }, 'order cancelled by the customer');
        withVersion(reply, result.nextExpectedVersion);
        return representation(placedOrder(result.newState, orderId), result.nextExpectedVersion);
      },
    );

    app.get<{ Params: { id: string } }>(
      '/orders/:id',
      { schema: { params: orderParams, response: { 200: orderResponse, ...problemResponses(404) } } },
      async (request, reply) => {
        const orderId = request.params.id;
        const { state, version } = await store.aggregateStream(orderId, orderDecider);
        withVersion(reply, version);
        return representation(placedOrder(state, orderId), version);
      },
    );
  };
}

function placedOrder(state: OrderState, orderId: string): Order {
  if (state.status === 'NONE') throw notFound(orderId);
  return state;
}

/** The stream's version is the order's version: every change to an order is one more event. */
function withVersion(reply: FastifyReply, version: number): void {
  void reply.header('etag', `"${version}"`);
}

function representation(order: Order, version: number): OrderRepresentation {
  return {
    orderId: order.orderId,
    status: order.status,
    customerId: order.customerId,
    currency: order.total.currency,
    lines: order.lines.map((line) => ({ sku: line.sku, quantity: line.quantity, unitPrice: line.unitPrice.amount })),
    total: order.total,
    ...(order.shippingAddress === null ? {} : { shippingAddress: order.shippingAddress }),
    placedAt: new Date(order.placedAt).toISOString(),
    ...(order.paymentId === undefined ? {} : { paymentId: order.paymentId }),
    ...(order.shipmentId === undefined ? {} : { shipmentId: order.shipmentId }),
    ...(order.trackingNumber === undefined ? {} : { trackingNumber: order.trackingNumber }),
    ...(order.cancellation === undefined ? {} : { cancellation: order.cancellation }),
    version,
  };
}
