/**
 * @shoal/outbox: a service's own SQLite database with the transactional outbox (docs/runtime.md). A state
 * change and the events it emits commit in one transaction; OutboxRelay publishes them in commit order.
 */
export { ServiceDatabase } from './service-database.js';
export type { ServiceDatabaseOptions, Transaction, SqliteDatabase } from './service-database.js';
export { OutboxRelay } from './outbox-relay.js';
export type { OutboxRelayOptions, OutboxRelayStatus, OutboxRelayError, StopOptions } from './outbox-relay.js';
export { eventOfRow, outboxBacklog } from './outbox-table.js';
export type { EmitOptions, OutboxBacklog, OutboxRow } from './outbox-table.js';
