/**
 * The `orders` projection: every order with its status and its whole timeline across the services, built
 * from every topic of the choreography.
 *
 *   orders    one row per order id that any event mentioned
 *   timeline  one row per event (event_id UNIQUE), with where it was read (topic, partition, offset)
 *
 * Status follows orders.order alone: OrderPlaced -> PLACED, OrderConfirmed -> CONFIRMED, OrderCancelled ->
 * CANCELLED, OrderShipped -> SHIPPED. Those four are one aggregate's events under one key, so they arrive in
 * the order orders committed them and each can simply set the status. The other topics tell their part
 * (payment, shipment, tracking number) whenever they arrive: there is no order between topics, and a
 * StockReserved or even a ShipmentScheduled may be applied before the OrderPlaced of its order (the
 * projector reads the five topics side by side, and a rebuild reads them at other relative speeds than the
 * live run). So every handler upserts the row and fills only the columns its event carries, and nothing is
 * derived from the order of arrival:
 *
 *   - `placed_at` is set by OrderPlaced only; an order is visible through the API once it is (order-queries.ts).
 *     Before that, the row and its timeline wait for it.
 *   - `updated_at` is the latest event time of any of the order's events: MAX, whatever the arrival order.
 *   - `correlation_id` is OrderPlaced's: a customer's cancel starts a flow of its own (another correlation id),
 *     whose events must not win or lose by arriving first.
 *   - the ids other events carry (customer, payment, shipment, tracking number) are the same in every event
 *     of one order, so the first one that arrives fills them; OrderPlaced's total is authoritative.
 *
 * Handlers are deterministic (times come from the events, never from a clock), so a rebuild from the log
 * arrives at the same model as the live run, whatever the interleaving of topics. A redelivered event (the
 * same id at another offset) finds its timeline row and changes nothing.
 */
import type { ShoalEvent, ShoalEventType } from '@shoal/contract';
import { sql } from 'kysely';
import { defineProjection, type ModelConnection, type ProjectionContext } from '@shoal/projections';

export const ORDER_VIEW_TOPICS = ['orders.order', 'inventory.reservation', 'payments.payment', 'shipping.shipment', 'notifications.notification', 'loyalty.points'] as const;

export const ORDER_STATUSES = ['PLACED', 'CONFIRMED', 'CANCELLED', 'SHIPPED'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** The model's tables, as Kysely sees them (times are milliseconds since the epoch, BIGINT on PostgreSQL). */
export interface OrderViewTables {
  orders: {
    order_id: string;
    customer_id: string | null;
    status: OrderStatus | null;
    total_amount: number | null;
    currency: string | null;
    placed_at: number | null;
    updated_at: number;
    cancel_reason: string | null;
    cancel_detail: string | null;
    payment_id: string | null;
    shipment_id: string | null;
    tracking_number: string | null;
    correlation_id: string | null;
  };
  timeline: {
    order_id: string;
    event_id: string;
    type: string;
    source: string;
    time: number;
    topic: string;
    partition: number;
    offset: string;
  };
}

export type OrderViewModel = ModelConnection<OrderViewTables>;

async function migrate({ db }: OrderViewModel): Promise<void> {
  await db.schema
    .createTable('orders')
    .addColumn('order_id', 'text', (column) => column.primaryKey())
    .addColumn('customer_id', 'text')
    .addColumn('status', 'text')
    .addColumn('total_amount', 'bigint')
    .addColumn('currency', 'text')
    .addColumn('placed_at', 'bigint')
    .addColumn('updated_at', 'bigint', (column) => column.notNull())
    .addColumn('cancel_reason', 'text')
    .addColumn('cancel_detail', 'text')
    .addColumn('payment_id', 'text')
    .addColumn('shipment_id', 'text')
    .addColumn('tracking_number', 'text')
    .addColumn('correlation_id', 'text')
    .execute();
  await db.schema.createIndex('orders_by_status').on('orders').columns(['status', 'order_id']).where(sql.ref('placed_at'), 'is not', null).execute();
  await db.schema.createIndex('orders_by_customer').on('orders').columns(['customer_id', 'order_id']).where(sql.ref('placed_at'), 'is not', null).execute();
  await db.schema
    .createTable('timeline')
    .addColumn('order_id', 'text', (column) => column.notNull())
    .addColumn('event_id', 'text', (column) => column.notNull().unique())
    .addColumn('type', 'text', (column) => column.notNull())
    .addColumn('source', 'text', (column) => column.notNull())
    .addColumn('time', 'bigint', (column) => column.notNull())
    .addColumn('topic', 'text', (column) => column.notNull())
    .addColumn('partition', 'integer', (column) => column.notNull())
    .addColumn('offset', 'text', (column) => column.notNull())
    .execute();
  await db.schema.createIndex('timeline_by_order').on('timeline').columns(['order_id', 'time', 'event_id']).execute();
}

/** What an event tells about its order, besides its place in the timeline; absent = not carried. */
interface OrderFacts {
  customerId?: string;
  paymentId?: string;
  shipmentId?: string;
  trackingNumber?: string;
  total?: { amount: number; currency: string };
}

/**
 * Puts the event in its order's timeline and fills what it carries. False when the event was already
 * recorded (a redelivery under another offset): the caller then changes nothing either.
 */
async function record({ db }: OrderViewModel, event: ShoalEvent, context: ProjectionContext, orderId: string, facts: OrderFacts): Promise<boolean> {
  // Shoal's events always have a time; the record's timestamp (also in the log, so a rebuild agrees) stands in otherwise.
  const time = event.time === undefined ? Number(context.timestamp) : Date.parse(event.time);
  const recorded = await db
    .insertInto('timeline')
    .values({ order_id: orderId, event_id: event.id, type: event.type, source: event.source, time, topic: context.topic, partition: context.partition, offset: context.offset })
    .onConflict((conflict) => conflict.column('event_id').doNothing())
    .executeTakeFirst();
  if (recorded.numInsertedOrUpdatedRows === 0n) return false;
  await db
    .insertInto('orders')
    .values({ order_id: orderId, updated_at: time })
    .onConflict((conflict) =>
      conflict.column('order_id').doUpdateSet((eb) => ({
        // The latest event time, whatever the order of arrival (a CASE: SQLite's MAX and PostgreSQL's GREATEST differ).
        updated_at: eb.case().when('excluded.updated_at', '>', eb.ref('orders.updated_at')).then(eb.ref('excluded.updated_at')).else(eb.ref('orders.updated_at')).end(),
      })),
    )
    .execute();
  await db
    .updateTable('orders')
    .set((eb) => ({
      customer_id: eb.fn.coalesce('customer_id', eb.val(facts.customerId ?? null)),
      payment_id: eb.fn.coalesce('payment_id', eb.val(facts.paymentId ?? null)),
      shipment_id: eb.fn.coalesce('shipment_id', eb.val(facts.shipmentId ?? null)),
      tracking_number: eb.fn.coalesce('tracking_number', eb.val(facts.trackingNumber ?? null)),
      total_amount: eb.fn.coalesce('total_amount', eb.val(facts.total?.amount ?? null)),
      currency: eb.fn.coalesce('currency', eb.val(facts.total?.currency ?? null)),
    }))
    .where('order_id', '=', orderId)
    .execute();
  return true;
}

function setStatus({ db }: OrderViewModel, status: OrderStatus, orderId: string) {
  return db.updateTable('orders').set({ status }).where('order_id', '=', orderId).execute();
}

type Handler<T extends ShoalEventType> = (event: ShoalEvent<T>, model: OrderViewModel, context: ProjectionContext) => Promise<void>;

/** A handler that only records the event and the facts `factsOf` finds in its data. */
function recording<T extends ShoalEventType>(factsOf: (data: ShoalEvent<T>['data']) => OrderFacts & { orderId: string }): Handler<T> {
  return async (event, model, context) => {
    const { orderId, ...facts } = factsOf(event.data);
    await record(model, event as ShoalEvent, context, orderId, facts);
  };
}

export const ordersProjection = defineProjection<OrderViewTables>({
  name: 'orders',
  // 2: the loyalty service's points join the timeline.
  version: 2,
  topics: ORDER_VIEW_TOPICS,
  migrate,
  handlers: {
    'shoal.orders.OrderPlaced': async (event, model, context) => {
      const { orderId, customerId, total, placedAt } = event.data;
      if (!(await record(model, event, context, orderId, { customerId, total }))) return;
      await model.db
        .updateTable('orders')
        .set((eb) => ({
          customer_id: customerId,
          total_amount: total.amount,
          currency: total.currency,
          placed_at: placedAt,
          correlation_id: event.correlationid ?? event.id,
          status: eb.fn.coalesce('status', eb.val<OrderStatus>('PLACED')),
        }))
        .where('order_id', '=', orderId)
        .execute();
    },
    'shoal.orders.OrderConfirmed': async (event, model, context) => {
      const { orderId, customerId, paymentId, total } = event.data;
      if (!(await record(model, event, context, orderId, { customerId, paymentId, total }))) return;
      await setStatus(model, 'CONFIRMED', orderId);
    },
    'shoal.orders.OrderCancelled': async (event, model, context) => {
      const { orderId, customerId, reason, detail } = event.data;
      if (!(await record(model, event, context, orderId, { customerId }))) return;
      await model.db.updateTable('orders').set({ status: 'CANCELLED', cancel_reason: reason, cancel_detail: detail }).where('order_id', '=', orderId).execute();
    },
    'shoal.orders.OrderShipped': async (event, model, context) => {
      const { orderId, customerId, shipmentId, trackingNumber } = event.data;
      if (!(await record(model, event, context, orderId, { customerId, shipmentId, trackingNumber }))) return;
      await setStatus(model, 'SHIPPED', orderId);
    },
    'shoal.inventory.StockReserved': recording(({ orderId, customerId, total }) => ({ orderId, customerId, total })),
    'shoal.inventory.StockReservationFailed': recording(({ orderId, customerId }) => ({ orderId, customerId })),
    'shoal.inventory.StockReleased': recording(({ orderId }) => ({ orderId })),
    'shoal.payments.PaymentAuthorized': recording(({ orderId, customerId, paymentId }) => ({ orderId, customerId, paymentId })),
    'shoal.payments.PaymentDeclined': recording(({ orderId, customerId, paymentId }) => ({ orderId, customerId, paymentId })),
    'shoal.payments.PaymentRefunded': recording(({ orderId, customerId, paymentId }) => ({ orderId, customerId, paymentId })),
    'shoal.shipping.ShipmentScheduled': recording(({ orderId, customerId, shipmentId }) => ({ orderId, customerId, shipmentId })),
    'shoal.shipping.ShipmentDispatched': recording(({ orderId, customerId, shipmentId, trackingNumber }) => ({ orderId, customerId, shipmentId, trackingNumber })),
    'shoal.shipping.ShipmentCancelled': recording(({ orderId, customerId, shipmentId }) => ({ orderId, customerId, shipmentId })),
    'shoal.notifications.CustomerNotified': recording(({ orderId, customerId }) => ({ orderId, customerId })),
    'shoal.loyalty.PointsAwarded': recording(({ orderId, customerId }) => ({ orderId, customerId })),
    'shoal.loyalty.PointsRevoked': recording(({ orderId, customerId }) => ({ orderId, customerId })),
  },
});
