/**
 * The inventory service (docs/choreography.md): the stock levels per sku and a reservation per order. It reserves
 * every line of a placed order or none, and gives the units back when the payment is declined or the order
 * cancelled. State-based: its tables and the events it emits commit together through the outbox.
 *
 * `buildInventory` composes the service on a host (runService in main.ts, startTestService in tests); time
 * is injectable for tests.
 */
import type { ServiceHost } from '@shoal/service';
import type { configSpec } from './config.js';
import { reservationHandlers } from './reservations/reservation-handlers.js';
import { reservationRoutes } from './reservations/reservation-routes.js';
import { ReservationTable } from './reservations/reservation-table.js';
import { migrateInventory } from './schema.js';
import { stockRoutes } from './stock/stock-routes.js';
import { StockTable } from './stock/stock-table.js';
import { sqliteOnly } from '@shoal/store-sqlite';

export { configSpec } from './config.js';

export type InventoryConfig = ReturnType<typeof configSpec.load>;

export interface InventoryOptions {
  /** Clock of the tables' times and of the emitted events. Default Date.now. */
  now?: () => number;
}

export async function buildInventory(host: ServiceHost<InventoryConfig>, options: InventoryOptions = {}): Promise<void> {
  const now = options.now ?? Date.now;
  const database = sqliteOnly(await host.openDatabase(), 'The inventory service');
  migrateInventory(database.db);
  const stock = new StockTable(database.db);
  const reservations = new ReservationTable(database.db);

  host.subscribe({
    database,
    topics: ['orders.order', 'payments.payment'],
    handlers: reservationHandlers({ stock, reservations, source: host.source, now, logger: host.logger.child({ module: 'reservations' }) }),
  });
  host.routes(stockRoutes({ stock, now }));
  host.routes(reservationRoutes({ reservations }));
}
