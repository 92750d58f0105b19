import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { createEvent, type ShoalEvent } from '@shoal/contract';
import type { ProjectionHandler } from '@shoal/projections';
import { queryBuilder } from '@shoal/store';
import { SerialTransactions, SqliteExecutor } from '@shoal/store-sqlite';
import { byTopics, confirmedFlow, customerCancelledFlow, declinedFlow, shippedFlow, topicOf } from '../testing/order-flows.js';
import { findOrder, listOrders, orderStats } from './order-queries.js';
import { ORDER_VIEW_TOPICS, ordersProjection, type OrderViewModel } from './orders-projection.js';

/**
 * The projection's handlers and the queries on an in-memory SQLite database, applied the way the projector
 * applies them (one transaction per event here), in every order of the topics a consumer could see.
 */
interface Model extends OrderViewModel {
  transactions: SerialTransactions;
}

async function model(): Promise<Model> {
  const connection = new Database(':memory:');
  const sql = new SqliteExecutor(connection);
  const db: Model = { db: queryBuilder(sql), sql, transactions: new SerialTransactions(connection) };
  await ordersProjection.migrate(db);
  return db;
}

async function apply(db: Model, events: readonly ShoalEvent[]): Promise<void> {
  let offset = 0;
  for (const event of events) {
    const handler = ordersProjection.handlers[event.type] as ProjectionHandler<ShoalEvent>;
    const context = { topic: topicOf(event), partition: 0, offset: String(offset++), key: event.partitionkey ?? null, timestamp: '0' };
    await db.transactions.run(() => handler(event, db, context));
  }
}

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, index) => permutations([...items.slice(0, index), ...items.slice(index + 1)]).map((rest) => [item, ...rest]));
}

const shipped = shippedFlow('o-ship');
const declined = declinedFlow('o-decl');
const cancelled = customerCancelledFlow('o-canc');
const confirmedUsd = confirmedFlow('o-usd', { currency: 'USD' });
const flows = [shipped, declined, cancelled, confirmedUsd];
const allEvents = flows.flatMap((flow) => flow.events);

async function snapshot(db: Model) {
  const orders = [];
  for (const flow of flows) orders.push(await findOrder(db, flow.orderId));
  return { orders, stats: await orderStats(db), list: await (await listOrders(db, { limit: 100 })) };
}

describe('the orders projection', () => {
  it('follows an order through every service: status from orders.order, the rest from whoever tells it', async () => {
    const db = await model();
    await apply(db, allEvents);
    const placed = shipped.events[0]!;
    expect((await findOrder(db, 'o-ship'))).toEqual({
      orderId: 'o-ship',
      status: 'SHIPPED',
      customerId: 'c-o-ship',
      total: { amount: 3000, currency: 'EUR' },
      placedAt: new Date(0).toISOString(),
      updatedAt: shipped.events[shipped.events.length - 1]!.time,
      correlationId: placed.id,
      paymentId: 'p-o-ship',
      shipmentId: 's-o-ship',
      trackingNumber: 'TRK-O-SHIP',
      timeline: shipped.events.map((event) => ({ type: event.type, source: event.source, time: event.time, id: event.id })),
    });
    expect((await findOrder(db, 'o-decl'))).toMatchObject({ status: 'CANCELLED', cancellation: { reason: 'PAYMENT_DECLINED', detail: 'credit limit exceeded' }, paymentId: 'p-o-decl' });
    expect((await findOrder(db, 'o-decl'))).not.toHaveProperty('shipmentId');
    // The customer's cancel started a flow of its own; the order keeps the correlation id of its placement.
    const canc = (await findOrder(db, 'o-canc'))!;
    expect(canc).toMatchObject({ status: 'CANCELLED', cancellation: { reason: 'CUSTOMER_REQUEST' }, shipmentId: 's-o-canc', correlationId: cancelled.events[0]!.id });
    expect(cancelled.events[5]!.correlationid).not.toBe(canc.correlationId);
    expect(canc.timeline.map((entry) => entry.type)).toContain('shoal.shipping.ShipmentCancelled');

    expect((await orderStats(db))).toEqual({
      orders: 4,
      byStatus: { PLACED: 0, CONFIRMED: 1, CANCELLED: 2, SHIPPED: 1 },
      revenue: [
        { currency: 'EUR', confirmedAmount: 3000 },
        { currency: 'USD', confirmedAmount: 3000 },
      ],
      events: allEvents.length,
    });
  });

  it('arrives at the same model whatever the order of the topics', async () => {
    const expected = await (async () => {
      const db = await model();
      await apply(db, allEvents);
      return snapshot(db);
    })();
    const orders = permutations(ORDER_VIEW_TOPICS);
    expect(orders).toHaveLength(720);
    for (const topics of orders) {
      const db = await model();
      await apply(db, byTopics(allEvents, topics));
      expect(await snapshot(db), topics.join(' ')).toEqual(expected);
    }
  });

  it('keeps what other services tell before OrderPlaced, and shows the order only once it is placed', async () => {
    const db = await model();
    const [placed, ...rest] = shipped.events;
    const fromOthers = rest.filter((event) => topicOf(event) !== 'orders.order');
    await apply(db, fromOthers);
    expect((await findOrder(db, 'o-ship'))).toBeUndefined();
    expect((await listOrders(db, { limit: 10 }))).toEqual({ items: [] });
    expect((await orderStats(db))).toMatchObject({ orders: 0, events: fromOthers.length });

    await apply(db, [placed!]);
    expect((await findOrder(db, 'o-ship'))).toMatchObject({ status: 'PLACED', paymentId: 'p-o-ship', shipmentId: 's-o-ship', trackingNumber: 'TRK-O-SHIP' });
    expect((await findOrder(db, 'o-ship'))!.timeline.map((entry) => entry.id)).toEqual([placed!, ...fromOthers].map((event) => event.id));
  });

  it('changes nothing for an event it has already recorded', async () => {
    const db = await model();
    await apply(db, shipped.events);
    const before = await findOrder(db, 'o-ship');
    const confirmed = shipped.events.find((event) => event.type === 'shoal.orders.OrderConfirmed')!;
    await apply(db, [confirmed, shipped.events[0]!]);
    expect((await findOrder(db, 'o-ship'))).toEqual(before);
    expect((await findOrder(db, 'o-ship'))!.status).toBe('SHIPPED');
  });

  it('orders a timeline by event time, then by event id', async () => {
    const db = await model();
    const [placed] = shipped.events;
    const sameTime = (id: string) =>
      createEvent(
        'shoal.notifications.CustomerNotified',
        { notificationId: id, customerId: 'c-o-ship', orderId: 'o-ship', channel: 'EMAIL', template: 't', message: 'm', notifiedAt: 0 },
        { source: '/shoal/notifications', subject: 'c-o-ship', id, time: '2030-01-01T00:00:00.000Z' },
      );
    await apply(db, [sameTime('id-b'), placed!, sameTime('id-a')]);
    expect((await findOrder(db, 'o-ship'))!.timeline.map((entry) => entry.id)).toEqual([placed!.id, 'id-a', 'id-b']);
    expect((await findOrder(db, 'o-ship'))!.updatedAt).toBe('2030-01-01T00:00:00.000Z');
  });

  it('lists placed orders by id, filtered and a page at a time', async () => {
    const db = await model();
    await apply(db, [...allEvents, ...shippedFlow('o-aaa', { customerId: 'c-o-decl' }).events]);
    const page1 = await listOrders(db, { limit: 2 });
    expect(page1.items.map((order) => order.orderId)).toEqual(['o-aaa', 'o-canc']);
    expect(page1.next).toBe('o-canc');
    expect(page1.items[0]).not.toHaveProperty('timeline');
    const page2 = await listOrders(db, { limit: 2, after: page1.next! });
    expect(page2.items.map((order) => order.orderId)).toEqual(['o-decl', 'o-ship']);
    expect((await listOrders(db, { limit: 2, after: page2.next! }))).toEqual({ items: [(await listOrders(db, { limit: 10 })).items[4]] });
    expect((await listOrders(db, { limit: 10, status: 'CANCELLED' })).items.map((order) => order.orderId)).toEqual(['o-canc', 'o-decl']);
    expect((await listOrders(db, { limit: 10, customerId: 'c-o-decl' })).items.map((order) => order.orderId)).toEqual(['o-aaa', 'o-decl']);
    expect((await listOrders(db, { limit: 10, customerId: 'c-o-decl', status: 'SHIPPED' })).items.map((order) => order.orderId)).toEqual(['o-aaa']);
  });
});
