import { describe, expect, it } from 'vitest';
import type { CreditLine } from '../customers/credit-line.js';
import { decidePayment } from './payment-decision.js';

const credit = (limit: number, used: number, currency = 'EUR'): CreditLine => ({ customerId: 'c1', limit, currency, used });
const eur = (amount: number) => ({ amount, currency: 'EUR' });

describe('decidePayment', () => {
  it('authorizes a total that fits in what the limit leaves, up to the last unit', () => {
    expect(decidePayment('c1', credit(1000, 0), eur(1000))).toEqual({ outcome: 'authorized' });
    expect(decidePayment('c1', credit(1000, 400), eur(600))).toEqual({ outcome: 'authorized' });
    expect(decidePayment('c1', credit(0, 0), eur(0))).toEqual({ outcome: 'authorized' });
  });

  it('declines with the shortfall in the reason', () => {
    expect(decidePayment('c1', credit(1000, 500), eur(3000))).toEqual({
      outcome: 'declined',
      reason: 'credit limit exceeded: needs 3000 EUR, 500 of 1000 EUR available',
    });
    expect(decidePayment('c1', credit(1000, 400), eur(601))).toMatchObject({ outcome: 'declined' });
  });

  it('declines a customer without a limit', () => {
    expect(decidePayment('c1', undefined, eur(1))).toEqual({ outcome: 'declined', reason: 'no credit limit set for customer c1' });
  });

  it('declines a total in another currency than the limit, however large the limit', () => {
    expect(decidePayment('c1', credit(1_000_000, 0, 'USD'), eur(1))).toEqual({ outcome: 'declined', reason: 'currency mismatch: the limit is in USD' });
  });

  it('reports a limit lowered below what is in use as nothing available', () => {
    expect(decidePayment('c1', credit(100, 300), eur(1))).toEqual({
      outcome: 'declined',
      reason: 'credit limit exceeded: needs 1 EUR, 0 of 100 EUR available',
    });
  });

  it('refuses a negative total as poison instead of crediting the customer', () => {
    expect(() => decidePayment('c1', credit(1000, 0), eur(-5))).toThrow(expect.objectContaining({ code: 'SHOAL_EVENT_DATA_INVALID', retriable: false }));
  });
});
