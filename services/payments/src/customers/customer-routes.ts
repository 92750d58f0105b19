/**
 * The credit-limit API. Setting a limit emits no event (the catalog has none for it); the read, the rule
 * and the write run in one transaction so that no authorization can slip between them.
 */
import type { FastifyPluginAsync } from 'fastify';
import { ShoalError } from '@shoal/core';
import type { ServiceDatabase } from '@shoal/store';
import { currencySchema, idParams, problemResponses } from '@shoal/service';
import { availableCredit, decideLimit, type CreditLine } from './credit-line.js';
import { CustomerTable } from './customer-table.js';

const creditSchema = {
  type: 'object',
  required: ['customerId', 'limit', 'currency', 'used', 'available'],
  properties: {
    customerId: { type: 'string' },
    limit: { type: 'integer' },
    currency: { type: 'string' },
    used: { type: 'integer' },
    available: { type: 'integer' },
  },
} as const;

export function customerRoutes(options: { database: ServiceDatabase; now: () => number }): FastifyPluginAsync {
  const { database, now } = options;
  const customers = new CustomerTable(database.sql);
  return async (app) => {
    app.put<{ Params: { id: string }; Body: { limit: number; currency: string } }>(
      '/customers/:id/limit',
      {
        schema: {
          params: idParams('id'),
          body: {
            type: 'object',
            required: ['limit', 'currency'],
            additionalProperties: false,
            properties: { limit: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER }, currency: currencySchema },
          },
          response: { 200: creditSchema, ...problemResponses(409) },
        },
      },
      async (request) => {
        const { id } = request.params;
        const credit = await database.transact(async (tx) => {
          const inTransaction = new CustomerTable(tx.sql);
          const next = decideLimit(await inTransaction.get(id), id, request.body.limit, request.body.currency);
          await inTransaction.setLimit(next, now());
          return next;
        });
        return creditBody(credit);
      },
    );

    app.get<{ Params: { id: string } }>(
      '/customers/:id',
      { schema: { params: idParams('id'), response: { 200: creditSchema, ...problemResponses(404) } } },
      async (request) => {
        const credit = await customers.get(request.params.id);
        if (credit === undefined) {
          throw new ShoalError('SHOAL_NOT_FOUND', `No credit limit set for customer ${request.params.id}`, { details: { customerId: request.params.id } });
        }
        return creditBody(credit);
      },
    );
  };
}

function creditBody(credit: CreditLine) {
  return { ...credit, available: availableCredit(credit) };
}
