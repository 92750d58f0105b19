/**
 * Test support for code that consumes events: `@shoal/consumer/testing`. A broker, a registry and a service
 * database for the calling test, subscriptions stopped when it ends, events to publish and records that are
 * not events. Imports vitest: not for runtime code.
 */
export { consumerTestbed, consumerTestbedOn, openDatabase, orderSource, orderPlaced, orderShipped, stockReserved, poisonHeaders, readTopic } from './consumer-testbed.js';
export type { ConsumerTestbed } from './consumer-testbed.js';
export { parkingTraffic } from './parking-traffic.js';
export type { ParkingTraffic } from './parking-traffic.js';
