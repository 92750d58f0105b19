/**
 * The dead-letter topic of a consumer group, `<group>.dlq` by default: where a record goes when it cannot
 * be processed (a poison record at once, a retriable failure after the last attempt), so that its partition
 * moves on instead of blocking every later event of every key behind it.
 *
 * A dead letter is the original record, byte for byte (key, value, every original header), plus headers
 * that say what happened; header values are UTF-8 text, times are milliseconds since the epoch like
 * Kafka's own timestamps:
 *
 *   dlq.error.code          the ShoalError code, e.g. SHOAL_EVENT_DECODE; SHOAL_HANDLER_FAILED for an error
 *                           that was not a ShoalError
 *   dlq.error.message       its message (at most 4 KiB)
 *   dlq.error.retriable     "true" when attempts ran out, "false" when it was dead-lettered at once
 *   dlq.error.cause         for SHOAL_HANDLER_FAILED: the original error's class and code, e.g.
 *                           "SqliteError SQLITE_CONSTRAINT_PRIMARYKEY"
 *   dlq.original.topic      where the record was read
 *   dlq.original.partition
 *   dlq.original.offset
 *   dlq.original.timestamp  the record's Kafka timestamp
 *   dlq.attempts            how many tries were made, 1 for a record dead-lettered at once
 *   dlq.group               the consumer group that gave up on it
 *   dlq.time                when it was dead-lettered
 *
 * Replaying a dead letter is producing its key, value and original headers back to dlq.original.topic;
 * the ce_id is unchanged, and since a dead-lettered record is never written to the inbox, the replayed
 * one is processed.
 *
 * The topic has one partition: dead letters are rare, one partition keeps them in the order they failed
 * (so the per-key order holds there too) and whatever reads them reads one log. Publishing uses an
 * idempotent producer with acks -1 and one request in flight: once `publish` resolves the dead letter is
 * durable, and only then does the caller move past the record. Dead-lettering is at-least-once: a crash
 * after the publish and before the offset commit publishes the same record again.
 */
import { Partitioners, type IHeaders, type Kafka, type KafkaMessage, type Message, type Producer } from 'kafkajs';
import type { ShoalError } from '@shoal/core';

export const DLQ_HEADERS = {
  errorCode: 'dlq.error.code',
  errorMessage: 'dlq.error.message',
  errorRetriable: 'dlq.error.retriable',
  errorCause: 'dlq.error.cause',
  originalTopic: 'dlq.original.topic',
  originalPartition: 'dlq.original.partition',
  originalOffset: 'dlq.original.offset',
  originalTimestamp: 'dlq.original.timestamp',
  attempts: 'dlq.attempts',
  group: 'dlq.group',
  time: 'dlq.time',
} as const;

const MAX_MESSAGE_LENGTH = 4096;

/** A record the group gives up on, and why. */
export interface DeadLetter {
  group: string;
  topic: string;
  partition: number;
  message: KafkaMessage;
  error: ShoalError;
  attempts: number;
  /** When it was dead-lettered, ms since the epoch. */
  time: number;
}

/** The record to publish to the dead-letter topic: the original bytes and headers plus the DLQ headers. */
export function deadLetterMessage(letter: DeadLetter): Message {
  const { message, error } = letter;
  const headers: IHeaders = {
    ...message.headers,
    [DLQ_HEADERS.errorCode]: error.code,
    [DLQ_HEADERS.errorMessage]: error.message.length > MAX_MESSAGE_LENGTH ? `${error.message.slice(0, MAX_MESSAGE_LENGTH - 1)}…` : error.message,
    [DLQ_HEADERS.errorRetriable]: String(error.retriable),
    [DLQ_HEADERS.originalTopic]: letter.topic,
    [DLQ_HEADERS.originalPartition]: String(letter.partition),
    [DLQ_HEADERS.originalOffset]: message.offset,
    [DLQ_HEADERS.originalTimestamp]: message.timestamp,
    [DLQ_HEADERS.attempts]: String(letter.attempts),
    [DLQ_HEADERS.group]: letter.group,
    [DLQ_HEADERS.time]: String(letter.time),
  };
  const cause = error.code === 'SHOAL_HANDLER_FAILED' ? causeOf(error.cause) : undefined;
  if (cause === undefined) delete headers[DLQ_HEADERS.errorCause];
  else headers[DLQ_HEADERS.errorCause] = cause;
  return { key: message.key, value: message.value, headers };
}

/** The dead-letter topic of one subscription and the producer that writes to it. */
export class DeadLetterQueue {
  private readonly producer: Producer;

  constructor(
    private readonly kafka: Kafka,
    readonly topic: string,
  ) {
    // A bounded number of kafkajs retries per send (idempotence needs at least one), so that a broker outage
    // surfaces as a failed send which the subscription logs and retries with its own backoff.
    this.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 5 }, createPartitioner: Partitioners.DefaultPartitioner });
  }

  /** Creates the topic if it does not exist (one partition, the broker's replication factor) and connects. */
  async open(): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      // Listed first, so a client allowed to write the topic but not to create topics still starts.
      if (!(await admin.listTopics()).includes(this.topic)) {
        // Resolves false when another member created it in the meantime.
        await admin.createTopics({ waitForLeaders: true, topics: [{ topic: this.topic, numPartitions: 1 }] });
      }
    } finally {
      await admin.disconnect();
    }
    await this.producer.connect();
  }

  /** Resolves once every in-sync replica has the dead letter. */
  async publish(letter: DeadLetter): Promise<void> {
    await this.producer.send({ topic: this.topic, acks: -1, messages: [deadLetterMessage(letter)] });
  }

  close(): Promise<void> {
    return this.producer.disconnect();
  }
}

function causeOf(cause: unknown): string | undefined {
  if (!(cause instanceof Error)) return cause === undefined ? undefined : typeof cause;
  const code = (cause as { code?: unknown }).code;
  return typeof code === 'string' ? `${cause.name} ${code}` : cause.name;
}
