import type { Kafka } from 'kafkajs';
import { describe, expect, it, onTestFinished } from 'vitest';
import { isShoalError, ShoalError } from '@shoal/core';
import { kafkaFor, startTestBroker } from '@shoal/broker/testing';
import { connected, eventually, uniqueName } from '@shoal/testing';
import type { CloudEvent, ShoalEvent } from '@shoal/contract';
import { createEvent } from '@shoal/contract';
import { EventCodec } from '@shoal/contract';
import { orderPlacedData } from '@shoal/contract/testing';
import { registryWithCatalog, type RegisteredRegistry } from '@shoal/contract/testing';
import type { OrderConfirmed, ShoalEventType } from '@shoal/contract';
import { Publisher } from './publisher.js';
import type { MessageContext } from './record-context.js';
import { Subscriber, type SubscriberOptions } from './subscriber.js';

interface Platform {
  kafka: Kafka;
  registry: RegisteredRegistry;
  codec: EventCodec;
  publisher: Publisher;
}

async function platform(): Promise<Platform> {
  const broker = await startTestBroker();
  const registry = await registryWithCatalog();
  const kafka = kafkaFor(broker.bootstrap);
  const codec = new EventCodec({ registry: registry.client, catalog: registry.catalog });
  const publisher = await connected(new Publisher({ kafka, codec }));
  return { kafka, registry, codec, publisher };
}

function subscriber(p: Platform, options: Partial<SubscriberOptions> = {}): Subscriber {
  const created = new Subscriber({
    kafka: p.kafka,
    codec: p.codec,
    groupId: uniqueName('group'),
    topics: ['orders.order'],
    fromBeginning: true,
    consumer: { maxWaitTimeInMs: 100 },
    ...options,
  } as SubscriberOptions);
  onTestFinished(() => created.stop());
  return created;
}

const source = '/shoal/orders';

function placed(orderId: string): ShoalEvent<'shoal.orders.OrderPlaced'> {
  return createEvent('shoal.orders.OrderPlaced', orderPlacedData({ orderId }), { source, subject: orderId });
}

function confirmed(cause: CloudEvent<{ orderId: string }>): ShoalEvent<'shoal.orders.OrderConfirmed'> {
  const data: OrderConfirmed = { orderId: cause.data.orderId, customerId: 'cus-1', paymentId: `pay-${cause.data.orderId}`, total: { amount: 3500, currency: 'EUR' }, confirmedAt: 1 };
  return createEvent('shoal.orders.OrderConfirmed', data, { source, subject: cause.data.orderId, causedBy: cause });
}

function shipped(orderId: string): ShoalEvent<'shoal.orders.OrderShipped'> {
  return createEvent('shoal.orders.OrderShipped', { orderId, customerId: 'cus-1', shipmentId: 's', trackingNumber: 't', shippedAt: 2 }, { source, subject: orderId });
}

describe('Publisher -> broker -> Subscriber', () => {
  it('delivers typed events in order per key, where publishBatch said, skipping and counting types without a handler', async () => {
    const p = await platform();
    const orders = ['ord-a', 'ord-b', 'ord-c', 'ord-d'];
    const batch: ShoalEvent[] = [];
    for (const orderId of orders) batch.push(placed(orderId));
    for (const event of [...batch]) batch.push(confirmed(event as ShoalEvent<'shoal.orders.OrderPlaced'>));
    for (const orderId of orders) batch.push(shipped(orderId));
    const published = await p.publisher.publishBatch(batch);
    expect(published.map((entry) => entry.id)).toEqual(batch.map((event) => event.id));
    expect(new Set(published.map((entry) => `${entry.partition}/${entry.offset}`)).size).toBe(batch.length);
    const [single] = await p.publisher.publish(placed('ord-e'));
    // A type the catalog does not know, written by a tool, on the same topic.
    await p.registry.client.register('orders.order-tools.Ping', { schema: '{"type":"record","name":"Ping","namespace":"tools","fields":[]}' }, 'BACKWARD');
    await p.publisher.publishUntyped({ specversion: '1.0', id: 'ping-1', source: '/tools', type: 'tools.Ping', partitionkey: 'ord-a', data: {} }, { topic: 'orders.order' });

    const seen: Array<{ id: string; type: string; orderId: string; at: string }> = [];
    const sub = subscriber(p)
      .on('shoal.orders.OrderPlaced', (event, context) => {
        // Typed: lines and quantities are known to the compiler.
        const units: number = event.data.lines.reduce((sum, line) => sum + line.quantity, 0);
        expect(units).toBe(6);
        seen.push({ id: event.id, type: event.type, orderId: event.data.orderId, at: `${context.partition}/${context.offset}` });
      })
      .on('shoal.orders.OrderConfirmed', (event, context) => {
        const paymentId: string = event.data.paymentId;
        seen.push({ id: event.id, type: event.type, orderId: paymentId.replace('pay-', ''), at: `${context.partition}/${context.offset}` });
      });
    await sub.run();
    await eventually(() => seen.length === 9 && sub.stats().skipped === 5, '9 events seen and 5 skipped');

    for (const orderId of orders) {
      expect(seen.filter((entry) => entry.orderId === orderId).map((entry) => entry.type)).toEqual(['shoal.orders.OrderPlaced', 'shoal.orders.OrderConfirmed']);
    }
    const where = new Map([...published, single!].map((entry) => [entry.id, `${entry.partition}/${entry.offset}`]));
    for (const entry of seen) expect(entry.at, entry.type).toBe(where.get(entry.id));
    expect(sub.stats()).toEqual({ handled: 9, skipped: 5, skippedByType: { 'shoal.orders.OrderShipped': 4, 'tools.Ping': 1 }, failed: 0 });
  });

  it('passes a record that cannot be decoded to onError and goes on', async () => {
    const p = await platform();
    const producer = await connected(p.kafka.producer());
    const first = placed('ord-a');
    await p.publisher.publish(first);
    await producer.send({
      topic: 'orders.order',
      messages: [{ key: 'ord-a', value: Buffer.from([9, 9, 9, 9, 9, 9]), headers: { ce_specversion: '1.0', ce_id: 'poison', ce_source: source, ce_type: 'shoal.orders.OrderPlaced' } }],
    });
    const last = placed('ord-a');
    await p.publisher.publish(last);

    const handled: string[] = [];
    const errors: Array<{ error: unknown; context: MessageContext }> = [];
    const sub = subscriber(p, { onError: (error, context) => void errors.push({ error, context }) }).on('shoal.orders.OrderPlaced', (event) => void handled.push(event.id));
    await sub.run();
    await eventually(() => handled.length === 2, '2 events handled');

    expect(handled).toEqual([first.id, last.id]);
    expect(errors).toHaveLength(1);
    expect(isShoalError(errors[0]!.error, 'SHOAL_EVENT_DECODE')).toBe(true);
    expect(errors[0]!.context).toMatchObject({ topic: 'orders.order', key: 'ord-a' });
    expect(sub.stats()).toMatchObject({ handled: 2, failed: 1 });
  });

  it('without onError, stops with the error and leaves the record uncommitted for the next member of the group', async () => {
    const p = await platform();
    const producer = await connected(p.kafka.producer());
    const first = placed('ord-a');
    await p.publisher.publish(first);
    await producer.send({ topic: 'orders.order', messages: [{ key: 'ord-a', value: Buffer.from('{}'), headers: { ce_specversion: '1.0', ce_id: 'poison', ce_source: source, ce_type: 'shoal.orders.OrderPlaced' } }] });

    const logged: string[] = [];
    const groupId = uniqueName('group');
    const handled: string[] = [];
    const sub = subscriber(p, { groupId, logger: { error: (_details, message) => void logged.push(message) } }).on('shoal.orders.OrderPlaced', (event) => void handled.push(event.id));
    await sub.run();
    const stopped = await sub.whenStopped().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(isShoalError(stopped, 'SHOAL_EVENT_DECODE')).toBe(true);
    expect(handled).toEqual([first.id]);
    expect(logged[0]).toMatch(/stops: record orders\.order\/\d+@\d+ failed and no onError took it/);

    const again: string[] = [];
    const next = subscriber(p, { groupId, onError: (error) => void again.push(`error:${(error as ShoalError).code}`) }).on('shoal.orders.OrderPlaced', (event) => void again.push(event.id));
    await next.run();
    await eventually(() => again.length === 1, 'the event again');
    expect(again).toEqual(['error:SHOAL_EVENT_DECODE']);
  });

  it('tries a record again in place after a retriable failure, before the records behind it', async () => {
    const p = await platform();
    const events = [placed('ord-a'), placed('ord-a'), placed('ord-a')];
    await p.publisher.publishBatch(events);
    const attempts: string[] = [];
    let failedOnce = false;
    const sub = subscriber(p).on('shoal.orders.OrderPlaced', (event) => {
      attempts.push(event.id);
      if (event.id === events[1]!.id && !failedOnce) {
        failedOnce = true;
        throw new ShoalError('SHOAL_REGISTRY_UNAVAILABLE', 'the database is busy', { retriable: true });
      }
    });
    await sub.run();
    await eventually(() => attempts.length === 4, '4 attempts');
    expect(attempts).toEqual([events[0]!.id, events[1]!.id, events[1]!.id, events[2]!.id]);
    expect(sub.stats()).toMatchObject({ handled: 3, failed: 0 });
  });

  it('commits what it handled when stopped, so the group resumes after it', async () => {
    const p = await platform();
    const groupId = uniqueName('group');
    const before = [placed('ord-a'), placed('ord-b')];
    await p.publisher.publishBatch(before);
    const firstRun: string[] = [];
    const sub = subscriber(p, { groupId }).on('shoal.orders.OrderPlaced', (event) => void firstRun.push(event.id));
    await sub.run();
    await eventually(() => firstRun.length === 2, '2 events in the first run');
    await sub.stop();
    await expect(sub.whenStopped()).resolves.toBeUndefined();

    const after = placed('ord-c');
    await p.publisher.publish(after);
    const secondRun: string[] = [];
    const next = subscriber(p, { groupId }).on('shoal.orders.OrderPlaced', (event) => void secondRun.push(event.id));
    await next.run();
    await eventually(() => secondRun.length === 1, '1 event in the second run');
    expect(secondRun).toEqual([after.id]);
  });

  it('stops with the error when it cannot start', async () => {
    const broker = await startTestBroker();
    const registry = await registryWithCatalog();
    await broker.close();
    const sub = new Subscriber({
      kafka: kafkaFor(broker.bootstrap, { retry: { retries: 0 } }),
      registry: registry.client,
      catalog: registry.catalog,
      groupId: uniqueName('group'),
      topics: ['orders.order'],
    });
    onTestFinished(() => sub.stop());
    const failure = await sub.run().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(Error);
    await expect(sub.whenStopped()).rejects.toBe(failure);
  });

  it('refuses wrongly shaped events at compile time and at run time', async () => {
    const p = await platform();
    const event = placed('ord-a');
    const wrong = { ...event, data: { ...event.data, lines: [{ sku: 'a', quantity: 'two', unitPrice: event.data.total }] } };
    // @ts-expect-error quantity must be a number: a wrongly shaped event does not compile
    const rejected = p.publisher.publish(wrong);
    await expect(rejected).rejects.toMatchObject({ code: 'SHOAL_EVENT_DATA_INVALID', message: expect.stringContaining('data.lines[0].quantity: expected int, got "two"') });
    // @ts-expect-error the data of one type under the name of another
    void p.publisher.publish({ ...event, type: 'shoal.orders.OrderConfirmed' }).catch(() => undefined);
    const typeOnly: ShoalEventType = 'shoal.orders.OrderPlaced';
    expect(() => subscriber(p).on(typeOnly, () => undefined).on(typeOnly, () => undefined)).toThrow(/already has a handler/);
  });
});
