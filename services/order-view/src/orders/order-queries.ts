/**
 * Reads of the `orders` read model, as the API shows them. Each is a synchronous function of a connection,
 * run through `projector.read(db => ...)` on whichever file is live (statements are `prepared` per
 * connection: a rebuild's swap changes the connection). Results are plain arrays and objects, never
 * iterators, since the connection may be closed by the next swap.
 *
 * Only placed orders are shown: a row whose OrderPlaced has not been applied yet (its other events came
 * first) exists in the model but not in the API, so a client never sees an order without its customer,
 * total or placement time.
 */
import { prepared, type SqliteDatabase } from '@shoal/projections';
import { ORDER_STATUSES, type OrderStatus } from './orders-projection.js';

interface OrderRow {
  order_id: string;
  customer_id: string;
  status: OrderStatus;
  total_amount: number;
  currency: string;
  placed_at: number;
  updated_at: number;
  cancel_reason: string | null;
  cancel_detail: string | null;
  payment_id: string | null;
  shipment_id: string | null;
  tracking_number: string | null;
  correlation_id: string;
}

export interface OrderSummary {
  orderId: string;
  status: OrderStatus;
  customerId: string;
  total: { amount: number; currency: string };
  placedAt: string;
  updatedAt: string;
  correlationId: string;
  cancellation?: { reason: string; detail: string };
  paymentId?: string;
  shipmentId?: string;
  trackingNumber?: string;
}

export interface TimelineEntry {
  type: string;
  source: string;
  time: string;
  id: string;
}

export interface OrderDetail extends OrderSummary {
  timeline: TimelineEntry[];
}

export interface OrderFilter {
  status?: OrderStatus;
  customerId?: string;
  /** Order id cursor: only orders whose id sorts after it. */
  after?: string;
  limit: number;
}

export interface OrderPage {
  items: OrderSummary[];
  /** The cursor of the next page, when there is one. */
  next?: string;
}

export interface OrderStats {
  orders: number;
  byStatus: Record<OrderStatus, number>;
  revenue: { currency: string; confirmedAmount: number }[];
  events: number;
}

const columns =
  'order_id, customer_id, status, total_amount, currency, placed_at, updated_at, cancel_reason, cancel_detail, payment_id, shipment_id, tracking_number, correlation_id';
const orderRow = prepared<[string], OrderRow>(`SELECT ${columns} FROM orders WHERE order_id = ? AND placed_at IS NOT NULL`);
const timelineRows = prepared<[string], { event_id: string; type: string; source: string; time: number }>(
  'SELECT event_id, type, source, time FROM timeline WHERE order_id = ? ORDER BY time, event_id',
);
const orderRows = prepared<[{ status: string | null; customerId: string | null; after: string; limit: number }], OrderRow>(
  `SELECT ${columns} FROM orders
   WHERE placed_at IS NOT NULL AND order_id > @after
     AND (@status IS NULL OR status = @status) AND (@customerId IS NULL OR customer_id = @customerId)
   ORDER BY order_id LIMIT @limit`,
);
const statusCounts = prepared<[], { status: OrderStatus; n: number }>('SELECT status, COUNT(*) AS n FROM orders WHERE placed_at IS NOT NULL GROUP BY status');
/** Confirmed revenue: orders confirmed and not cancelled since (a cancelled order's payment is refunded). */
const confirmedRevenue = prepared<[], { currency: string; amount: number }>(
  `SELECT currency, SUM(total_amount) AS amount FROM orders
   WHERE placed_at IS NOT NULL AND status IN ('CONFIRMED', 'SHIPPED') GROUP BY currency ORDER BY currency`,
);
const eventCount = prepared<[], { n: number }>('SELECT COUNT(*) AS n FROM timeline');

export function findOrder(db: SqliteDatabase, orderId: string): OrderDetail | undefined {
  const row = orderRow(db).get(orderId);
  if (row === undefined) return undefined;
  const timeline = timelineRows(db)
    .all(orderId)
    .map((entry) => ({ type: entry.type, source: entry.source, time: new Date(entry.time).toISOString(), id: entry.event_id }));
  return { ...summaryOf(row), timeline };
}

export function listOrders(db: SqliteDatabase, filter: OrderFilter): OrderPage {
  const rows = orderRows(db).all({ status: filter.status ?? null, customerId: filter.customerId ?? null, after: filter.after ?? '', limit: filter.limit + 1 });
  const items = rows.slice(0, filter.limit).map(summaryOf);
  return rows.length > filter.limit ? { items, next: items[items.length - 1]!.orderId } : { items };
}

export function orderStats(db: SqliteDatabase): OrderStats {
  const byStatus = Object.fromEntries(ORDER_STATUSES.map((status) => [status, 0])) as Record<OrderStatus, number>;
  let orders = 0;
  for (const { status, n } of statusCounts(db).all()) {
    byStatus[status] = n;
    orders += n;
  }
  return {
    orders,
    byStatus,
    revenue: confirmedRevenue(db).all().map(({ currency, amount }) => ({ currency, confirmedAmount: amount })),
    events: eventCount(db).get()!.n,
  };
}

function summaryOf(row: OrderRow): OrderSummary {
  return {
    orderId: row.order_id,
    status: row.status,
    customerId: row.customer_id,
    total: { amount: row.total_amount, currency: row.currency },
    placedAt: new Date(row.placed_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
    correlationId: row.correlation_id,
    ...(row.cancel_reason === null ? {} : { cancellation: { reason: row.cancel_reason, detail: row.cancel_detail ?? '' } }),
    ...(row.payment_id === null ? {} : { paymentId: row.payment_id }),
    ...(row.shipment_id === null ? {} : { shipmentId: row.shipment_id }),
    ...(row.tracking_number === null ? {} : { trackingNumber: row.tracking_number }),
  };
}
