/**
 * The `payments` and `cancelled_orders` tables. One payment per order (its primary key) is what makes a
 * second StockReserved of an order harmless; a cancellation is remembered whether or not a payment exists,
 * because it may arrive before the StockReserved it cancels. Statements as in customer-table.ts.
 */
import { compiledQuery, type Kysely, type Params, type SqlExecutor } from '@shoal/store';
import type { PaymentStatus, PaymentsTables } from '../schema.js';

export type { PaymentStatus } from '../schema.js';

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

type Db = Kysely<PaymentsTables>;

const selectOne = compiledQuery((db: Db, p: Params<{ orderId: string }>) =>
  db
    .selectFrom('payments')
    .select([
      'payment_id as paymentId',
      'order_id as orderId',
      'customer_id as customerId',
      'amount',
      'currency',
      'status',
      'reason',
      'created_at as createdAt',
      'updated_at as updatedAt',
    ])
    .where('order_id', '=', p.orderId),
);

const insertOne = compiledQuery((db: Db, p: Params<Omit<Payment, 'updatedAt'>>) =>
  db.insertInto('payments').values({
    order_id: p.orderId,
    payment_id: p.paymentId,
    customer_id: p.customerId,
    amount: p.amount,
    currency: p.currency,
    status: p.status,
    reason: p.reason,
    created_at: p.createdAt,
    updated_at: p.createdAt,
  }),
);

const updateRefunded = compiledQuery((db: Db, p: Params<{ orderId: string; now: number }>) =>
  db.updateTable('payments').set({ status: 'REFUNDED', updated_at: p.now }).where('order_id', '=', p.orderId).where('status', '=', 'AUTHORIZED'),
);

const insertCancelled = compiledQuery((db: Db, p: Params<{ orderId: string; cancelledAt: number }>) =>
  db
    .insertInto('cancelled_orders')
    .values({ order_id: p.orderId, cancelled_at: p.cancelledAt })
    .onConflict((conflict) => conflict.column('order_id').doNothing()),
);

const selectCancelled = compiledQuery((db: Db, p: Params<{ orderId: string }>) => db.selectFrom('cancelled_orders').select('cancelled_at').where('order_id', '=', p.orderId));

export class PaymentTable {
  constructor(private readonly sql: SqlExecutor) {}

  async get(orderId: string): Promise<Payment | undefined> {
    return selectOne.get(this.sql, { orderId });
  }

  async insert(payment: Omit<Payment, 'updatedAt'>): Promise<void> {
    const { orderId, paymentId, customerId, amount, currency, status, reason, createdAt } = payment;
    await insertOne.run(this.sql, { orderId, paymentId, customerId, amount, currency, status, reason, createdAt });
  }

  async markRefunded(orderId: string, now: number): Promise<void> {
    await updateRefunded.run(this.sql, { orderId, now });
  }

  async recordCancelled(orderId: string, cancelledAt: number): Promise<void> {
    await insertCancelled.run(this.sql, { orderId, cancelledAt });
  }

  async isCancelled(orderId: string): Promise<boolean> {
    return (await selectCancelled.get(this.sql, { orderId })) !== undefined;
  }
}
