/**
 * The projection and events the projections tests replay: OrderPlaced events whose `placedAt` carries a
 * sequence number, counted per order. Every row holds the number of events, the sum of their sequence
 * numbers and the last one, so a double apply, a skip or a reordering within a key changes the model.
 * No vitest here: the crash tests' child process (projector-process.ts) loads it too.
 */
import { createEvent, type ShoalEvent } from '@shoal/contract';
import { type Publisher } from '@shoal/transport';
import { defineProjection, type ModelConnection, type Projection, type ProjectionContext } from '../projection.js';

export interface OrderRow {
  order_id: string;
  events: number;
  seq_sum: number;
  last_seq: number;
}

/** The projection's tables, as Kysely sees them. */
export interface OrderTables {
  order_events: OrderRow & { customer_id?: string };
}

export interface OrderProjectionOptions {
  name?: string;
  version?: number;
  /** Called inside the handler with the number of events this projection object applied (the crash tests' hook). */
  onApply?: (applied: number, context: ProjectionContext) => void;
  /** The handler throws on the event with this sequence number. */
  failOn?: number;
}

/** Counts OrderPlaced events per order (version 2 and later also keep the customer). */
export function orderProjection(options: OrderProjectionOptions = {}): Projection {
  const version = options.version ?? 1;
  const count =
    'INSERT INTO order_events (order_id, events, seq_sum, last_seq) VALUES (?, 1, ?, ?) ON CONFLICT (order_id) DO UPDATE SET events = order_events.events + 1, seq_sum = order_events.seq_sum + excluded.seq_sum, last_seq = excluded.last_seq';
  const countWithCustomer =
    'INSERT INTO order_events (order_id, events, seq_sum, last_seq, customer_id) VALUES (?, 1, ?, ?, ?) ON CONFLICT (order_id) DO UPDATE SET events = order_events.events + 1, seq_sum = order_events.seq_sum + excluded.seq_sum, last_seq = excluded.last_seq';
  let applied = 0;
  return defineProjection<OrderTables>({
    name: options.name ?? 'order-counts',
    version,
    topics: ['orders.order'],
    async migrate({ db }) {
      let table = db.schema
        .createTable('order_events')
        .addColumn('order_id', 'text', (column) => column.primaryKey())
        .addColumn('events', 'integer', (column) => column.notNull())
        .addColumn('seq_sum', 'bigint', (column) => column.notNull())
        .addColumn('last_seq', 'integer', (column) => column.notNull());
      if (version >= 2) table = table.addColumn('customer_id', 'text', (column) => column.notNull());
      await table.execute();
    },
    handlers: {
      // The raw executor: synchronous on SQLite, the hot path of the crash and rebuild tests.
      'shoal.orders.OrderPlaced': (event, { sql }, context) => {
        const { orderId, placedAt, customerId } = event.data;
        if (placedAt === options.failOn) throw new Error(`refusing event ${placedAt}`);
        const written = version >= 2 ? sql.run(countWithCustomer, [orderId, placedAt, placedAt, customerId]) : sql.run(count, [orderId, placedAt, placedAt]);
        const done = () => {
          applied += 1;
          options.onApply?.(applied, context);
        };
        if (written instanceof Promise) return written.then(done);
        done();
      },
    },
  });
}

/** The model's rows, ordered by order id. */
export function orderRows({ db }: ModelConnection<OrderTables>): Promise<OrderRow[]> {
  return db.selectFrom('order_events').select(['order_id', 'events', 'seq_sum', 'last_seq']).orderBy('order_id').execute();
}

export function orderIdOf(seq: number, keys: number): string {
  return `ord-${String(seq % keys).padStart(4, '0')}`;
}

/** OrderPlaced number `seq`, of order `orderIdOf(seq, keys)`, as orders emits it (3 lines, an address). */
export function orderPlaced(seq: number, keys: number): ShoalEvent<'shoal.orders.OrderPlaced'> {
  const orderId = orderIdOf(seq, keys);
  const lines = [1, 2, 3].map((n) => ({ sku: `SKU-${n}0042-BLUE`, quantity: n, unitPrice: { amount: 1999 * n, currency: 'EUR' } }));
  return createEvent(
    'shoal.orders.OrderPlaced',
    {
      orderId,
      customerId: `cus-${seq % 7}`,
      lines,
      total: { amount: lines.reduce((sum, line) => sum + line.quantity * line.unitPrice.amount, 0), currency: 'EUR' },
      shippingAddress: { line1: '12 rue de la Paix', line2: null, city: 'Paris', postalCode: '75002', country: 'FR' },
      placedAt: seq,
    },
    { source: '/shoal/orders', subject: orderId },
  );
}

export interface PublishedOrder {
  seq: number;
  partition: number;
  offset: number;
}

/** Publishes OrderPlaced events with sequence numbers [from, from + count), in batches; says where each landed. */
export async function publishOrders(publisher: Publisher, from: number, count: number, keys = 100): Promise<PublishedOrder[]> {
  const published: PublishedOrder[] = [];
  for (let start = from; start < from + count; start += 2000) {
    const batch: ShoalEvent[] = [];
    for (let seq = start; seq < Math.min(from + count, start + 2000); seq += 1) batch.push(orderPlaced(seq, keys));
    const placed = await publisher.publishBatch(batch);
    placed.forEach((where, index) => published.push({ seq: start + index, partition: where.partition, offset: Number(where.offset) }));
  }
  return published;
}

/** The rows the projection must hold once it applied exactly the events of `sequences` (in order), each once. */
export function expectedRows(published: readonly (number | PublishedOrder)[], keys = 100): OrderRow[] {
  const rows = new Map<string, OrderRow>();
  for (const entry of published) {
    const seq = typeof entry === 'number' ? entry : entry.seq;
    const orderId = orderIdOf(seq, keys);
    const row = rows.get(orderId) ?? { order_id: orderId, events: 0, seq_sum: 0, last_seq: 0 };
    rows.set(orderId, { order_id: orderId, events: row.events + 1, seq_sum: row.seq_sum + seq, last_seq: seq });
  }
  return [...rows.values()].sort((a, b) => (a.order_id < b.order_id ? -1 : 1));
}
