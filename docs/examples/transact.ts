/**
 * A state change and the event announcing it in one transaction of the service database: what
 * docs/reference/store-sqlite.md shows. The doc-sample test runs it and reads the outbox it filled.
 */
import type { ShoalEvent } from '@shoal/contract';
import type { SqliteServiceDatabase } from '@shoal/store-sqlite';

export async function confirmOrder(db: SqliteServiceDatabase, orderId: string, confirmed: ShoalEvent<'shoal.orders.OrderConfirmed'>): Promise<void> {
  db.db.exec('CREATE TABLE IF NOT EXISTS orders (id TEXT PRIMARY KEY, status TEXT NOT NULL)');
  db.db.prepare("INSERT OR IGNORE INTO orders (id, status) VALUES (?, 'PLACED')").run(orderId);
  // #region transact
  await db.transact((tx) => {
    tx.db.prepare('UPDATE orders SET status = ? WHERE id = ?').run('CONFIRMED', orderId);
    tx.emit(confirmed); // checked against the catalog here; published by the relay once committed
  });
  // #endregion transact
}
