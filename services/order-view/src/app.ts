/**
 * order-view's composition: the query side of the choreography. No database of its own and no outbox (it
 * emits nothing): one projection, `orders`, kept by the host's projector in `<dataDir>/projections` from
 * every topic of the flow, the read API over it, and the admin routes the host mounts for projectors
 * (`shoal replay order-view orders` rebuilds it without read downtime).
 */
import type { ServiceHost } from '@shoal/service';
import type { configSpec } from './config.js';
import { ordersProjection } from './orders/orders-projection.js';
import { orderViewRoutes } from './orders/routes.js';

export type OrderViewConfig = ReturnType<typeof configSpec.load>;

export function buildOrderView(host: ServiceHost<OrderViewConfig>): void {
  const projector = host.projector(ordersProjection);
  host.routes(orderViewRoutes(projector));
}
