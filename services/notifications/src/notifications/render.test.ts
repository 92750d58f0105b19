import { describe, expect, it } from 'vitest';
import { createEvent } from '@shoal/contract';
import { formatMoney, render } from './render.js';

const options = { source: '/shoal/orders', subject: 'o-1' };
const eur = (amount: number) => ({ amount, currency: 'EUR' });

describe('render', () => {
  it('thanks for a placed order, counting items and showing the total', () => {
    const event = createEvent(
      'shoal.orders.OrderPlaced',
      {
        orderId: 'o-1',
        customerId: 'c-1',
        lines: [
          { sku: 'SKU-1', quantity: 2, unitPrice: eur(1500) },
          { sku: 'SKU-2', quantity: 1, unitPrice: eur(99) },
        ],
        total: eur(3099),
        shippingAddress: null,
        placedAt: 0,
      },
      options,
    );
    expect(render(event)).toBe('Thank you for your order o-1: 3 items, 30.99 EUR. We will confirm it shortly.');
    const single = { ...event, data: { ...event.data, lines: [{ sku: 'SKU-1', quantity: 1, unitPrice: eur(5) }], total: eur(5) } };
    expect(render(single)).toBe('Thank you for your order o-1: 1 item, 0.05 EUR. We will confirm it shortly.');
  });

  it('confirms an order with the amount charged', () => {
    const event = createEvent('shoal.orders.OrderConfirmed', { orderId: 'o-1', customerId: 'c-1', paymentId: 'p-1', total: eur(3000), confirmedAt: 0 }, options);
    expect(render(event)).toBe('Your order o-1 is confirmed: 30.00 EUR will be charged, and we are preparing your parcel.');
  });

  it('explains a cancellation with its reason and detail', () => {
    const cancelled = (reason: 'OUT_OF_STOCK' | 'PAYMENT_DECLINED' | 'CUSTOMER_REQUEST', detail: string) =>
      render(createEvent('shoal.orders.OrderCancelled', { orderId: 'o-1', customerId: 'c-1', reason, detail, cancelledAt: 0 }, options));
    expect(cancelled('OUT_OF_STOCK', 'SKU-1: 2 requested, 1 available')).toBe(
      'Your order o-1 was cancelled: some items are out of stock (OUT_OF_STOCK). SKU-1: 2 requested, 1 available',
    );
    expect(cancelled('PAYMENT_DECLINED', 'credit limit exceeded')).toBe('Your order o-1 was cancelled: the payment was declined (PAYMENT_DECLINED). credit limit exceeded');
    expect(cancelled('CUSTOMER_REQUEST', 'cancelled by the customer')).toBe(
      'Your order o-1 was cancelled: you asked us to cancel it (CUSTOMER_REQUEST). cancelled by the customer',
    );
  });

  it('gives the tracking number of a shipped order', () => {
    const event = createEvent('shoal.orders.OrderShipped', { orderId: 'o-1', customerId: 'c-1', shipmentId: 's-1', trackingNumber: 'TRK-AB12CD34EF', shippedAt: 0 }, options);
    expect(render(event)).toBe('Your order o-1 is on its way. Tracking number: TRK-AB12CD34EF.');
  });

  it('tells how much was refunded', () => {
    const event = createEvent(
      'shoal.payments.PaymentRefunded',
      { paymentId: 'p-1', orderId: 'o-1', customerId: 'c-1', amount: { amount: 1200, currency: 'JPY' }, refundedAt: 0 },
      { source: '/shoal/payments', subject: 'o-1' },
    );
    expect(render(event)).toBe('We refunded 1200 JPY for your order o-1.');
  });
});

describe('formatMoney', () => {
  it('places the decimal point by the currency, pads small amounts and keeps the sign', () => {
    expect(formatMoney(1500, 'EUR')).toBe('15.00 EUR');
    expect(formatMoney(7, 'USD')).toBe('0.07 USD');
    expect(formatMoney(0, 'EUR')).toBe('0.00 EUR');
    expect(formatMoney(-250, 'EUR')).toBe('-2.50 EUR');
    expect(formatMoney(1500, 'JPY')).toBe('1500 JPY');
    expect(formatMoney(1500, 'KWD')).toBe('1.500 KWD');
    expect(formatMoney(1500, 'XYZ')).toBe('15.00 XYZ');
  });
});
