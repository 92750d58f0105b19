/**
 * Publishing CloudEvents to Kafka: one of the two ways services touch Kafka (the other is subscriber.ts).
 *
 * The kafkajs producer is idempotent with acks -1 (KIP-98's conditions; kafkajs then retries without limit)
 * and one request in flight per connection, so a retried batch can neither be duplicated nor overtake the
 * next one: the order of `publishBatch` is the order on every partition. Every event of a batch is encoded
 * before anything is sent, so an invalid event fails the whole batch and sends none of it. Each event goes to
 * its catalog topic (EventDefinition.topic) unless a topic is given, keyed by its partitionkey.
 */
import { Partitioners, type Kafka, type Message, type Producer, type ProducerConfig, type RecordMetadata } from 'kafkajs';
import { ShoalError } from '@shoal/core';
import type { CloudEvent, ShoalEvent } from '@shoal/contract';
import type { EventCodec } from '@shoal/contract';
import type { ShoalEventType } from '@shoal/contract';

export interface PublisherOptions {
  kafka: Kafka;
  codec: EventCodec;
  /** Send every event to this topic instead of its catalog topic. */
  topic?: string;
  /** Further kafkajs producer settings; idempotence, in-flight requests and the partitioner are Shoal's. */
  producer?: Omit<ProducerConfig, 'idempotent' | 'maxInFlightRequests' | 'createPartitioner' | 'transactionalId'>;
}

export interface PublishOptions {
  /** Overrides the publisher's and the catalog's topic. */
  topic?: string;
}

export interface UntypedPublishOptions extends PublishOptions {
  /**
   * Subject of the writer schema for a type the catalog does not know. Default `<topic>-<type>`, the
   * TopicRecordNameStrategy subject.
   */
  subject?: string;
}

/** One event with its own destination, for `publishRecords` (an outbox row names its topic and key). */
export interface PublishRecord {
  event: CloudEvent<unknown>;
  topic: string;
  /** The Kafka key. Default: the event's partitionkey. */
  key?: string;
}

/** Where one event landed. */
export interface PublishedEvent {
  id: string;
  topic: string;
  partition: number;
  offset: string;
}

interface Outgoing {
  event: CloudEvent<unknown>;
  topic: string;
  message: Message;
}

export class Publisher {
  private readonly codec: EventCodec;
  private readonly topic: string | undefined;
  private readonly producer: Producer;
  /** The partition kafkajs's partitioner chose for each message object, to map offsets back to events. */
  private readonly partitions = new WeakMap<Message, number>();

  constructor(options: PublisherOptions) {
    this.codec = options.codec;
    this.topic = options.topic;
    const partitions = this.partitions;
    this.producer = options.kafka.producer({
      ...options.producer,
      idempotent: true,
      maxInFlightRequests: 1,
      // Kafka's own partitioner (murmur2 of the key, as the Java client), observed so offsets can be reported per event.
      createPartitioner: () => {
        const partitioner = Partitioners.DefaultPartitioner();
        return (args) => {
          const partition = partitioner(args);
          partitions.set(args.message, partition);
          return partition;
        };
      },
    });
  }

  connect(): Promise<void> {
    return this.producer.connect();
  }

  /** Waits for sends in progress, then closes the producer's connections. */
  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }

  /** Publishes one event; its data must have the shape the catalog gives its type. */
  async publish<T extends ShoalEventType>(event: ShoalEvent<T>, options: PublishOptions = {}): Promise<PublishedEvent[]> {
    return this.send([await this.encode(event, options)]);
  }

  /** Publishes events in one produce request per broker, in order; all or none are accepted for sending. */
  async publishBatch(events: readonly ShoalEvent[], options: PublishOptions = {}): Promise<PublishedEvent[]> {
    const outgoing: Outgoing[] = [];
    for (const event of events) outgoing.push(await this.encode(event, options));
    return this.send(outgoing);
  }

  /**
   * For tools: events of any type, with any data, typed by nothing but the writer schema. A type the
   * catalog knows is written with the catalog's schema; any other with the latest schema of `subject`.
   */
  async publishUntyped(events: CloudEvent<unknown> | readonly CloudEvent<unknown>[], options: UntypedPublishOptions = {}): Promise<PublishedEvent[]> {
    const list: readonly CloudEvent<unknown>[] = Array.isArray(events) ? events : [events as CloudEvent<unknown>];
    const outgoing: Outgoing[] = [];
    for (const event of list) outgoing.push(await this.encode(event, options));
    return this.send(outgoing);
  }

  /**
   * Events that each name their topic (and key), in order, as `publishBatch` publishes them; a type the
   * catalog does not know is written with the latest schema of `<topic>-<type>`. When one cannot be encoded
   * nothing is sent, and its error is rethrown with the same code and `details.index` / `details.eventId`
   * naming it, so a caller can publish the events before it and report the one that blocks.
   */
  async publishRecords(records: readonly PublishRecord[]): Promise<PublishedEvent[]> {
    const outgoing: Outgoing[] = [];
    for (const [index, { event, topic, key }] of records.entries()) {
      let encoded: Outgoing;
      try {
        encoded = await this.encode(event, { topic });
      } catch (error) {
        throw encodeFailure(error, index, event);
      }
      outgoing.push(key === undefined ? encoded : { ...encoded, message: { ...encoded.message, key } });
    }
    return this.send(outgoing);
  }

  private async encode(event: CloudEvent<unknown>, options: UntypedPublishOptions): Promise<Outgoing> {
    const topic = options.topic ?? this.topic ?? this.catalogTopic(event.type);
    const message = await this.codec.encode(event, { subject: options.subject ?? `${topic}-${event.type}` });
    return { event, topic, message };
  }

  private catalogTopic(type: string): string {
    const definition = this.codec.catalog?.events.get(type);
    if (definition === undefined) {
      throw new ShoalError(
        'SHOAL_SCHEMA_UNKNOWN_TYPE',
        `No topic for ${type}: the schema catalog ${this.codec.catalog === undefined ? 'is not loaded' : 'does not know the type'}; pass a topic`,
        { details: { type } },
      );
    }
    return definition.topic;
  }

  private async send(outgoing: readonly Outgoing[]): Promise<PublishedEvent[]> {
    if (outgoing.length === 0) return [];
    const byTopic = new Map<string, Message[]>();
    for (const { topic, message } of outgoing) {
      const messages = byTopic.get(topic);
      if (messages === undefined) byTopic.set(topic, [message]);
      else messages.push(message);
    }
    const metadata = await this.producer.sendBatch({
      acks: -1,
      topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
    });
    return this.placed(outgoing, metadata);
  }

  /** Offsets per event: a partition's messages are appended in send order from its base offset. */
  private placed(outgoing: readonly Outgoing[], metadata: readonly RecordMetadata[]): PublishedEvent[] {
    const next = new Map<string, bigint>();
    for (const entry of metadata) {
      if (entry.baseOffset !== undefined) next.set(`${entry.topicName}\u0000${entry.partition}`, BigInt(entry.baseOffset));
    }
    return outgoing.map(({ event, topic, message }) => {
      const partition = this.partitions.get(message);
      const slot = `${topic}\u0000${partition}`;
      const offset = next.get(slot);
      if (partition === undefined || offset === undefined) {
        throw new ShoalError('SHOAL_BROKER_PROTOCOL', `The broker acknowledged the send of event ${event.id} to ${topic} without an offset for its partition`);
      }
      next.set(slot, offset + 1n);
      return { id: event.id, topic, partition, offset: offset.toString() };
    });
  }
}

function encodeFailure(error: unknown, index: number, event: CloudEvent<unknown>): unknown {
  if (!(error instanceof ShoalError)) return error;
  return new ShoalError(error.code, `Event ${event.id} (${event.type}) cannot be encoded: ${error.message}`, {
    cause: error,
    retriable: error.retriable,
    details: { ...error.details, index, eventId: event.id },
  });
}
