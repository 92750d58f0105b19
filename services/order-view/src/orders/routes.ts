/**
 * order-view's HTTP API, the query side of the choreography. Every read goes through `projector.read`, so
 * it sees the live model whole (never half a batch) and moves to a rebuilt model at the swap (on
 * PostgreSQL, whichever instance answers: reads go through the pointer every instance shares).
 *
 *   GET /orders/:id                                   200 the order with its timeline, 404
 *   GET /orders?status=&customerId=&limit=&after=     200 {"items": [...], "next"?} by order id
 *   GET /stats                                        200 counts, confirmed revenue per currency, events
 */
import type { FastifyPluginAsync } from 'fastify';
import { ShoalError } from '@shoal/core';
import type { Projector } from '@shoal/projections';
import { idParams, idSchema, listLimitSchema, problemResponses } from '@shoal/service';
import { findOrder, listOrders, orderStats } from './order-queries.js';
import { ORDER_STATUSES, type OrderStatus, type OrderViewTables } from './orders-projection.js';


const money = { type: 'object', required: ['amount', 'currency'], properties: { amount: { type: 'integer' }, currency: { type: 'string' } } } as const;

const orderProperties = {
  orderId: { type: 'string' },
  status: { type: 'string', enum: ORDER_STATUSES },
  customerId: { type: 'string' },
  total: money,
  placedAt: { type: 'string', format: 'date-time' },
  updatedAt: { type: 'string', format: 'date-time' },
  correlationId: { type: 'string' },
  cancellation: { type: 'object', required: ['reason', 'detail'], properties: { reason: { type: 'string' }, detail: { type: 'string' } } },
  paymentId: { type: 'string' },
  shipmentId: { type: 'string' },
  trackingNumber: { type: 'string' },
} as const;
const orderRequired = ['orderId', 'status', 'customerId', 'total', 'placedAt', 'updatedAt', 'correlationId'] as const;

const orderSummarySchema = { type: 'object', required: orderRequired, properties: orderProperties } as const;

const orderDetailSchema = {
  type: 'object',
  required: [...orderRequired, 'timeline'],
  properties: {
    ...orderProperties,
    timeline: {
      type: 'array',
      items: {
        type: 'object',
        required: ['type', 'source', 'time', 'id'],
        properties: { type: { type: 'string' }, source: { type: 'string' }, time: { type: 'string', format: 'date-time' }, id: { type: 'string' } },
      },
    },
  },
} as const;

const statusCounts = Object.fromEntries(ORDER_STATUSES.map((status) => [status, { type: 'integer' }]));

const statsSchema = {
  type: 'object',
  required: ['orders', 'byStatus', 'revenue', 'events'],
  properties: {
    orders: { type: 'integer' },
    byStatus: { type: 'object', required: ORDER_STATUSES, properties: statusCounts },
    revenue: {
      type: 'array',
      items: { type: 'object', required: ['currency', 'confirmedAmount'], properties: { currency: { type: 'string' }, confirmedAmount: { type: 'integer' } } },
    },
    events: { type: 'integer' },
  },
} as const;

export function orderViewRoutes(projector: Projector<OrderViewTables>): FastifyPluginAsync {
  return async (app) => {
    app.get<{ Params: { id: string } }>(
      '/orders/:id',
      {
        schema: {
          params: idParams('id'),
          response: { 200: orderDetailSchema, ...problemResponses(404) },
        },
      },
      async (request) => {
        const order = await projector.read((model) => findOrder(model, request.params.id));
        if (order === undefined) throw new ShoalError('SHOAL_NOT_FOUND', `No order ${request.params.id}`, { details: { orderId: request.params.id } });
        return order;
      },
    );

    app.get<{ Querystring: { status?: OrderStatus; customerId?: string; limit: number; after?: string } }>(
      '/orders',
      {
        schema: {
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              status: { type: 'string', enum: ORDER_STATUSES },
              customerId: idSchema,
              limit: listLimitSchema,
              after: idSchema,
            },
          },
          response: {
            200: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: orderSummarySchema }, next: { type: 'string' } } },
            ...problemResponses(),
          },
        },
      },
      async (request) => {
        const { status, customerId, limit, after } = request.query;
        return projector.read((model) =>
          listOrders(model, { limit, ...(status === undefined ? {} : { status }), ...(customerId === undefined ? {} : { customerId }), ...(after === undefined ? {} : { after }) }),
        );
      },
    );

    app.get('/stats', { schema: { response: { 200: statsSchema, ...problemResponses() } } }, async () => projector.read(orderStats));
  };
}
