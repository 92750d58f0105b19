/**
 * The stock API: set and read the level of an sku. Setting the level is the only way units enter or leave
 * inventory; it sets what can be reserved and leaves what reservations hold as it is. It emits no event (the
 * catalog has none for it), so an upsert is the whole transaction. Reads take the database's own executor.
 */
import type { FastifyPluginAsync } from 'fastify';
import { ShoalError } from '@shoal/core';
import { problemResponses } from '@shoal/service';
import { MAX_EVENT_QUANTITY } from '../reservations/reservation-decision.js';
import type { ServiceDatabase } from '@shoal/store';
import { StockTable } from './stock-table.js';

export const skuParamsSchema = {
  type: 'object',
  required: ['sku'],
  properties: { sku: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;

const stockLevelSchema = {
  type: 'object',
  required: ['sku', 'available', 'reserved'],
  properties: { sku: { type: 'string' }, available: { type: 'integer' }, reserved: { type: 'integer' } },
} as const;

export function stockRoutes(options: { database: ServiceDatabase; now: () => number }): FastifyPluginAsync {
  const { database, now } = options;
  const stock = new StockTable(database.sql);
  return async (app) => {
    app.put<{ Params: { sku: string }; Body: { available: number } }>(
      '/stock/:sku',
      {
        schema: {
          params: skuParamsSchema,
          body: {
            type: 'object',
            required: ['available'],
            additionalProperties: false,
            // Bounded so that every quantity inventory puts in an event fits Avro's int.
            properties: { available: { type: 'integer', minimum: 0, maximum: MAX_EVENT_QUANTITY } },
          },
          response: { 200: stockLevelSchema, ...problemResponses() },
        },
      },
      async (request) => database.transact((tx) => new StockTable(tx.sql).setAvailable(request.params.sku, request.body.available, now())),
    );

    app.get<{ Params: { sku: string } }>(
      '/stock/:sku',
      { schema: { params: skuParamsSchema, response: { 200: stockLevelSchema, ...problemResponses(404) } } },
      async (request) => {
        const level = await stock.get(request.params.sku);
        if (level === undefined) throw new ShoalError('SHOAL_NOT_FOUND', `No stock level for sku ${request.params.sku}`, { details: { sku: request.params.sku } });
        return level;
      },
    );

    app.get(
      '/stock',
      { schema: { response: { 200: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: stockLevelSchema } } }, ...problemResponses() } } },
      async () => ({ items: await stock.list() }),
    );
  };
}
