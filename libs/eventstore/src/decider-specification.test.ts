import { AssertionError } from 'node:assert';
import { describe, expect, it } from 'vitest';
import { createEvent } from '@shoal/contract';
import { DeciderSpecification } from './testing.js';
import { orderDecider, OrderRuleViolation, testLines, type OrderCommand, type OrderEvent } from './test-deciders.js';

const NOW = 1_767_225_600_000;
const place: OrderCommand = { type: 'PlaceOrder', orderId: 'ord-1', customerId: 'cus-1', lines: testLines(), now: NOW };
const placed: OrderEvent = {
  type: 'shoal.orders.OrderPlaced',
  data: { orderId: 'ord-1', customerId: 'cus-1', lines: testLines(), total: { amount: 1500, currency: 'EUR' }, shippingAddress: null, placedAt: NOW },
};
const confirm: OrderCommand = { type: 'ConfirmOrder', paymentId: 'pay-1', now: NOW + 1 };
const confirmed: OrderEvent = {
  type: 'shoal.orders.OrderConfirmed',
  data: { orderId: 'ord-1', customerId: 'cus-1', paymentId: 'pay-1', total: { amount: 1500, currency: 'EUR' }, confirmedAt: NOW + 1 },
};
const cancelled: OrderEvent = {
  type: 'shoal.orders.OrderCancelled',
  data: { orderId: 'ord-1', customerId: 'cus-1', reason: 'PAYMENT_DECLINED', detail: 'limit exceeded', cancelledAt: NOW + 1 },
};

const spec = DeciderSpecification.for(orderDecider);

describe('the order decider, specified', () => {
  it('places a new order with its total', () => {
    spec.given([]).when(place).then([placed]);
  });

  it('refuses to place an order twice', () => {
    spec.given([placed]).when(place).thenThrows(OrderRuleViolation, (error) => error.message.includes('already PLACED'));
  });

  it('confirms a placed order', () => {
    spec.given([placed]).when(confirm).then([confirmed]);
  });

  it('confirms an order once: a repeated confirmation decides nothing', () => {
    spec.given([placed, confirmed]).when(confirm).thenNothingHappened();
  });

  it('cannot confirm a cancelled order or one never placed', () => {
    spec.given([placed, cancelled]).when(confirm).thenThrows(OrderRuleViolation, (error) => error.message.includes('CANCELLED'));
    spec.given([]).when(confirm).thenThrows(OrderRuleViolation);
  });

  it('cancels a confirmed order', () => {
    spec
      .given([placed, confirmed])
      .when({ type: 'CancelOrder', reason: 'PAYMENT_DECLINED', detail: 'limit exceeded', now: NOW + 1 })
      .then([cancelled]);
  });

  it('takes stored events, with their envelopes, as the history', () => {
    const stored = createEvent('shoal.orders.OrderPlaced', placed.data, { source: '/shoal/orders', subject: 'ord-1' });
    spec.given([stored]).when(confirm).then([confirmed]);
  });
});

describe('DeciderSpecification', () => {
  it('fails then() when the decided events differ, in content or in order', () => {
    expect(() => spec.given([]).when(place).then([])).toThrow(AssertionError);
    expect(() => spec.given([]).when(place).then([{ ...placed, data: { ...placed.data, placedAt: NOW + 5 } }])).toThrow(AssertionError);
    const twoEvents = { ...orderDecider, decide: () => [placed, confirmed] };
    expect(() => DeciderSpecification.for(twoEvents).given([]).when(place).then([confirmed, placed])).toThrow(AssertionError);
  });

  it('fails thenNothingHappened() when events were decided', () => {
    expect(() => spec.given([]).when(place).thenNothingHappened()).toThrow(AssertionError);
  });

  it('fails thenThrows() when decide does not throw, or throws something else', () => {
    expect(() => spec.given([]).when(place).thenThrows()).toThrow(AssertionError);
    expect(() => spec.given([placed]).when(place).thenThrows(RangeError)).toThrow(AssertionError);
    expect(() => spec.given([placed]).when(place).thenThrows((error) => error instanceof RangeError)).toThrow(AssertionError);
    expect(() => spec.given([placed]).when(place).thenThrows(OrderRuleViolation, () => false)).toThrow(AssertionError);
  });

  it('lets an error of then() through unchanged, so a domain error reads as itself', () => {
    expect(() => spec.given([placed]).when(place).then([placed])).toThrow(OrderRuleViolation);
  });
});
