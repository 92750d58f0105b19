/**
 * Test support for inventory's tests: `@shoal/service-inventory/testing`. The events other services would
 * send it, built the way they build them.
 */
export { orderPlaced, orderCancelled, paymentDeclined } from './upstream-events.js';
export type { PlacedOrder } from './upstream-events.js';
