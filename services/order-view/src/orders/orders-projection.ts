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
import { defineProjection, prepared, type ProjectionContext, type SqliteDatabase } from '@shoal/projections';

export const ORDER_VIEW_TOPICS = ['orders.order', 'inventory.reservation', 'payments.payment', 'shipping.shipment', 'notifications.notification', 'loyalty.points'] as const;

export const ORDER_STATUSES = ['PLACED', 'CONFIRMED', 'CANCELLED', 'SHIPPED'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

function migrate(db: SqliteDatabase): void {
  db.exec(`
    CREATE TABLE orders (
      order_id        TEXT PRIMARY KEY,
      customer_id     TEXT,
      status          TEXT,
      total_amount    INTEGER,
      currency        TEXT,
      placed_at       INTEGER,
      updated_at      INTEGER NOT NULL,
      cancel_reason   TEXT,
      cancel_detail   TEXT,
      payment_id      TEXT,
      shipment_id     TEXT,
      tracking_number TEXT,
      correlation_id  TEXT
    );
    CREATE INDEX orders_by_status ON orders (status, order_id) WHERE placed_at IS NOT NULL;
    CREATE INDEX orders_by_customer ON orders (customer_id, order_id) WHERE placed_at IS NOT NULL;
    CREATE TABLE timeline (
      order_id    TEXT NOT NULL,
      event_id    TEXT NOT NULL UNIQUE,
      type        TEXT NOT NULL,
      source      TEXT NOT NULL,
      time        INTEGER NOT NULL,
      topic       TEXT NOT NULL,
      partition   INTEGER NOT NULL,
      "offset"    TEXT NOT NULL
    );
    CREATE INDEX timeline_by_order ON timeline (order_id, time, event_id);
  `);
}

/** What an event tells about its order, besides its place in the timeline; absent = not carried. */
interface OrderFacts {
  customerId?: string;
  paymentId?: string;
  shipmentId?: string;
  trackingNumber?: string;
  total?: { amount: number; currency: string };
}

const recordEvent = prepared<[string, string, string, string, number, string, number, string]>(
  'INSERT INTO timeline (order_id, event_id, type, source, time, topic, partition, "offset") VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING',
);
const touchOrder = prepared<[string, number]>(
  'INSERT INTO orders (order_id, updated_at) VALUES (?, ?) ON CONFLICT (order_id) DO UPDATE SET updated_at = MAX(updated_at, excluded.updated_at)',
);
const fillFacts = prepared<[{ orderId: string; customerId: string | null; paymentId: string | null; shipmentId: string | null; trackingNumber: string | null; amount: number | null; currency: string | null }]>(
  `UPDATE orders SET
     customer_id = COALESCE(customer_id, @customerId),
     payment_id = COALESCE(payment_id, @paymentId),
     shipment_id = COALESCE(shipment_id, @shipmentId),
     tracking_number = COALESCE(tracking_number, @trackingNumber),
     total_amount = COALESCE(total_amount, @amount),
     currency = COALESCE(currency, @currency)
   WHERE order_id = @orderId`,
);
const markPlaced = prepared<[{ orderId: string; customerId: string; amount: number; currency: string; placedAt: number; correlationId: string }]>(
  `UPDATE orders SET customer_id = @customerId, total_amount = @amount, currency = @currency, placed_at = @placedAt,
     correlation_id = @correlationId, status = COALESCE(status, 'PLACED')
   WHERE order_id = @orderId`,
);
const setStatus = prepared<[OrderStatus, string]>('UPDATE orders SET status = ? WHERE order_id = ?');
const setCancellation = prepared<[string, string, string]>('UPDATE orders SET cancel_reason = ?, cancel_detail = ? WHERE order_id = ?');

/**
 * Puts the event in its order's timeline and fills what it carries. False when the event was already
 * recorded (a redelivery under another offset): the caller then changes nothing either.
 */
function record(db: SqliteDatabase, event: ShoalEvent, context: ProjectionContext, orderId: string, facts: OrderFacts): boolean {
  // Shoal's events always have a time; the record's timestamp (also in the log, so a rebuild agrees) stands in otherwise.
  const time = event.time === undefined ? Number(context.timestamp) : Date.parse(event.time);
  const recorded = recordEvent(db).run(orderId, event.id, event.type, event.source, time, context.topic, context.partition, context.offset);
  if (recorded.changes === 0) return false;
  touchOrder(db).run(orderId, time);
  fillFacts(db).run({
    orderId,
    customerId: facts.customerId ?? null,
    paymentId: facts.paymentId ?? null,
    shipmentId: facts.shipmentId ?? null,
    trackingNumber: facts.trackingNumber ?? null,
    amount: facts.total?.amount ?? null,
    currency: facts.total?.currency ?? null,
  });
  return true;
}

type Handler<T extends ShoalEventType> = (event: ShoalEvent<T>, db: SqliteDatabase, context: ProjectionContext) => void;

/** A handler that only records the event and the facts `factsOf` finds in its data. */
function recording<T extends ShoalEventType>(factsOf: (data: ShoalEvent<T>['data']) => OrderFacts & { orderId: string }): Handler<T> {
  return (event, db, context) => {
    const { orderId, ...facts } = factsOf(event.data);
    record(db, event as ShoalEvent, context, orderId, facts);
  };
}

export const ordersProjection = defineProjection({
  name: 'orders',
  // 2: the loyalty service's points join the timeline.
  version: 2,
  topics: ORDER_VIEW_TOPICS,
  migrate,
  handlers: {
    'shoal.orders.OrderPlaced': (event, db, context) => {
      const { orderId, customerId, total, placedAt } = event.data;
      if (!record(db, event, context, orderId, { customerId, total })) return;
      markPlaced(db).run({ orderId, customerId, amount: total.amount, currency: total.currency, placedAt, correlationId: event.correlationid ?? event.id });
    },
    'shoal.orders.OrderConfirmed': (event, db, context) => {
      const { orderId, customerId, paymentId, total } = event.data;
      if (!record(db, event, context, orderId, { customerId, paymentId, total })) return;
      setStatus(db).run('CONFIRMED', orderId);
    },
    'shoal.orders.OrderCancelled': (event, db, context) => {
      const { orderId, customerId, reason, detail } = event.data;
      if (!record(db, event, context, orderId, { customerId })) return;
      setStatus(db).run('CANCELLED', orderId);
      setCancellation(db).run(reason, detail, orderId);
    },
    'shoal.orders.OrderShipped': (event, db, context) => {
      const { orderId, customerId, shipmentId, trackingNumber } = event.data;
      if (!record(db, event, context, orderId, { customerId, shipmentId, trackingNumber })) return;
      setStatus(db).run('SHIPPED', orderId);
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
