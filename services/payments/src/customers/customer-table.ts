/**
 * The `customers` table. Statements are written once with the query builder and compiled once per dialect
 * (compiledQuery of @shoal/store); they run on the executor given: inside a handler `tx.sql`, so a charge
 * or a refund commits with the payment row, the inbox row and the emitted event.
 */
import { ShoalError } from '@shoal/core';
import { compiledQuery, type Kysely, type Params, type SqlExecutor } from '@shoal/store';
import type { PaymentsTables } from '../schema.js';
import type { CreditLine } from './credit-line.js';

type Db = Kysely<PaymentsTables>;

/** The parameters of the writes: `amount` is the new limit, or what is charged or refunded. */
interface Change {
  customerId: string;
  amount: number;
  currency: string;
  now: number;
}

// On PostgreSQL the credit line read to decide on stays locked until the transaction ends, so two instances
// authorizing orders of one customer at once decide one after the other; SQLite has one writer at a time.
const selectOne = compiledQuery((db: Db, p: Params<{ customerId: string }>, dialect) =>
  db
    .selectFrom('customers')
    .select(['customer_id as customerId', 'limit_amount as limit', 'currency', 'used_amount as used'])
    .where('customer_id', '=', p.customerId)
    .$if(dialect === 'postgres', (query) => query.forUpdate()),
);

const upsertLimit = compiledQuery((db: Db, p: Params<Change>) =>
  db
    .insertInto('customers')
    .values({ customer_id: p.customerId, limit_amount: p.amount, currency: p.currency, used_amount: 0, updated_at: p.now })
    .onConflict((conflict) =>
      conflict.column('customer_id').doUpdateSet((update) => ({
        limit_amount: update.ref('excluded.limit_amount'),
        currency: update.ref('excluded.currency'),
        updated_at: update.ref('excluded.updated_at'),
      })),
    ),
);

const addUsed = compiledQuery((db: Db, p: Params<Change>) =>
  db
    .updateTable('customers')
    .set((update) => ({ used_amount: update('used_amount', '+', p.amount), updated_at: p.now }))
    .where('customer_id', '=', p.customerId)
    .where('currency', '=', p.currency),
);

const subtractUsed = compiledQuery((db: Db, p: Params<Change>) =>
  db
    .updateTable('customers')
    .set((update) => ({ used_amount: update('used_amount', '-', p.amount), updated_at: p.now }))
    .where('customer_id', '=', p.customerId)
    .where('currency', '=', p.currency)
    .where('used_amount', '>=', p.amount),
);

export class CustomerTable {
  constructor(private readonly sql: SqlExecutor) {}

  async get(customerId: string): Promise<CreditLine | undefined> {
    return selectOne.get(this.sql, { customerId });
  }

  async setLimit(credit: CreditLine, now: number): Promise<void> {
    await upsertLimit.run(this.sql, { customerId: credit.customerId, amount: credit.limit, currency: credit.currency, now });
  }

  async charge(customerId: string, amount: number, currency: string, now: number): Promise<void> {
    if ((await addUsed.run(this.sql, { customerId, amount, currency, now })) !== 1) {
      throw new ShoalError('SHOAL_HANDLER_FAILED', `Cannot charge ${amount} ${currency} to customer ${customerId}: no credit line in ${currency}`);
    }
  }

  async refund(customerId: string, amount: number, currency: string, now: number): Promise<void> {
    if ((await subtractUsed.run(this.sql, { customerId, amount, currency, now })) !== 1) {
      throw new ShoalError('SHOAL_HANDLER_FAILED', `Cannot refund ${amount} ${currency} to customer ${customerId}: not that much in use in ${currency}`);
    }
  }
}
