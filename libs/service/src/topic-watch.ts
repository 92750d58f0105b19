/**
 * What services published, read back from the real topics: a test's view of a service's output. One
 * kafkajs consumer in a group of its own reads the topics from the beginning and decodes every record with
 * the platform's codec, so the test sees the events exactly as another service would.
 *
 *   const published = await watchTopics(platform, ['inventory.reservation']);
 *   const [reserved] = await published.waitFor('shoal.inventory.StockReserved', { subject: orderId });
 */
import { onTestFinished } from 'vitest';
import { uniqueName } from '@shoal/testing';
import type { ShoalEvent, ShoalEventType } from '@shoal/contract';
import type { TestPlatform } from '@shoal/contract/testing';
import { eventually } from '@shoal/projections/testing';

export interface EventFilter {
  /** Only the events of this subject (the aggregate id, e.g. an order id). */
  subject?: string;
}

export interface TopicWatch {
  /** Every event read so far, in the order it arrived. */
  all(): ShoalEvent[];
  ofType<T extends ShoalEventType>(type: T, filter?: EventFilter): ShoalEvent<T>[];
  /** Waits until at least `count` (default 1) events of `type` have arrived, and returns all of them. */
  waitFor<T extends ShoalEventType>(type: T, options?: EventFilter & { count?: number; timeoutMs?: number }): Promise<ShoalEvent<T>[]>;
}

export async function watchTopics(platform: TestPlatform, topics: readonly string[]): Promise<TopicWatch> {
  const events: ShoalEvent[] = [];
  const consumer = platform.kafka().consumer({ groupId: uniqueName('watch'), maxWaitTimeInMs: 100 });
  onTestFinished(() => consumer.disconnect());
  await consumer.connect();
  await consumer.subscribe({ topics: [...topics], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      events.push((await platform.codec.decode(message)) as ShoalEvent);
    },
  });
  const ofType = <T extends ShoalEventType>(type: T, filter: EventFilter = {}) =>
    events.filter((event) => event.type === type && (filter.subject === undefined || event.subject === filter.subject)) as ShoalEvent<T>[];
  return {
    all: () => [...events],
    ofType,
    waitFor: (type, options = {}) =>
      eventually(() => {
        const found = ofType(type, options);
        const wanted = options.count ?? 1;
        if (found.length < wanted) throw new Error(`${found.length} of ${wanted} ${type} events${options.subject === undefined ? '' : ` of ${options.subject}`} arrived`);
        return found;
      }, options.timeoutMs ?? 20_000),
  };
}
