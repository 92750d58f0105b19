import type { Kafka } from 'kafkajs';
import { describe, expect, it, onTestFinished } from 'vitest';
import { kafkaFor, startTestBroker } from '@shoal/broker/testing';
import { connected, uniqueName } from '@shoal/testing';
import { createEvent, EventCodec, RegistryClient, type ShoalEvent } from '@shoal/contract';
import { orderPlacedData, registryWithCatalog } from '@shoal/contract/testing';
import { ConsumerLoop, type ConsumerLoopHandler, type ConsumerLoopOptions, type EventRun } from './consumer-loop.js';
import { Publisher, type PublishedEvent } from './publisher.js';

const TOPIC = 'orders.order';

async function platform() {
  const broker = await startTestBroker();
  const registry = await registryWithCatalog();
  const kafka = kafkaFor(broker.bootstrap);
  const codec = new EventCodec({ registry: registry.client, catalog: registry.catalog });
  const publisher = await connected(new Publisher({ kafka, codec }));
  const admin = await connected(kafka.admin());
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic: TOPIC, numPartitions: 3 }] });
  return {
    broker,
    publisher,
    codec,
    /** A loop with a client id of its own (so the broker's counts tell its requests apart), stopped when the test ends. */
    loop(options: Partial<ConsumerLoopOptions> & Pick<ConsumerLoopOptions, 'handler'>): { loop: ConsumerLoop; clientId: string } {
      const clientId = uniqueName('loop');
      const loop = new ConsumerLoop({
        kafka: kafkaFor(broker.bootstrap, { clientId }),
        codec: new EventCodec({ registry: registry.client, catalog: registry.catalog }),
        groupId: uniqueName('group'),
        topics: [TOPIC],
        fromBeginning: true,
        consumer: { maxWaitTimeInMs: 100 },
        ...options,
      });
      onTestFinished(() => loop.stop());
      return { loop, clientId };
    },
    /** The group's committed next offset per partition of the topic; -1 where it committed none. */
    async committed(groupId: string): Promise<Record<number, number>> {
      const [topic] = await admin.fetchOffsets({ groupId, topics: [TOPIC] });
      return Object.fromEntries(topic!.partitions.map(({ partition, offset }) => [partition, Number(offset)]));
    },
    requestsOf(clientId: string, api: string): number {
      return broker.requestCounts().find((count) => count.clientId === clientId && count.api === api)?.requests ?? 0;
    },
  };
}

function placed(orderId: string): ShoalEvent<'shoal.orders.OrderPlaced'> {
  return createEvent('shoal.orders.OrderPlaced', orderPlacedData({ orderId }), { source: '/shoal/orders', subject: orderId });
}

/** A handler that keeps the ids of the events of its runs, and the runs themselves. */
function recording(onEvent: (event: ShoalEvent, attempt: number) => void = () => undefined): ConsumerLoopHandler & { ids: string[]; runs: EventRun[] } {
  const ids: string[] = [];
  const runs: EventRun[] = [];
  return {
    ids,
    runs,
    handles: (type) => type === 'shoal.orders.OrderPlaced',
    apply(run) {
      for (const { event, context } of run.events) onEvent(event as ShoalEvent, context.attempt);
      runs.push(run);
      for (const { event } of run.events) ids.push(event.id);
    },
    giveUp: () => 'skip',
  };
}

/** Resolves once `done()` holds, checking every 10 ms; the test timeout bounds it. */
async function until(done: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await done())) await new Promise((resolve) => setTimeout(resolve, 10));
}

/** Events of one key each, on two different partitions. */
async function onTwoPartitions(publisher: Publisher): Promise<[[ShoalEvent, PublishedEvent], [ShoalEvent, PublishedEvent]]> {
  const first = placed('ord-first');
  const [firstAt] = await publisher.publish(first);
  for (let n = 0; ; n++) {
    const other = placed(`ord-other-${n}`);
    const [otherAt] = await publisher.publish(other);
    if (otherAt!.partition !== firstAt!.partition) return [[first, firstAt!], [other, otherAt!]];
  }
}

describe('ConsumerLoop', () => {
  it('commits offsets per interval, not after every batch: none while it consumes, all of them when it stops', async () => {
    const p = await platform();
    const handler = recording();
    const { loop, clientId } = p.loop({ handler, commitIntervalMs: 600_000 });
    await loop.start();
    const published: PublishedEvent[] = [];
    // One record at a time, each in a batch of its own.
    for (let n = 0; n < 5; n++) {
      const event = placed('ord-one-key');
      published.push(...(await p.publisher.publish(event)));
      await until(() => handler.ids.includes(event.id));
    }
    expect(handler.runs).toHaveLength(5);
    const { partition } = published[0]!;
    const end = Number(published.at(-1)!.offset) + 1;
    expect(loop.status().partitions.find((p) => p.partition === partition)).toMatchObject({ nextOffset: end, highWatermark: end, lag: 0 });
    // Nothing is committed yet: a crash now would deliver all five again (the inbox or the positions make that safe).
    expect((await p.committed(loop.groupId))[partition]).toBe(-1);
    expect(p.requestsOf(clientId, 'OffsetCommit')).toBe(0);

    await loop.stop();
    expect((await p.committed(loop.groupId))[partition]).toBe(end);
    expect(p.requestsOf(clientId, 'OffsetCommit')).toBe(1);
  });

  it('commits within the interval once offsets moved, while the member stays', async () => {
    const p = await platform();
    const handler = recording();
    const { loop } = p.loop({ handler, commitIntervalMs: 20 });
    await loop.start();
    for (const orderId of ['ord-a', 'ord-b']) {
      const [at] = await p.publisher.publish(placed(orderId));
      const end = Number(at!.offset) + 1;
      await until(async () => (await p.committed(loop.groupId))[at!.partition] === end);
    }
    expect(handler.ids).toHaveLength(2);
  });

  it('pauses a partition that waits long for a retry, and goes on with the others meanwhile', async () => {
    const p = await platform();
    const [[stuck, stuckAt], [other, otherAt]] = await onTwoPartitions(p.publisher);
    const attempts: string[] = [];
    const handler = recording((event, attempt) => {
      attempts.push(`${event.id}#${attempt}`);
      if (event.id === stuck.id) throw new Error('not now');
    });
    // The wait is longer than a fetch waits, so it cannot be slept in place without holding up the other partition.
    const { loop } = p.loop({ handler, retry: { attempts: 3, initialMs: 600_000, maxMs: 600_000, jitter: 0 }, commitIntervalMs: 600_000 });
    await loop.start();

    await until(() => handler.ids.includes(other.id));
    expect(attempts).toContain(`${stuck.id}#1`);
    expect(attempts).not.toContain(`${stuck.id}#2`);
    expect(loop.status()).toMatchObject({ retries: 1, lastFailure: { code: 'SHOAL_HANDLER_FAILED', message: 'not now', partition: stuckAt.partition, offset: stuckAt.offset } });
    // Later records of the other partition still flow while the first waits.
    const later = placed(other.subject!);
    await p.publisher.publish(later);
    await until(() => handler.ids.includes(later.id));

    await loop.stop();
    const committed = await p.committed(loop.groupId);
    expect(committed[stuckAt.partition]).toBe(Number(stuckAt.offset));
    expect(committed[otherAt.partition]).toBe(Number(otherAt.offset) + 2);
  });

  it('with positions kept by the handler: seeks to them on joining, drops what lies below, commits nothing', async () => {
    const p = await platform();
    const events = Array.from({ length: 4 }, () => placed('ord-kept'));
    const published = await p.publisher.publishBatch(events);
    const { partition } = published[0]!;
    const stored = new Map<number, number>([[partition, Number(published[2]!.offset)]]);
    const handler = recording();
    const positionalHandler: ConsumerLoopHandler = {
      ...handler,
      apply(run) {
        handler.apply(run);
        stored.set(run.partition, run.nextOffset);
      },
    };
    const { loop, clientId } = p.loop({ handler: positionalHandler, positions: (topic, at) => (topic === TOPIC ? stored.get(at) : undefined) });
    await loop.start();
    await until(() => stored.get(partition) === Number(published[3]!.offset) + 1);

    expect(handler.ids).toEqual([events[2]!.id, events[3]!.id]);
    expect(loop.status().partitions.find((status) => status.partition === partition)).toMatchObject({ nextOffset: Number(published[3]!.offset) + 1, lag: 0 });
    await loop.stop();
    expect(p.requestsOf(clientId, 'OffsetCommit')).toBe(0);
    expect((await p.committed(loop.groupId))[partition]).toBe(-1);
  });

  it('refuses impossible settings', () => {
    const kafka: Kafka = kafkaFor('127.0.0.1:1');
    const codec = new EventCodec({ registry: new RegistryClient({ url: 'http://127.0.0.1:1' }) });
    const base = { kafka, codec, groupId: 'g', topics: [TOPIC], handler: recording() };
    expect(() => new ConsumerLoop({ ...base, topics: [] })).toThrow(/no topics/);
    expect(() => new ConsumerLoop({ ...base, retry: { attempts: 0 } })).toThrow(/retry\.attempts/);
    expect(() => new ConsumerLoop({ ...base, recordsPerTransaction: 0 })).toThrow(/recordsPerTransaction/);
    expect(() => new ConsumerLoop({ ...base, partitionsInFlight: 1.5 })).toThrow(/partitionsInFlight/);
    expect(() => new ConsumerLoop({ ...base, commitIntervalMs: 0 })).toThrow(/commitIntervalMs/);
  });
});
