/**
 * A projection and the projector that keeps it: what docs/rebuilding-projections.md and
 * docs/reference/projections.md show. The doc-sample test builds it, reads it, rebuilds it and asks the
 * admin routes `shoal replay` uses.
 */
// #region projection
import { defineProjection, prepared } from '@shoal/projections';

const upsertOrder = prepared<[string, string, number, string]>(
  `INSERT INTO orders (order_id, customer_id, total, status) VALUES (?, ?, ?, ?)
   ON CONFLICT (order_id) DO UPDATE SET status = excluded.status`,
);
const setStatus = prepared<[string, string]>('UPDATE orders SET status = ? WHERE order_id = ?');

export const orderSummaries = defineProjection({
  name: 'order-summaries', // lower-case letters, digits, - and _: it names files, groups and routes
  version: 1, // bump it when tables or handlers change: the model is rebuilt
  topics: ['orders.order'],
  migrate(db) { // once, on a fresh file, in the transaction that creates Shoal's tables
    db.exec('CREATE TABLE orders (order_id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, total INTEGER NOT NULL, status TEXT NOT NULL)');
  },
  handlers: { // typed per key: event.data is the generated OrderPlaced, OrderShipped...
    'shoal.orders.OrderPlaced': (event, db) => void upsertOrder(db).run(event.data.orderId, event.data.customerId, event.data.total.amount, 'PLACED'),
    'shoal.orders.OrderShipped': (event, db) => void setStatus(db).run('SHIPPED', event.data.orderId),
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

  const statusOf = (orderId: string) =>
    projector.read((db) => db.prepare('SELECT status FROM orders WHERE order_id = ?').pluck().get(orderId)) as string | undefined;
  return { projector, admin, statusOf };
}
// #endregion projector
