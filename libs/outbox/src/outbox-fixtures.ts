/**
 * Test support for this package's tests (not exported): valid data for every catalog event type, a seeded
 * random source (a failing run can be replayed from its seed), a consumer that collects what reached the
 * broker, decoded, a logger that keeps what it is told, and polling with a deadline instead of fixed sleeps.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, uniqueName } from '@shoal/testing';
import type { ShoalLogger } from '@shoal/core';
import { DEFAULT_SCHEMAS_DIR, loadSchemaCatalog, type CloudEvent, type EventCodec, type SchemaCatalog } from '@shoal/contract';
import type { Kafka } from 'kafkajs';
import { onTestFinished } from 'vitest';

/** mulberry32: a small deterministic generator in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The repository catalog with an optional `note` field added to the schema in `file` (e.g. 'orders/OrderShipped.avsc'): a compatible change not registered yet. */
export function catalogWithNewField(file: string): SchemaCatalog {
  const dir = tempDir('schemas');
  cpSync(DEFAULT_SCHEMAS_DIR, dir, { recursive: true });
  const schema = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { fields: unknown[] };
  schema.fields.push({ name: 'note', type: ['null', 'string'], default: null });
  writeFileSync(join(dir, file), JSON.stringify(schema, null, 2));
  return loadSchemaCatalog(dir);
}

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  details: Record<string, unknown>;
  message: string;
}

/** A logger that keeps every entry in `entries`. */
export function recordingLogger(entries: LogEntry[] = []): ShoalLogger & { entries: LogEntry[] } {
  const at = (level: LogEntry['level']) => (details: object, message: string) => void entries.push({ level, details: details as Record<string, unknown>, message });
  const logger = { entries, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => logger };
  return logger;
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

/** How many records the broker holds on `topics`, all partitions: counts duplicates that a consumer might not have fetched yet. */
export async function recordsOnBroker(kafka: Kafka, topics: readonly string[]): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    let total = 0;
    for (const topic of topics) {
      for (const partition of await admin.fetchTopicOffsets(topic)) total += Number(partition.high) - Number(partition.low);
    }
    return total;
  } finally {
    await admin.disconnect();
  }
}

/** Resolves with `check()`'s first truthy answer, polling; rejects with `what` once `timeoutMs` passed. */
export async function eventually<T>(check: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await check();
    if (answer !== undefined && answer !== false) return answer;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
