/**
 * The shipping service's composition: its database (shipments and the outbox), the reactions to the
 * order's life (group `shipping` on orders.order), the dispatch API, and the optional auto-dispatcher.
 *
 *   OrderConfirmed  -> a SCHEDULED shipment + ShipmentScheduled (one per order)
 *   OrderCancelled  -> SCHEDULED becomes CANCELLED + ShipmentCancelled; too late once DISPATCHED
 *   POST /shipments/:id/dispatch (or the auto-dispatcher) -> DISPATCHED + ShipmentDispatched
 *
 * `deps` replaces the clock, the ids and the tracking numbers in tests.
 */
import { v7 as uuidv7 } from 'uuid';
import type { ServiceHost } from '@shoal/service';
import type { configSpec } from './config.js';
import { AutoDispatcher } from './shipments/auto-dispatcher.js';
import { shipmentRoutes } from './shipments/routes.js';
import { newTrackingNumber } from './shipments/shipment.js';
import { migrateShipments } from './shipments/shipment-store.js';
import { Shipments } from './shipments/shipments.js';
import { sqliteOnly } from '@shoal/store-sqlite';

export type ShippingConfig = ReturnType<typeof configSpec.load>;

export interface ShippingDeps {
  now: () => number;
  newId: () => string;
  trackingNumber: () => string;
}

export async function buildShipping(host: ServiceHost<ShippingConfig>, deps: Partial<ShippingDeps> = {}): Promise<void> {
  const database = sqliteOnly(await host.openDatabase(), 'The shipping service');
  migrateShipments(database.db);
  const now = deps.now ?? Date.now;
  const shipments = new Shipments({
    database,
    source: host.source,
    logger: host.logger,
    now,
    newId: deps.newId ?? uuidv7,
    trackingNumber: deps.trackingNumber ?? (() => newTrackingNumber()),
  });
  host.subscribe({
    database,
    topics: ['orders.order'],
    handlers: {
      'shoal.orders.OrderConfirmed': (event, tx) => shipments.schedule(event, tx),
      'shoal.orders.OrderCancelled': (event, tx) => shipments.cancel(event, tx),
    },
  });
  host.routes(shipmentRoutes(shipments));
  if (host.config.autoDispatchMs > 0) {
    host.addComponent(new AutoDispatcher({ shipments, delayMs: host.config.autoDispatchMs, logger: host.logger, now }));
  }
}
