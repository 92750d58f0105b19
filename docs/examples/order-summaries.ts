/**
 * A projection and the projector that keeps it: what docs/rebuilding-projections.md and
 * docs/reference/projections.md show. The doc-sample test builds it, reads it, rebuilds it and asks the
 * admin routes `shoal replay` uses.
 */
// #region projection
import { defineProjection } from '@shoal/projections';

interface Tables { // the model's tables, as Kysely sees them
  orders: { order_id: string; customer_id: string; total: number; status: string };
}

export const orderSummaries = defineProjection<Tables>({
  name: 'order-summaries', // lower-case letters, digits, - and _: it names files, schemas, groups and routes
  version: 1, // bump it when tables or handlers change: the model is rebuilt
  topics: ['orders.order'],
  async migrate({ db }) { // once, on a fresh model, in the transaction that creates Shoal's tables
    await db.schema
      .createTable('orders')
      .addColumn('order_id', 'text', (column) => column.primaryKey())
      .addColumn('customer_id', 'text', (column) => column.notNull())
      .addColumn('total', 'bigint', (column) => column.notNull())
      .addColumn('status', 'text', (column) => column.notNull())
      .execute();
  },
  handlers: { // typed per key: event.data is the generated OrderPlaced, OrderShipped...
    'shoal.orders.OrderPlaced': async (event, { db }) => {
      const { orderId, customerId, total } = event.data;
      await db
        .insertInto('orders')
        .values({ order_id: orderId, customer_id: customerId, total: total.amount, status: 'PLACED' })
        .onConflict((conflict) => conflict.column('order_id').doUpdateSet({ status: 'PLACED' }))
        .execute();
    },
    // `sql` runs a statement in the SQL both stores speak (synchronously on SQLite, a promise the projector
    // awaits on PostgreSQL): for a hot path.
    'shoal.orders.OrderShipped': (event, { sql }) => sql.run("UPDATE orders SET status = 'SHIPPED' WHERE order_id = ?", [event.data.orderId]),
  },
});
// #endregion projection

// #region projector
import type { Kafka } from 'kafkajs';
import type { EventCodec } from '@shoal/contract';
import { Projector } from '@shoal/projections';
import { createServiceApp, createServiceLogger, projectionAdminRoutes } from '@shoal/service';

export async function runOrderSummaries(kafka: Kafka, codec: EventCodec, dataDir: string) {
  const projector = new Projector({ projection: orderSummaries, dataDir, kafka, codec });
  await projector.start(); // resolves once it consumes
  // The service host does this for every projector it runs (host.projector(...)), on the service's own app.
  const admin = createServiceApp({ logger: createServiceLogger('order-summaries', 'warn') });
  await admin.register(projectionAdminRoutes, { projectors: [projector] });

  // A read runs in a transaction of its own on the live model (whichever instance answers, on PostgreSQL).
  const statusOf = (orderId: string) =>
    projector.read(async ({ db }) => (await db.selectFrom('orders').select('status').where('order_id', '=', orderId).executeTakeFirst())?.status);
  return { projector, admin, statusOf };
}
// #endregion projector
