/** `GET /payments/:orderId`: the payment of an order, whatever became of it. */
import type { FastifyPluginAsync } from 'fastify';
import { ShoalError } from '@shoal/core';
import { idParams, problemResponses } from '@shoal/service';
import type { ServiceDatabase } from '@shoal/store';
import { PaymentTable, type Payment } from './payment-table.js';

const paymentSchema = {
  type: 'object',
  required: ['paymentId', 'orderId', 'customerId', 'status', 'amount'],
  properties: {
    paymentId: { type: 'string' },
    orderId: { type: 'string' },
    customerId: { type: 'string' },
    status: { type: 'string', enum: ['AUTHORIZED', 'DECLINED', 'REFUNDED'] },
    amount: { type: 'object', required: ['amount', 'currency'], properties: { amount: { type: 'integer' }, currency: { type: 'string' } } },
    reason: { type: 'string' },
  },
} as const;

export function paymentRoutes(options: { database: ServiceDatabase }): FastifyPluginAsync {
  const payments = new PaymentTable(options.database.sql);
  return async (app) => {
    app.get<{ Params: { orderId: string } }>(
      '/payments/:orderId',
      {
        schema: {
          params: idParams('orderId'),
          response: { 200: paymentSchema, ...problemResponses(404) },
        },
      },
      async (request) => {
        const payment = await payments.get(request.params.orderId);
        if (payment === undefined) {
          throw new ShoalError('SHOAL_NOT_FOUND', `No payment for order ${request.params.orderId}`, { details: { orderId: request.params.orderId } });
        }
        return paymentBody(payment);
      },
    );
  };
}

function paymentBody(payment: Payment) {
  const { paymentId, orderId, customerId, status, amount, currency, reason } = payment;
  return { paymentId, orderId, customerId, status, amount: { amount, currency }, ...(reason === null ? {} : { reason }) };
}
