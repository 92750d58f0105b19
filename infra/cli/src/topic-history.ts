/**
 * Which writer schemas a topic's retained records were written with: every record from the earliest offset
 * to the end the log had when the read began, read through kafkajs with a throwaway consumer group (deleted
 * afterwards, no offsets committed). Of each record only the CloudEvents type (`ce_type`) and the schema id in the Confluent wire-format prefix of its value are kept:
 *
 *   value  0x00 | schema id (4 bytes, big-endian) | Avro    an Avro record of writer schema <id>
 *          anything else                                    not Avro in the wire format (counted apart)
 */
import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { ShoalError } from '@shoal/core';
import { wireSchemaId } from '@shoal/contract';

/** The records of one topic written with one schema id for one event type. */
export interface WriterSchemaUse {
  topic: string;
  schemaId: number;
  type: string;
  records: number;
  /** The first record written with it. */
  first: { partition: number; offset: string };
}

export interface TopicHistory {
  topic: string;
  /** False when the broker has no such topic. */
  exists: boolean;
  records: number;
  uses: WriterSchemaUse[];
  /** Records whose value is not in the wire format (JSON, empty), or that name no type. */
  notAvro: number;
}

export interface ReadHistoryOptions {
  /** How long the read may go without a batch before it gives up, ms. Default 30 s. */
  stallTimeoutMs?: number;
}

export async function readTopicHistories(kafka: Kafka, topics: readonly string[], options: ReadHistoryOptions = {}): Promise<TopicHistory[]> {
  const histories = new Map<string, TopicHistory>(topics.map((topic) => [topic, { topic, exists: true, records: 0, uses: [], notAvro: 0 }]));
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `shoal-schemas-check-${randomUUID()}`;
  try {
    const existing = new Set(await admin.listTopics());
    /** `<topic>/<partition>` → the offset the read ends at (the high watermark when it began). */
    const remaining = new Map<string, number>();
    for (const topic of topics) {
      if (!existing.has(topic)) {
        histories.get(topic)!.exists = false;
        continue;
      }
      for (const { partition, high, low } of await admin.fetchTopicOffsets(topic)) if (Number(high) > Number(low)) remaining.set(`${topic}/${partition}`, Number(high));
    }
    if (remaining.size === 0) return [...histories.values()];
    const toRead = [...new Set([...remaining.keys()].map((key) => key.slice(0, key.lastIndexOf('/'))))];
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 250, allowAutoTopicCreation: false });
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: toRead, fromBeginning: true });
      let lastProgress = Date.now();
      const done = new Promise<void>((resolve, reject) => {
        const watchdog = setInterval(() => {
          if (Date.now() - lastProgress < (options.stallTimeoutMs ?? 30_000)) return;
          clearInterval(watchdog);
          reject(new ShoalError('SHOAL_BROKER_UNAVAILABLE', `stopped reading the topics: no records for ${options.stallTimeoutMs ?? 30_000} ms, ${[...remaining.keys()].join(', ')} not read to the end`));
        }, 250);
        const finish = () => {
          clearInterval(watchdog);
          resolve();
        };
        void consumer
          .run({
            autoCommit: false,
            eachBatch: async ({ batch }) => {
              lastProgress = Date.now();
              const key = `${batch.topic}/${batch.partition}`;
              const end = remaining.get(key);
              if (end === undefined) return;
              const history = histories.get(batch.topic)!;
              for (const message of batch.messages) if (Number(message.offset) < end) note(history, batch.partition, message);
              if (Number(batch.lastOffset()) + 1 >= end) remaining.delete(key);
              if (remaining.size === 0) finish();
            },
          })
          .catch(reject);
      });
      await done;
    } finally {
      await consumer.disconnect();
    }
  } finally {
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
  return [...histories.values()];
}

function note(history: TopicHistory, partition: number, message: KafkaMessage): void {
  history.records += 1;
  const type = headerText(message.headers?.['ce_type']);
  let schemaId: number;
  try {
    if (message.value === null || type === undefined) throw new Error('no value or no type');
    schemaId = wireSchemaId(message.value);
  } catch {
    history.notAvro += 1;
    return;
  }
  const use = history.uses.find((existing) => existing.schemaId === schemaId && existing.type === type);
  if (use === undefined) history.uses.push({ topic: history.topic, schemaId, type, records: 1, first: { partition, offset: message.offset } });
  else use.records += 1;
}

function headerText(raw: Buffer | string | (Buffer | string)[] | undefined): string | undefined {
  const first = Array.isArray(raw) ? raw[0] : raw;
  return first === undefined ? undefined : first.toString();
}
