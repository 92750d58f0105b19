/** `GET /reservations/:orderId`: what inventory decided for an order, and whether it still holds the units. */
import type { FastifyPluginAsync } from 'fastify';
import { ShoalError } from '@shoal/core';
import { idParams, problemResponses } from '@shoal/service';
import type { ServiceDatabase } from '@shoal/store';
import { ReservationTable, type Reservation } from './reservation-table.js';

const reservationSchema = {
  type: 'object',
  required: ['orderId', 'customerId', 'status', 'lines', 'createdAt'],
  properties: {
    orderId: { type: 'string' },
    customerId: { type: 'string' },
    status: { type: 'string', enum: ['RESERVED', 'RELEASED', 'FAILED'] },
    lines: {
      type: 'array',
      items: { type: 'object', required: ['sku', 'quantity'], properties: { sku: { type: 'string' }, quantity: { type: 'integer' } } },
    },
    reason: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
    releasedAt: { type: 'string', format: 'date-time' },
  },
} as const;

export function reservationRoutes(options: { database: ServiceDatabase }): FastifyPluginAsync {
  const reservations = new ReservationTable(options.database.sql);
  return async (app) => {
    app.get<{ Params: { orderId: string } }>(
      '/reservations/:orderId',
      {
        schema: {
          params: idParams('orderId'),
          response: { 200: reservationSchema, ...problemResponses(404) },
        },
      },
      async (request) => {
        const reservation = await reservations.get(request.params.orderId);
        if (reservation === undefined) {
          throw new ShoalError('SHOAL_NOT_FOUND', `No reservation for order ${request.params.orderId}`, { details: { orderId: request.params.orderId } });
        }
        return reservationBody(reservation);
      },
    );
  };
}

function reservationBody(reservation: Reservation) {
  const { orderId, customerId, status, lines, reason, createdAt, releasedAt } = reservation;
  return {
    orderId,
    customerId,
    status,
    lines,
    ...(reason === null ? {} : { reason }),
    createdAt: new Date(createdAt).toISOString(),
    ...(releasedAt === null ? {} : { releasedAt: new Date(releasedAt).toISOString() }),
  };
}
