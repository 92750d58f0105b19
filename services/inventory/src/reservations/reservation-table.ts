/**
 * The `reservations` table: one row per order inventory has decided on, whatever the outcome. The row is
 * what makes the reactions safe to meet twice or in an unexpected order: an order is reserved at most once,
 * and only a RESERVED row can be released, once. Built on the executor it is given (`tx.sql` in a handler),
 * through the query builder, so it runs unchanged on SQLite and PostgreSQL.
 */
import { queryBuilder, type SqlExecutor } from '@shoal/store';
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

export class ReservationTable {
  private readonly db;

  constructor(sql: SqlExecutor) {
    this.db = queryBuilder<InventoryTables>(sql);
  }

  async get(orderId: string): Promise<Reservation | undefined> {
    const row = await this.db.selectFrom('reservations').selectAll().where('order_id', '=', orderId).executeTakeFirst();
    return row === undefined ? undefined : reservationOf(row);
  }

  async insert(reservation: Pick<Reservation, 'orderId' | 'customerId' | 'status' | 'lines' | 'reason' | 'createdAt'>): Promise<void> {
    const { orderId, customerId, status, lines, reason, createdAt } = reservation;
    await this.db
      .insertInto('reservations')
      .values({ order_id: orderId, customer_id: customerId, status, lines: JSON.stringify(lines), reason, created_at: createdAt, released_at: null })
      .execute();
  }

  async markReleased(orderId: string, reason: string, now: number): Promise<void> {
    await this.db
      .updateTable('reservations')
      .set({ status: 'RELEASED', reason, released_at: now })
      .where('order_id', '=', orderId)
      .where('status', '=', 'RESERVED')
      .execute();
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
