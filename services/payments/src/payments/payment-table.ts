/**
 * The `payments` and `cancelled_orders` tables. One payment per order (its primary key) is what makes a
 * second StockReserved of an order harmless; a cancellation is remembered whether or not a payment exists,
 * because it may arrive before the StockReserved it cancels.
 */
import type { SqliteDatabase } from '@shoal/store-sqlite';

export type PaymentStatus = 'AUTHORIZED' | 'DECLINED' | 'REFUNDED';

export interface Payment {
  paymentId: string;
  orderId: string;
  customerId: string;
  amount: number;
  currency: string;
  status: PaymentStatus;
  reason: string | null;
  createdAt: number;
  updatedAt: number;
}

export class PaymentTable {
  private readonly selectOne;
  private readonly insertOne;
  private readonly updateRefunded;
  private readonly insertCancelled;
  private readonly selectCancelled;

  constructor(db: SqliteDatabase) {
    this.selectOne = db.prepare<[string], Payment>(
      `SELECT payment_id AS paymentId, order_id AS orderId, customer_id AS customerId, amount, currency, status, reason,
              created_at AS createdAt, updated_at AS updatedAt
       FROM payments WHERE order_id = ?`,
    );
    this.insertOne = db.prepare<[Omit<Payment, 'updatedAt'>]>(
      `INSERT INTO payments (order_id, payment_id, customer_id, amount, currency, status, reason, created_at, updated_at)
       VALUES (@orderId, @paymentId, @customerId, @amount, @currency, @status, @reason, @createdAt, @createdAt)`,
    );
    this.updateRefunded = db.prepare<[number, string]>("UPDATE payments SET status = 'REFUNDED', updated_at = ? WHERE order_id = ? AND status = 'AUTHORIZED'");
    this.insertCancelled = db.prepare<[string, number]>('INSERT INTO cancelled_orders (order_id, cancelled_at) VALUES (?, ?) ON CONFLICT (order_id) DO NOTHING');
    this.selectCancelled = db.prepare<[string], { cancelled_at: number }>('SELECT cancelled_at FROM cancelled_orders WHERE order_id = ?');
  }

  get(orderId: string): Payment | undefined {
    return this.selectOne.get(orderId);
  }

  insert(payment: Omit<Payment, 'updatedAt'>): void {
    const { orderId, paymentId, customerId, amount, currency, status, reason, createdAt } = payment;
    this.insertOne.run({ orderId, paymentId, customerId, amount, currency, status, reason, createdAt });
  }

  markRefunded(orderId: string, now: number): void {
    this.updateRefunded.run(now, orderId);
  }

  recordCancelled(orderId: string, cancelledAt: number): void {
    this.insertCancelled.run(orderId, cancelledAt);
  }

  isCancelled(orderId: string): boolean {
    return this.selectCancelled.get(orderId) !== undefined;
  }
}
