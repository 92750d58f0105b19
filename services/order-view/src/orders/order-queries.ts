/**
 * Reads of the `orders` read model, as the API shows them: Kysely queries on the model's connection, run
 * through `projector.read(model => ...)` on whichever model is live (a SQLite file, or the schema the
 * pointer names on PostgreSQL), each read in a transaction of its own. Results are plain arrays and
 * objects, never iterators.
 *
 * Only placed orders are shown: a row whose OrderPlaced has not been applied yet (its other events came
 * first) exists in the model but not in the API, so a client never sees an order without its customer,
 * total or placement time.
 */
import { ORDER_STATUSES, type OrderStatus, type OrderViewModel } from './orders-projection.js';

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

const columns = [
  'order_id',
  'customer_id',
  'status',
  'total_amount',
  'currency',
  'placed_at',
  'updated_at',
  'cancel_reason',
  'cancel_detail',
  'payment_id',
  'shipment_id',
  'tracking_number',
  'correlation_id',
] as const;

export async function findOrder({ db }: OrderViewModel, orderId: string): Promise<OrderDetail | undefined> {
  const row = await db.selectFrom('orders').select(columns).where('order_id', '=', orderId).where('placed_at', 'is not', null).executeTakeFirst();
  if (row === undefined) return undefined;
  const timeline = await db.selectFrom('timeline').select(['event_id', 'type', 'source', 'time']).where('order_id', '=', orderId).orderBy('time').orderBy('event_id').execute();
  return {
    ...summaryOf(row as OrderRow),
    timeline: timeline.map((entry) => ({ type: entry.type, source: entry.source, time: new Date(Number(entry.time)).toISOString(), id: entry.event_id })),
  };
}

export async function listOrders({ db }: OrderViewModel, filter: OrderFilter): Promise<OrderPage> {
  const rows = await db
    .selectFrom('orders')
    .select(columns)
    .where('placed_at', 'is not', null)
    .where('order_id', '>', filter.after ?? '')
    .$if(filter.status !== undefined, (query) => query.where('status', '=', filter.status!))
    .$if(filter.customerId !== undefined, (query) => query.where('customer_id', '=', filter.customerId!))
    .orderBy('order_id')
    .limit(filter.limit + 1)
    .execute();
  const items = rows.slice(0, filter.limit).map((row) => summaryOf(row as OrderRow));
  return rows.length > filter.limit ? { items, next: items[items.length - 1]!.orderId } : { items };
}

export async function orderStats({ db }: OrderViewModel): Promise<OrderStats> {
  const byStatus = Object.fromEntries(ORDER_STATUSES.map((status) => [status, 0])) as Record<OrderStatus, number>;
  let orders = 0;
  const counts = await db
    .selectFrom('orders')
    .select((eb) => ['status', eb.fn.countAll<number>().as('n')])
    .where('placed_at', 'is not', null)
    .groupBy('status')
    .execute();
  for (const { status, n } of counts) {
    byStatus[status as OrderStatus] = Number(n);
    orders += Number(n);
  }
  // Confirmed revenue: orders confirmed and not cancelled since (a cancelled order's payment is refunded).
  const revenue = await db
    .selectFrom('orders')
    .select((eb) => ['currency', eb.fn.sum<number>('total_amount').as('amount')])
    .where('placed_at', 'is not', null)
    .where('status', 'in', ['CONFIRMED', 'SHIPPED'])
    .groupBy('currency')
    .orderBy('currency')
    .execute();
  const events = await db
    .selectFrom('timeline')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return {
    orders,
    byStatus,
    revenue: revenue.map(({ currency, amount }) => ({ currency: currency!, confirmedAmount: Number(amount) })),
    events: Number(events.n),
  };
}

function summaryOf(row: OrderRow): OrderSummary {
  return {
    orderId: row.order_id,
    status: row.status,
    customerId: row.customer_id,
    total: { amount: Number(row.total_amount), currency: row.currency },
    placedAt: new Date(Number(row.placed_at)).toISOString(),
    updatedAt: new Date(Number(row.updated_at)).toISOString(),
    correlationId: row.correlation_id,
    ...(row.cancel_reason === null ? {} : { cancellation: { reason: row.cancel_reason, detail: row.cancel_detail ?? '' } }),
    ...(row.payment_id === null ? {} : { paymentId: row.payment_id }),
    ...(row.shipment_id === null ? {} : { shipmentId: row.shipment_id }),
    ...(row.tracking_number === null ? {} : { trackingNumber: row.tracking_number }),
  };
}
