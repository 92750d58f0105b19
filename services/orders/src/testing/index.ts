/**
 * Test support for the orders service's tests: `@shoal/service-orders/testing`. The service started for real
 * on a test platform, and the upstream events of the choreography.
 */
export { startOrders, orderRequest, placeOrder, getOrder, upstreamEvents, typesOf } from './orders.js';
