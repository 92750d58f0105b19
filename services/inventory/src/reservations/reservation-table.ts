/**
 * The `reservations` table: one row per order inventory has decided on, whatever the outcome. The row is
 * what makes the reactions safe to meet twice or in an unexpected order: an order is reserved at most once,
 * and only a RESERVED row can be released, once. Statements as in stock-table.ts: written once with the
 * query builder, compiled once per dialect, run on the executor given (`tx.sql` in a handler).
 */
import { compiledQuery, type Kysely, type Params, type SqlExecutor } from '@shoal/store';
import type { InventoryTables, ReservationRow, ReservationStatus } from '../schema.js';
import type { SkuQuantity } from './reservation-decision.js';

export type { ReservationStatus } from '../schema.js';

export interface Reservation {
  orderId: string;
  customerId: string;
  status: ReservationStatus;
  /** The quantities per sku the order asked for: held while RESERVED, given back once RELEASED, never taken when FAILED. */
  lines: SkuQuantity[];
  /** FAILED: which skus were short; RELEASED: the event type that released it. */
  reason: string | null;
  createdAt: number;
  releasedAt: number | null;
}

type Db = Kysely<InventoryTables>;

const selectOne = compiledQuery((db: Db, p: Params<{ orderId: string }>) => db.selectFrom('reservations').selectAll().where('order_id', '=', p.orderId));

const insertOne = compiledQuery((db: Db, p: Params<Omit<ReservationRow, 'released_at'>>) =>
  db.insertInto('reservations').values({
    order_id: p.order_id,
    customer_id: p.customer_id,
    status: p.status,
    lines: p.lines,
    reason: p.reason,
    created_at: p.created_at,
    released_at: null,
  }),
);

const updateReleased = compiledQuery((db: Db, p: Params<{ orderId: string; reason: string; now: number }>) =>
  db.updateTable('reservations').set({ status: 'RELEASED', reason: p.reason, released_at: p.now }).where('order_id', '=', p.orderId).where('status', '=', 'RESERVED'),
);

export class ReservationTable {
  constructor(private readonly sql: SqlExecutor) {}

  async get(orderId: string): Promise<Reservation | undefined> {
    const row = await selectOne.get(this.sql, { orderId });
    return row === undefined ? undefined : reservationOf(row);
  }

  async insert(reservation: Pick<Reservation, 'orderId' | 'customerId' | 'status' | 'lines' | 'reason' | 'createdAt'>): Promise<void> {
    const { orderId, customerId, status, lines, reason, createdAt } = reservation;
    await insertOne.run(this.sql, { order_id: orderId, customer_id: customerId, status, lines: JSON.stringify(lines), reason, created_at: createdAt });
  }

  async markReleased(orderId: string, reason: string, now: number): Promise<void> {
    await updateReleased.run(this.sql, { orderId, reason, now });
  }
}

function reservationOf(row: ReservationRow): Reservation {
  return {
    orderId: row.order_id,
    customerId: row.customer_id,
    status: row.status,
    lines: JSON.parse(row.lines) as SkuQuantity[],
    reason: row.reason,
    createdAt: row.created_at,
    releasedAt: row.released_at,
  };
}
