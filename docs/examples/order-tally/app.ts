/**
 * A small service on the service host: it counts each customer's orders as they are placed and answers
 * the count over HTTP. docs/writing-a-service.md walks through it; order-tally.test.ts runs it.
 */
// #region app
import type { FastifyPluginAsync } from 'fastify';
import { ShoalError } from '@shoal/core';
import { problemResponses, type ServiceHost } from '@shoal/service';
import { compiledQuery, createTables, type Kysely, type Params, type ServiceDatabase } from '@shoal/store';
import type { configSpec } from './config.js';

export type OrderTallyConfig = ReturnType<typeof configSpec.load>;

// #region sql
interface Tables {
  tally: { customer_id: string; orders: number; large_orders: number };
}

// Written once with the query builder (Kysely), compiled once for the database's dialect: SQLite or PostgreSQL.
const countOrder = compiledQuery((db: Kysely<Tables>, p: Params<{ customerId: string; large: number }>) =>
  db
    .insertInto('tally')
    .values({ customer_id: p.customerId, orders: 1, large_orders: p.large })
    .onConflict((conflict) =>
      conflict.column('customer_id').doUpdateSet((row) => ({
        orders: row('tally.orders', '+', 1),
        large_orders: row('tally.large_orders', '+', row.ref('excluded.large_orders')),
      })),
    ),
);

const tallyOf = compiledQuery((db: Kysely<Tables>, p: Params<{ customerId: string }>) =>
  db.selectFrom('tally').select(['orders', 'large_orders as largeOrders']).where('customer_id', '=', p.customerId),
);
// #endregion sql

export async function buildOrderTally(host: ServiceHost<OrderTallyConfig>): Promise<void> {
  // <SHOAL_DATA_DIR>/order-tally/order-tally.db, or the PostgreSQL database DATABASE_URL names, with its outbox relay
  const database = await host.openDatabase();
  const table = 'CREATE TABLE IF NOT EXISTS tally (customer_id TEXT PRIMARY KEY, orders INTEGER NOT NULL, large_orders INTEGER NOT NULL)';
  await createTables(database, { sqlite: [table], postgres: [table] });

  host.subscribe({
    database,
    topics: ['orders.order'],
    handlers: {
      // In one transaction with the event's inbox row (tx.sql runs in it): a redelivery counts nothing twice.
      'shoal.orders.OrderPlaced': async (event, tx) => {
        const large = event.data.total.amount >= host.config.largeOrderAmount ? 1 : 0;
        await countOrder.run(tx.sql, { customerId: event.data.customerId, large });
      },
    },
  });
  host.routes(tallyRoutes(database));
}

function tallyRoutes(database: ServiceDatabase): FastifyPluginAsync {
  return async (app) => {
    app.get<{ Params: { customerId: string } }>(
      '/customers/:customerId/tally',
      {
        schema: {
          params: { type: 'object', required: ['customerId'], properties: { customerId: { type: 'string', minLength: 1, maxLength: 100 } } },
          response: { 200: { type: 'object', properties: { customerId: { type: 'string' }, orders: { type: 'integer' }, largeOrders: { type: 'integer' } } }, ...problemResponses(404) },
        },
      },
      async (request) => {
        const { customerId } = request.params;
        const row = await tallyOf.get(database.sql, { customerId });
        // Domain code names a code, never a status: the host answers 404 problem+json for it.
        if (!row) throw new ShoalError('SHOAL_NOT_FOUND', `No order placed by customer ${customerId}`, { details: { customerId } });
        return { customerId, ...row };
      },
    );
  };
}
// #endregion app
