/**
 * The console's own reader of every topic: a kafkajs consumer (from @shoal/transport's client factory) in a
 * group of its own, `shoal-console-<random>`, started from the beginning of every topic on every start and
 * deleted on stop. A group rather than assigned partitions because kafkajs has no assign-without-group; one of
 * its own so that it never takes a partition from a service and always reads the whole retained history into
 * the in-memory index (nothing to resume from: the index does not survive the process). It commits nothing.
 *
 * It reads headers only: each record's CloudEvents attributes (binary mode, or structured JSON through the
 * same binding the services use) go into the EventIndex with the record's bytes, which are decoded only when a
 * flow is looked at. It does not use the platform's consumer loop (@shoal/transport's ConsumerLoop) on
 * purpose: that loop decodes every record's data and retries and dead-letters failures, none of which an
 * observer wants; a record it cannot read is counted and the last reason kept, and reading goes on.
 *
 * Topics: every topic but Kafka's internal ones (`__*`) and the dead-letter topics (`*.dlq`, whose records
 * are copies of events already seen; the console reads dead letters from the services' admin routes). The
 * topic list is checked every `topicRefreshMs`; a new topic restarts the consumer (the index drops the events
 * it sees again).
 *
 * Its fetches wait for 256 KiB or a second, whichever comes first: an observer can show what flows a second
 * late, and under load it then reads in large batches, so that reading everything the services publish costs
 * little CPU (the broker's and its own) per event.
 */
import { randomUUID } from 'node:crypto';
import type { Admin, Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { fromKafkaMessage } from '@shoal/contract';
import { silentLogger, type ShoalLogger } from '@shoal/core';
import { serviceOfSource, type EventIndex, type SeenEvent } from './event-index.js';

export interface TrafficReaderOptions {
  kafka: Kafka;
  index: EventIndex;
  /** Default: every topic but internal and dead-letter ones; fixed topics are never refreshed. */
  topics?: readonly string[];
  /** How often the topic list is checked for new topics, ms. Default 10 s. */
  topicRefreshMs?: number;
  /** Prefix of the reader's throwaway group. Default `shoal-console`. */
  groupPrefix?: string;
  /** How long the broker may hold a fetch for `fetchMinBytes` to arrive, ms. Default 1000. */
  fetchWaitMs?: number;
  /** The bytes a fetch waits for (up to `fetchWaitMs`). Default 256 KiB. */
  fetchMinBytes?: number;
  logger?: ShoalLogger;
}

export const trafficReaderDefaults = { topicRefreshMs: 10_000, groupPrefix: 'shoal-console', fetchWaitMs: 1_000, fetchMinBytes: 256 * 1024 } satisfies Partial<TrafficReaderOptions>;

/** Whether the console reads a topic when no list is given. */
export function isTrafficTopic(topic: string): boolean {
  return !topic.startsWith('__') && !topic.endsWith('.dlq');
}

export interface TrafficReaderStatus {
  topics: string[];
  group: string | undefined;
  records: number;
  unreadable: number;
  lastUnreadable: string | undefined;
  /** Every partition read up to where it ended when the reader started. */
  caughtUp: boolean;
}

export class TrafficReader {
  private readonly options: TrafficReaderOptions;
  private readonly logger: ShoalLogger;
  private consumer: Consumer | undefined;
  private admin: Admin | undefined;
  private group: string | undefined;
  private topics: string[] = [];
  /** Per `topic:partition`, the offset to reach to be caught up (the end when the reader started). */
  private targets = new Map<string, bigint>();
  private positions = new Map<string, bigint>();
  private refreshTimer: NodeJS.Timeout | undefined;
  private records = 0;
  private unreadable = 0;
  private lastUnreadable: string | undefined;
  private stopped = false;
  private restarting: Promise<void> | undefined;

  constructor(options: TrafficReaderOptions) {
    this.options = options;
    this.logger = options.logger ?? silentLogger;
  }

  async start(): Promise<void> {
    this.admin = this.options.kafka.admin();
    await this.admin.connect();
    await this.run(await this.wantedTopics());
    if (this.options.topics === undefined) {
      this.refreshTimer = setInterval(() => void this.refreshTopics(), this.options.topicRefreshMs ?? trafficReaderDefaults.topicRefreshMs);
      this.refreshTimer.unref();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.refreshTimer);
    await this.restarting;
    await this.stopConsumer();
    await this.admin?.disconnect().catch(() => undefined);
  }

  status(): TrafficReaderStatus {
    return { topics: [...this.topics], group: this.group, records: this.records, unreadable: this.unreadable, lastUnreadable: this.lastUnreadable, caughtUp: this.caughtUp() };
  }

  caughtUp(): boolean {
    for (const [partition, target] of this.targets) {
      if ((this.positions.get(partition) ?? 0n) < target) return false;
    }
    return this.consumer !== undefined;
  }

  private async wantedTopics(): Promise<string[]> {
    if (this.options.topics !== undefined) return [...this.options.topics];
    return (await this.admin!.listTopics()).filter(isTrafficTopic).sort();
  }

  private async refreshTopics(): Promise<void> {
    if (this.stopped || this.restarting !== undefined) return;
    try {
      const topics = await this.wantedTopics();
      if (topics.length === this.topics.length && topics.every((topic, i) => topic === this.topics[i])) return;
      this.logger.info({ topics }, 'the topics changed: reading them all again');
      this.restarting = (async () => {
        await this.stopConsumer();
        if (!this.stopped) await this.run(topics);
      })();
      await this.restarting;
    } catch (error) {
      this.logger.warn({ err: error }, 'cannot refresh the topic list');
    } finally {
      this.restarting = undefined;
    }
  }

  private async run(topics: string[]): Promise<void> {
    this.topics = topics;
    this.targets = new Map();
    this.positions = new Map();
    for (const topic of topics) {
      for (const { partition, high, low } of await this.admin!.fetchTopicOffsets(topic)) {
        if (BigInt(high) > BigInt(low)) this.targets.set(`${topic}:${partition}`, BigInt(high));
      }
    }
    this.group = `${this.options.groupPrefix ?? trafficReaderDefaults.groupPrefix}-${randomUUID()}`;
    const consumer = this.options.kafka.consumer({
      groupId: this.group,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: this.options.fetchWaitMs ?? trafficReaderDefaults.fetchWaitMs,
      minBytes: this.options.fetchMinBytes ?? trafficReaderDefaults.fetchMinBytes,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
    });
    this.consumer = consumer;
    await consumer.connect();
    if (topics.length === 0) return;
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({ autoCommit: false, partitionsConsumedConcurrently: 4, eachBatch: (payload) => this.eachBatch(payload) });
  }

  private async eachBatch({ batch, heartbeat }: EachBatchPayload): Promise<void> {
    const { topic, partition } = batch;
    for (const message of batch.messages) {
      this.records += 1;
      const event = this.seenEvent(topic, partition, message);
      if (event !== undefined) this.options.index.add(event);
    }
    const last = batch.messages.at(-1);
    if (last !== undefined) this.positions.set(`${topic}:${partition}`, BigInt(last.offset) + 1n);
    await heartbeat();
  }

  private seenEvent(topic: string, partition: number, message: EachBatchPayload['batch']['messages'][number]): SeenEvent | undefined {
    try {
      const event = fromKafkaMessage(message);
      const time = event.time === undefined ? Number.NaN : Date.parse(event.time);
      const key = message.key === null || message.key === undefined ? undefined : message.key.toString('utf8');
      return {
        id: event.id,
        type: event.type,
        source: event.source,
        service: serviceOfSource(event.source),
        time: event.time,
        at: Number.isFinite(time) ? time : Number(message.timestamp),
        subject: event.subject,
        key: key ?? event.partitionkey,
        correlationId: event.correlationid,
        causationId: event.causationid,
        topic,
        partition,
        offset: message.offset,
        contentType: event.datacontenttype,
        // A copy: kafkajs's value is a view of the whole fetch response, which would stay in memory with it.
        value: Buffer.isBuffer(event.data) ? Buffer.from(event.data) : null,
      };
    } catch (error) {
      this.unreadable += 1;
      this.lastUnreadable = `${topic}/${partition}@${message.offset}: ${(error as Error).message}`;
      return undefined;
    }
  }

  private async stopConsumer(): Promise<void> {
    const consumer = this.consumer;
    const group = this.group;
    this.consumer = undefined;
    if (consumer === undefined) return;
    await consumer.disconnect().catch(() => undefined);
    // The throwaway group leaves no trace; it expires with its offsets anyway if this fails.
    if (group !== undefined) await this.admin?.deleteGroups([group]).catch(() => undefined);
  }
}
