/**
 * A customer's credit line, and the rules for changing it, as pure functions. The limit is in one currency;
 * `used` is what the customer's authorized payments hold. Lowering the limit below `used` is allowed (it
 * only stops new authorizations: nothing is clawed back), so `available` never goes below zero. Changing
 * the currency while money is in use is refused: `used` would silently change meaning.
 */
import { ShoalError } from '@shoal/core';

export interface CreditLine {
  customerId: string;
  limit: number;
  currency: string;
  used: number;
}

/** What can still be authorized. */
export function availableCredit(credit: Pick<CreditLine, 'limit' | 'used'>): number {
  return Math.max(0, credit.limit - credit.used);
}

/** The credit line after setting its limit; throws SHOAL_COMMAND_REJECTED when the change is not allowed. */
export function decideLimit(current: CreditLine | undefined, customerId: string, limit: number, currency: string): CreditLine {
  if (current === undefined) return { customerId, limit, currency, used: 0 };
  if (current.currency !== currency && current.used > 0) {
    throw new ShoalError(
      'SHOAL_COMMAND_REJECTED',
      `Cannot change the currency of customer ${customerId}'s limit from ${current.currency} to ${currency} while ${current.used} ${current.currency} are in use`,
      { details: { customerId, currency: current.currency, used: current.used } },
    );
  }
  return { ...current, limit, currency };
}
