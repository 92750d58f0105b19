/**
 * Whether payments authorizes an order's total, as a pure function of the customer's credit line: only
 * against a limit in the order's currency, and only while the total fits in what the limit leaves.
 * The reasons are what the customer and the operator read (orders copies them into OrderCancelled).
 */
import { ShoalError } from '@shoal/core';
import type { Money } from '@shoal/contract';
import { availableCredit, type CreditLine } from '../customers/credit-line.js';

export type PaymentDecision = { outcome: 'authorized' } | { outcome: 'declined'; reason: string };

export function decidePayment(customerId: string, credit: CreditLine | undefined, total: Money): PaymentDecision {
  // A negative total breaks the contract and would add credit: poison (dead-lettered), not a decision.
  if (!Number.isSafeInteger(total.amount) || total.amount < 0) {
    throw new ShoalError('SHOAL_EVENT_DATA_INVALID', `Order total ${total.amount} ${total.currency} is not a non-negative integer amount`);
  }
  if (credit === undefined) return { outcome: 'declined', reason: `no credit limit set for customer ${customerId}` };
  if (credit.currency !== total.currency) return { outcome: 'declined', reason: `currency mismatch: the limit is in ${credit.currency}` };
  const available = availableCredit(credit);
  if (total.amount > available) {
    return {
      outcome: 'declined',
      reason: `credit limit exceeded: needs ${total.amount} ${total.currency}, ${available} of ${credit.limit} ${credit.currency} available`,
    };
  }
  return { outcome: 'authorized' };
}
