import type { Admin, Kafka } from 'kafkajs';
import { onTestFinished } from 'vitest';

/** Connects a kafkajs client (producer, consumer, admin, publisher) and disconnects it when the current test finishes. */
export async function connected<T extends { connect(): Promise<void>; disconnect(): Promise<void> }>(client: T): Promise<T> {
  onTestFinished(() => client.disconnect());
  await client.connect();
  return client;
}

/**
 * How many records the broker holds on `topics`, all partitions, log start to log end: counts what a
 * consumer may not have fetched yet (duplicates included). With a `Kafka`, an admin client is opened for
 * the count and closed after it.
 */
export async function recordsOnTopics(client: Kafka | Admin, topics: string | readonly string[]): Promise<number> {
  const names = typeof topics === 'string' ? [topics] : topics;
  const admin = 'fetchTopicOffsets' in client ? client : client.admin();
  const owned = admin !== client;
  if (owned) await admin.connect();
  try {
    let total = 0;
    for (const topic of names) {
      for (const { high, low } of await admin.fetchTopicOffsets(topic)) total += Number(high) - Number(low);
    }
    return total;
  } finally {
    if (owned) await admin.disconnect();
  }
}
