/**
 * The consumer loop every consumer of Shoal runs on, used directly (docs/reference/transport.md): the
 * subscriptions of @shoal/consumer and the projectors are handlers of it, with an inbox or positions.
 */
// #region loop
import type { Kafka } from 'kafkajs';
import type { EventCodec } from '@shoal/contract';
import { ConsumerLoop } from '@shoal/transport';

export async function collectOrdersPlaced(kafka: Kafka, codec: EventCodec, topic: string, groupId: string) {
  const orderIds: string[] = [];
  const loop = new ConsumerLoop({
    kafka, codec, groupId, topics: [topic], fromBeginning: true,
    partitionsInFlight: 16, recordsPerTransaction: 200, retry: { attempts: 5 }, commitIntervalMs: 1000,
    handler: {
      handles: (type) => type === 'shoal.orders.OrderPlaced', // other types are skipped: only ce_type is read
      apply(run) {
        // All or nothing: a handler with a transaction throws new RunFailure(index, error) to say which failed.
        for (const { event } of run.events) orderIds.push(event.subject!);
      },
      giveUp: () => 'skip', // a poison record: dead-letter or report it, then move past it
    },
  });
  await loop.start(); // resolves once the member joined the group
  return { loop, orderIds }; // loop.status(): partitions with nextOffset, highWatermark and lag; loop.stop()
}
// #endregion loop
