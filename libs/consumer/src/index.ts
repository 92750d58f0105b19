/**
 * @shoal/consumer: the subscription runtime (docs/reference/consumer.md). Handlers keyed by event type run in a
 * transaction on the service's own database that also records the event id in the inbox, so effects are
 * exactly-once over Kafka's at-least-once delivery; failures are retried in place or dead-lettered to
 * `<group>.dlq`, and a partition never stops for one bad record: the later records of its key are parked in
 * the database until it is redriven or skipped, while other keys flow. It runs on @shoal/transport's consumer loop,
 * whose option and status types (ConsumeOptions, RetryOptions, PartitionStatus, MessageContext...) it uses.
 */
export { subscribe, Subscription, subscriptionDefaults } from './subscription.js';
export type { SubscribeOptions } from './subscription.js';
export type { EventHandler, EventHandlers, EventPreparation } from './event-handlers.js';
export type { SubscriptionStatus, LatencySummary } from './subscription-status.js';
export { DLQ_HEADERS } from './dead-letter-queue.js';
export type {
  DlqListBody,
  DlqGroup,
  DlqDeadLetter,
  DlqParkedRecord,
  DlqReason,
  DlqFailure,
  DlqRedriveRequest,
  DlqRedriveBody,
  DlqRedriveResult,
  DlqSkipRequest,
  DlqSkipBody,
  DlqSkipResult,
} from './dlq-bodies.js';
export type { ParkedCounts } from './parked-records.js';
export { createConsumerTables } from './consumer-tables.js';
export type { InboxRow } from './inbox-table.js';
