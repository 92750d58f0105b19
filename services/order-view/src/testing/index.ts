/**
 * Test support for order-view's tests: `@shoal/service-order-view/testing`. Whole order flows as the six
 * services would emit them.
 */
export { shippedFlow, declinedFlow, customerCancelledFlow, confirmedFlow, topicOf, byTopics } from './order-flows.js';
export type { OrderFlow } from './order-flows.js';
