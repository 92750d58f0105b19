/**
 * A state change and the event announcing it in one transaction of the service database: what
 * docs/reference/store-sqlite.md shows. The doc-sample test runs it and reads the outbox it filled. `tx.sql`
 * speaks the SQL both adapters do, so the same function runs on SQLite and PostgreSQL.
 */
import type { ShoalEvent } from '@shoal/contract';
import type { ServiceDatabase } from '@shoal/store';

export async function confirmOrder(db: ServiceDatabase, orderId: string, confirmed: ShoalEvent<'shoal.orders.OrderConfirmed'>): Promise<void> {
  await db.sql.run('CREATE TABLE IF NOT EXISTS orders (id TEXT PRIMARY KEY, status TEXT NOT NULL)');
  await db.sql.run("INSERT INTO orders (id, status) VALUES (?, 'PLACED') ON CONFLICT (id) DO NOTHING", [orderId]);
  // #region transact
  await db.transact(async (tx) => {
    await tx.sql.run('UPDATE orders SET status = ? WHERE id = ?', ['CONFIRMED', orderId]);
    tx.emit(confirmed); // checked against the catalog here; published by the relay once committed
  });
  // #endregion transact
}
