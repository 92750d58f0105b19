/**
 * @shoal/transport: how Shoal speaks Kafka, through kafkajs. The kafkajs client factory (and the fix for
 * kafkajs 2.2.4 that it applies before any connection exists), the typed Publisher, and the consumer loop
 * that subscriptions, projectors and `shoal subscribe` (Subscriber) all run on, with the one classification
 * of failed records and the one set of consumer option types.
 */
// Before anything creates a kafkajs connection: stops kafkajs 2.2.4's idle 1 ms timer loop (see the module).
import './kafkajs-request-queue.js';

export { Publisher } from './publisher.js';
export type { PublisherOptions, PublishOptions, UntypedPublishOptions, PublishRecord, PublishedEvent } from './publisher.js';
export { ConsumerLoop, RunFailure, consumeDefaults } from './consumer-loop.js';
export type { ConsumerLoopOptions, ConsumerLoopHandler, ConsumeOptions, ConsumerTuning, RetryOptions, EventRun, DeliveredEvent, GiveUp } from './consumer-loop.js';
export type { ConsumerStatus, ConsumerState, PartitionStatus, LastFailure } from './consumer-status.js';
export { partitionStatus } from './consumer-status.js';
export { RecordContext } from './record-context.js';
export type { MessageContext } from './record-context.js';
export { failureKind, asShoalError } from './record-failure.js';
export type { FailureKind, FailureStage, FailedRecord } from './record-failure.js';
export { Subscriber } from './subscriber.js';
export type { SubscriberOptions, SubscriberStats, SubscriberLogger, EventHandler } from './subscriber.js';
export { waitForGroupJoin } from './group-join.js';
export type { GroupJoinWait } from './group-join.js';
export { kafkaClient } from './kafka-client.js';
