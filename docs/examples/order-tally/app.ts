/**
 * A small service on the service host: it counts each customer's orders as they are placed and answers
 * the count over HTTP. docs/writing-a-service.md walks through it; order-tally.test.ts runs it.
 */
// #region app
import type { FastifyPluginAsync } from 'fastify';
import { ShoalError } from '@shoal/core';
import { problemResponses, type ServiceHost } from '@shoal/service';
import { sqliteOnly, type SqliteDatabase } from '@shoal/store-sqlite';
import type { configSpec } from './config.js';

export type OrderTallyConfig = ReturnType<typeof configSpec.load>;

export async function buildOrderTally(host: ServiceHost<OrderTallyConfig>): Promise<void> {
  // <SHOAL_DATA_DIR>/order-tally/order-tally.db with its outbox relay (this example speaks SQLite: no DATABASE_URL)
  const database = sqliteOnly(await host.openDatabase(), 'The order-tally service');
  database.db.exec(`CREATE TABLE IF NOT EXISTS tally (
    customer_id TEXT PRIMARY KEY, orders INTEGER NOT NULL, large_orders INTEGER NOT NULL)`);

  host.subscribe({
    database,
    topics: ['orders.order'],
    handlers: {
      // Synchronous, in one transaction with the event's inbox row: a redelivery counts nothing twice.
      'shoal.orders.OrderPlaced': (event, tx) => {
        const large = event.data.total.amount >= host.config.largeOrderAmount ? 1 : 0;
        tx.db
          .prepare(`INSERT INTO tally (customer_id, orders, large_orders) VALUES (?, 1, ?)
            ON CONFLICT (customer_id) DO UPDATE SET orders = orders + 1, large_orders = large_orders + excluded.large_orders`)
          .run(event.data.customerId, large);
      },
    },
  });
  host.routes(tallyRoutes(database.db));
}

function tallyRoutes(db: SqliteDatabase): FastifyPluginAsync {
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
        const row = db.prepare('SELECT orders, large_orders AS largeOrders FROM tally WHERE customer_id = ?').get(customerId) as
          | { orders: number; largeOrders: number }
          | undefined;
        // Domain code names a code, never a status: the host answers 404 problem+json for it.
        if (!row) throw new ShoalError('SHOAL_NOT_FOUND', `No order placed by customer ${customerId}`, { details: { customerId } });
        return { customerId, ...row };
      },
    );
  };
}
// #endregion app
