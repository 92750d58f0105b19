/**
 * @shoal/eventstore: event sourcing on a service's SQLite database (docs/reference/eventstore.md). Streams per aggregate with
 * optimistic concurrency and a global position; appends write the outbox in the same transaction, so
 * event-sourced services publish through the outbox relay. Aggregates are deciders (`Decider` from
 * @shoal/core) run by `handleCommand`, with optional snapshots. Specifications: `@shoal/eventstore/testing`.
 */
export { EventStore } from './event-store.js';
export type {
  EventStoreOptions,
  AppendResult,
  ReadStreamOptions,
  StreamRead,
  ReadAllOptions,
  AggregatedStream,
  StreamFold,
  Snapshot,
} from './event-store.js';
export type { RecordedEvent } from './event-tables.js';
export { ConcurrencyError, NO_STREAM_VERSION } from './expected-version.js';
export type { ExpectedVersion } from './expected-version.js';
export type { DomainEvent } from './domain-event.js';
export type { SnapshotPolicy } from './snapshot-policy.js';
export { handleCommand, handleCommandIn, commandRetryDefaults } from './command-handler.js';
export type { CommandOptions, HandleCommandOptions, CommandRetryOptions, CommandResult } from './command-handler.js';
export type { Decider } from '@shoal/core';
