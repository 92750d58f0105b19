/**
 * The orders service, composed: an event-sourced Order aggregate in the service's own database (SQLite,
 * `<dataDir>/orders.db`, or PostgreSQL), whose streams are the only state. The event store creates its tables (streams,
 * events, snapshots) and the consumer runtime its inbox, so the service has no migrations of its own; a
 * query folds the order's stream (at most four events), which is why there is no read table either.
 *
 * Every order event leaves through the outbox written in the append's transaction, keyed by the order id on
 * `orders.order`. The customer's commands come over HTTP (order-routes.ts); the rest of the choreography's
 * outcomes come through one subscription in group `orders` (order-reactions.ts).
 */
import { EventStore } from '@shoal/eventstore';
import type { ServiceHost } from '@shoal/service';
import { orderReactions, REACTION_TOPICS } from './order/order-reactions.js';
import { orderRoutes } from './order/order-routes.js';

export async function buildOrders(host: ServiceHost): Promise<void> {
  const database = await host.openDatabase();
  const store = await EventStore.open(database, { source: host.source, logger: host.logger });
  host.subscribe({
    database,
    topics: REACTION_TOPICS,
    handlers: orderReactions(store, { logger: host.logger.child({ module: 'order-reactions' }) }),
  });
  host.routes(orderRoutes(store, { logger: host.logger.child({ module: 'order-routes' }) }));
}
