/**
 * What a relay test checks against: the events that reached the broker, decoded, in arrival order and per
 * aggregate; a catalog with a compatible change not registered yet; a logger that keeps what it is told.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, uniqueName } from '@shoal/testing';
import { DEFAULT_SCHEMAS_DIR, loadSchemaCatalog, type CloudEvent, type EventCodec, type SchemaCatalog } from '@shoal/contract';
import type { Kafka } from 'kafkajs';
import { onTestFinished } from 'vitest';

/** The repository catalog with an optional `note` field added to the schema in `file` (e.g. 'orders/OrderShipped.avsc'): a compatible change not registered yet. */
export function catalogWithNewField(file: string): SchemaCatalog {
  const dir = tempDir('schemas');
  cpSync(DEFAULT_SCHEMAS_DIR, dir, { recursive: true });
  const schema = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { fields: unknown[] };
  schema.fields.push({ name: 'note', type: ['null', 'string'], default: null });
  writeFileSync(join(dir, file), JSON.stringify(schema, null, 2));
  return loadSchemaCatalog(dir);
}

export interface ReceivedEvent {
  topic: string;
  partition: number;
  key: string | undefined;
  event: CloudEvent<unknown>;
}

/** Every event that reaches `topics` from their beginning, decoded with `codec`, in arrival order; resolves once the consumer joined its group. Stopped when the test ends. */
export async function collectEvents(kafka: Kafka, codec: EventCodec, topics: readonly string[]): Promise<ReceivedEvent[]> {
  const received: ReceivedEvent[] = [];
  const consumer = kafka.consumer({ groupId: uniqueName('outbox-test'), maxWaitTimeInMs: 50 });
  onTestFinished(() => consumer.disconnect());
  await consumer.connect();
  await consumer.subscribe({ topics: [...topics], fromBeginning: true });
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      received.push({ topic, partition, key: message.key?.toString(), event: await codec.decode(message) });
    },
  });
  await joined;
  return received;
}

/** An event as plain JSON without its content type: what a decoded event and the emitted one have in common. */
export function plainEvent(event: CloudEvent<unknown>): Record<string, unknown> {
  const { datacontenttype: _contentType, ...rest } = JSON.parse(JSON.stringify(event)) as Record<string, unknown>;
  return rest;
}

/** Ids per `topic/key` in arrival order: the order a consumer of one aggregate sees. */
export function idsByAggregate(events: readonly { topic: string; key: string | undefined; event: { id: string } }[]): Map<string, string[]> {
  const ids = new Map<string, string[]>();
  for (const { topic, key, event } of events) {
    const slot = `${topic}/${key}`;
    const list = ids.get(slot);
    if (list === undefined) ids.set(slot, [event.id]);
    else list.push(event.id);
  }
  return ids;
}
