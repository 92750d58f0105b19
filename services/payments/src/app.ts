/**
 * The payments service (docs/choreography.md): a credit line per customer and at most one payment per order. It
 * authorizes an order's total once its stock is reserved, declines what the credit line cannot cover, and
 * refunds an authorized payment when the order is cancelled. State-based: its tables and the events it
 * emits commit together through the outbox.
 *
 * `buildPayments` composes the service on a host (runService in main.ts, startTestService in tests); time
 * and payment ids are injectable for tests.
 */
import type { ServiceHost } from '@shoal/service';
import { v7 as uuidv7 } from 'uuid';
import type { configSpec } from './config.js';
import { customerRoutes } from './customers/customer-routes.js';
import { CustomerTable } from './customers/customer-table.js';
import { paymentHandlers } from './payments/payment-handlers.js';
import { paymentRoutes } from './payments/payment-routes.js';
import { PaymentTable } from './payments/payment-table.js';
import { migratePayments } from './schema.js';
import { sqliteOnly } from '@shoal/store-sqlite';

export { configSpec } from './config.js';

export type PaymentsConfig = ReturnType<typeof configSpec.load>;

export interface PaymentsOptions {
  /** Clock of the tables' times and of the emitted events. Default Date.now. */
  now?: () => number;
  /** Payment ids. Default UUIDv7. */
  newId?: () => string;
}

export async function buildPayments(host: ServiceHost<PaymentsConfig>, options: PaymentsOptions = {}): Promise<void> {
  const now = options.now ?? Date.now;
  const database = sqliteOnly(await host.openDatabase(), 'The payments service');
  migratePayments(database.db);
  const customers = new CustomerTable(database.db);
  const payments = new PaymentTable(database.db);

  host.subscribe({
    database,
    topics: ['inventory.reservation', 'orders.order'],
    handlers: paymentHandlers({ customers, payments, source: host.source, now, newId: options.newId ?? uuidv7, logger: host.logger.child({ module: 'payments' }) }),
  });
  host.routes(customerRoutes({ database, customers, now }));
  host.routes(paymentRoutes({ payments }));
}
