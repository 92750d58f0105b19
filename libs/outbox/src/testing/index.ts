/**
 * Test support for code that publishes through the outbox: `@shoal/outbox/testing`. What reached the
 * broker, decoded; catalogs with a change not registered yet; a logger that keeps what it is told. The relay
 * in a process of its own is relay-process.ts (run, not imported). Imports vitest: not for runtime code.
 */
export { catalogWithNewField, collectEvents, plainEvent, idsByAggregate } from './relay-checks.js';
export type { ReceivedEvent } from './relay-checks.js';
