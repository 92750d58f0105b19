/**
 * Test support for any package that publishes or consumes Shoal events: `@shoal/contract/testing`. A real
 * broker and a real registry for the calling test, the repository's catalog registered and its topics
 * created. Not part of the runtime surface (it imports vitest through the broker's and registry's testing).
 */
export { startTestPlatform } from './platform.js';
export type { TestPlatform } from './platform.js';
export { refusal, orderPlacedData } from './event-data.js';
export { sampleEvent, eventTypes } from './sample-events.js';
export { registryWithCatalog, countingClient } from './registry.js';
export type { RegisteredRegistry, CountingClient } from './registry.js';
