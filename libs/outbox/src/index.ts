/**
 * @shoal/outbox: the outbox relay (docs/reference/outbox.md). A state change and the events it emits commit in one
 * transaction of the service's database (@shoal/store), into its outbox table; OutboxRelay publishes them
 * in commit order and moves the published position only after the broker's acknowledgement.
 */
export { OutboxRelay } from './outbox-relay.js';
export type { OutboxRelayOptions, OutboxRelayStatus, OutboxRelayError, StopOptions } from './outbox-relay.js';
