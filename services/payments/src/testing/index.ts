/**
 * Test support for payments' tests: `@shoal/service-payments/testing`. The events inventory and orders
 * would send it, built the way they build them.
 */
export { stockReserved, orderCancelled } from './upstream-events.js';
export type { ReservedStock } from './upstream-events.js';
