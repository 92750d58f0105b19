/**
 * The `reservations` table: one row per order inventory has decided on, whatever the outcome. The row is
 * what makes the reactions safe to meet twice or in an unexpected order: an order is reserved at most once,
 * and only a RESERVED row can be released, once.
 */
import type { SqliteDatabase } from '@shoal/store-sqlite';
import type { SkuQuantity } from './reservation-decision.js';

export type ReservationStatus = 'RESERVED' | 'RELEASED' | 'FAILED';

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

interface ReservationRow {
  order_id: string;
  customer_id: string;
  status: ReservationStatus;
  lines: string;
  reason: string | null;
  created_at: number;
  released_at: number | null;
}

export class ReservationTable {
  private readonly selectOne;
  private readonly insertOne;
  private readonly updateReleased;

  constructor(db: SqliteDatabase) {
    this.selectOne = db.prepare<[string], ReservationRow>('SELECT * FROM reservations WHERE order_id = ?');
    this.insertOne = db.prepare<[string, string, ReservationStatus, string, string | null, number]>(
      'INSERT INTO reservations (order_id, customer_id, status, lines, reason, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.updateReleased = db.prepare<[string, number, string]>(
      "UPDATE reservations SET status = 'RELEASED', reason = ?, released_at = ? WHERE order_id = ? AND status = 'RESERVED'",
    );
  }

  get(orderId: string): Reservation | undefined {
    const row = this.selectOne.get(orderId);
    if (row === undefined) return undefined;
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

  insert(reservation: Pick<Reservation, 'orderId' | 'customerId' | 'status' | 'lines' | 'reason' | 'createdAt'>): void {
    const { orderId, customerId, status, lines, reason, createdAt } = reservation;
    this.insertOne.run(orderId, customerId, status, JSON.stringify(lines), reason, createdAt);
  }

  markReleased(orderId: string, reason: string, now: number): void {
    this.updateReleased.run(reason, now, orderId);
  }
}
