/**
 * @shoal/transport: how Shoal speaks Kafka, through kafkajs. The kafkajs client factory (and the fix for
 * kafkajs 2.2.4 that it applies before any connection exists), the typed Publisher, and the consumer loop
 * that subscriptions, projectors and `shoal subscribe` run on.
 */
// Before anything creates a kafkajs connection: stops kafkajs 2.2.4's idle 1 ms timer loop (see the module).
import './kafkajs-request-queue.js';

export { Publisher } from './publisher.js';
export type { PublisherOptions, PublishOptions, UntypedPublishOptions, PublishRecord, PublishedEvent } from './publisher.js';
export { Subscriber, messageContext } from './subscriber.js';
export { waitForGroupJoin } from './group-join.js';
export type { GroupJoinWait } from './group-join.js';
export type { SubscriberOptions, SubscriberStats, SubscriberLogger, MessageContext, EventHandler } from './subscriber.js';
export { kafkaClient } from './kafka-client.js';
