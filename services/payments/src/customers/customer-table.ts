/**
 * The `customers` table. Statements are prepared once on the service's one connection; inside a handler
 * that connection is `tx.db`, so a charge or a refund commits with the payment row, the inbox row and the
 * emitted event.
 */
import { ShoalError } from '@shoal/core';
import type { SqliteDatabase } from '@shoal/store-sqlite';
import type { CreditLine } from './credit-line.js';

/** The named parameters of the writes: `@amount` is the new limit, or what is charged or refunded. */
interface Change {
  customerId: string;
  amount: number;
  currency: string;
  now: number;
}

export class CustomerTable {
  private readonly selectOne;
  private readonly upsertLimit;
  private readonly addUsed;
  private readonly subtractUsed;

  constructor(db: SqliteDatabase) {
    this.selectOne = db.prepare<[string], CreditLine>(
      'SELECT customer_id AS customerId, limit_amount AS "limit", currency, used_amount AS used FROM customers WHERE customer_id = ?',
    );
    this.upsertLimit = db.prepare<[Change]>(
      `INSERT INTO customers (customer_id, limit_amount, currency, used_amount, updated_at) VALUES (@customerId, @amount, @currency, 0, @now)
       ON CONFLICT (customer_id) DO UPDATE SET limit_amount = excluded.limit_amount, currency = excluded.currency, updated_at = excluded.updated_at`,
    );
    this.addUsed = db.prepare<[Change]>(
      'UPDATE customers SET used_amount = used_amount + @amount, updated_at = @now WHERE customer_id = @customerId AND currency = @currency',
    );
    this.subtractUsed = db.prepare<[Change]>(
      'UPDATE customers SET used_amount = used_amount - @amount, updated_at = @now WHERE customer_id = @customerId AND currency = @currency AND used_amount >= @amount',
    );
  }

  get(customerId: string): CreditLine | undefined {
    return this.selectOne.get(customerId);
  }

  setLimit(credit: CreditLine, now: number): void {
    this.upsertLimit.run({ customerId: credit.customerId, amount: credit.limit, currency: credit.currency, now });
  }

  charge(customerId: string, amount: number, currency: string, now: number): void {
    if (this.addUsed.run({ customerId, amount, currency, now }).changes !== 1) {
      throw new ShoalError('SHOAL_HANDLER_FAILED', `Cannot charge ${amount} ${currency} to customer ${customerId}: no credit line in ${currency}`);
    }
  }

  refund(customerId: string, amount: number, currency: string, now: number): void {
    if (this.subtractUsed.run({ customerId, amount, currency, now }).changes !== 1) {
      throw new ShoalError('SHOAL_HANDLER_FAILED', `Cannot refund ${amount} ${currency} to customer ${customerId}: not that much in use in ${currency}`);
    }
  }
}
