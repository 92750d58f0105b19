/**
 * Shipping's HTTP API. Shipments are created by OrderConfirmed, never over HTTP; the only command is the
 * dispatch (the warehouse saying the parcel left). Refusals are ShoalErrors thrown by the desk, which the
 * service host answers as problem+json.
 *
 *   POST /shipments/:id/dispatch          200 the shipment (also when it was already dispatched)
 *                                         404 SHOAL_NOT_FOUND, 409 SHOAL_COMMAND_REJECTED (cancelled)
 *   GET  /shipments/:id                   200 the shipment, 404
 *   GET  /shipments?orderId=&status=&limit=   200 {"items": [...]} by scheduling time
 */
import type { FastifyPluginAsync } from 'fastify';
import { idParams, idSchema, listLimitSchema, problemResponses } from '@shoal/service';
import { SHIPMENT_STATUSES, type Shipment, type ShipmentStatus } from './shipment.js';
import type { Shipments } from './shipments.js';

const shipmentSchema = {
  type: 'object',
  required: ['shipmentId', 'orderId', 'customerId', 'status', 'scheduledAt'],
  properties: {
    shipmentId: { type: 'string' },
    orderId: { type: 'string' },
    customerId: { type: 'string' },
    status: { type: 'string', enum: SHIPMENT_STATUSES },
    trackingNumber: { type: 'string' },
    scheduledAt: { type: 'string', format: 'date-time' },
    dispatchedAt: { type: 'string', format: 'date-time' },
    cancelledAt: { type: 'string', format: 'date-time' },
  },
} as const;


/** The shipment as the API shows it: RFC 3339 times, absent members rather than nulls. */
function shipmentView(shipment: Shipment) {
  return {
    shipmentId: shipment.shipmentId,
    orderId: shipment.orderId,
    customerId: shipment.customerId,
    status: shipment.status,
    ...(shipment.trackingNumber === null ? {} : { trackingNumber: shipment.trackingNumber }),
    scheduledAt: new Date(shipment.scheduledAt).toISOString(),
    ...(shipment.dispatchedAt === null ? {} : { dispatchedAt: new Date(shipment.dispatchedAt).toISOString() }),
    ...(shipment.cancelledAt === null ? {} : { cancelledAt: new Date(shipment.cancelledAt).toISOString() }),
  };
}

export function shipmentRoutes(shipments: Shipments): FastifyPluginAsync {
  return async (app) => {
    app.post<{ Params: { id: string } }>(
      '/shipments/:id/dispatch',
      { schema: { params: idParams('id'), response: { 200: shipmentSchema, ...problemResponses(404, 409) } } },
      async (request) => shipmentView(await shipments.dispatch(request.params.id)),
    );

    app.get<{ Params: { id: string } }>(
      '/shipments/:id',
      { schema: { params: idParams('id'), response: { 200: shipmentSchema, ...problemResponses(404) } } },
      async (request) => shipmentView(await shipments.get(request.params.id)),
    );

    app.get<{ Querystring: { orderId?: string; status?: ShipmentStatus; limit: number } }>(
      '/shipments',
      {
        schema: {
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              orderId: idSchema,
              status: { type: 'string', enum: SHIPMENT_STATUSES },
              limit: listLimitSchema,
            },
          },
          response: { 200: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: shipmentSchema } } }, ...problemResponses() },
        },
      },
      async (request) => {
        const { orderId, status, limit } = request.query;
        return { items: (await shipments.list({ ...(orderId === undefined ? {} : { orderId }), ...(status === undefined ? {} : { status }), limit })).map(shipmentView) };
      },
    );
  };
}
