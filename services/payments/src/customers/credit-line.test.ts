import { describe, expect, it } from 'vitest';
import { availableCredit, decideLimit } from './credit-line.js';

describe('decideLimit', () => {
  it('opens a credit line with nothing used', () => {
    expect(decideLimit(undefined, 'c1', 1000, 'EUR')).toEqual({ customerId: 'c1', limit: 1000, currency: 'EUR', used: 0 });
  });

  it('changes the limit and keeps what is in use, even when the new limit is below it', () => {
    const current = { customerId: 'c1', limit: 1000, currency: 'EUR', used: 700 };
    expect(decideLimit(current, 'c1', 2000, 'EUR')).toEqual({ ...current, limit: 2000 });
    const lowered = decideLimit(current, 'c1', 500, 'EUR');
    expect(lowered).toEqual({ ...current, limit: 500 });
    expect(availableCredit(lowered)).toBe(0);
  });

  it('changes the currency only while nothing is in use', () => {
    expect(decideLimit({ customerId: 'c1', limit: 1000, currency: 'EUR', used: 0 }, 'c1', 900, 'USD')).toEqual({ customerId: 'c1', limit: 900, currency: 'USD', used: 0 });
    expect(() => decideLimit({ customerId: 'c1', limit: 1000, currency: 'EUR', used: 1 }, 'c1', 1000, 'USD')).toThrow(
      expect.objectContaining({ code: 'SHOAL_COMMAND_REJECTED', message: expect.stringMatching(/from EUR to USD while 1 EUR are in use/) }),
    );
  });
});
