/**
 * Test support for services: `@shoal/service/testing`. `startTestService(spec, build)` runs a service's real
 * composition (the same `build` its main.ts hands to runService) in the test's process against the calling
 * test's broker and registry, on a free port, with its files in a temp dir; tests drive it over HTTP
 * (`host.app.inject()`, `call`, or `host.url`), play the services upstream with `publisherFor`, and watch
 * what it publishes on the real topics.
 */
export { startTestService, consumedEvents, publisherFor, call } from './service.js';
export type { TestServiceOptions, TestService, ServiceRoute, ConsumedOutcome, CallResult } from './service.js';
export { watchTopics } from './topic-watch.js';
export type { TopicWatch, EventFilter } from './topic-watch.js';
export { parkingServiceSpec, buildParkingService, parkingServiceProcess } from './parking-service.js';
export type { ParkingServiceConfig, ParkingServiceProcess, HandledRow } from './parking-service.js';
export { serviceStores } from './service-stores.js';
export type { ServiceStore } from './service-stores.js';
