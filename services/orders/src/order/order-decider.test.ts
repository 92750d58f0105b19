import { describe, expect, it } from 'vitest';
import { isShoalError, type ShoalErrorCode } from '@shoal/core';
import { DeciderSpecification } from '@shoal/eventstore/testing';
import { orderDecider, type OrderCommand, type OrderEvent } from './order-decider.js';

/**
 * Every transition of the Order aggregate and every refusal, as given / when / then: the history, the
 * command, and exactly what is decided (or the error).
 */
const spec = DeciderSpecification.for(orderDecider);
const orderId = 'ord-1';
const at = 1_750_000_000_000;

const address = { line1: '1 rue de la Paix', line2: null, city: 'Paris', postalCode: '75002', country: 'FR' };

const place: OrderCommand = {
  type: 'PlaceOrder',
  orderId,
  customerId: 'c1',
  currency: 'EUR',
  lines: [
    { sku: 'SKU-1', quantity: 2, unitPrice: 1500 },
    { sku: 'SKU-2', quantity: 3, unitPrice: 250 },
  ],
  shippingAddress: address,
  now: at,
};

const placed: OrderEvent = {
  type: 'shoal.orders.OrderPlaced',
  data: {
    orderId,
    customerId: 'c1',
    lines: [
      { sku: 'SKU-1', quantity: 2, unitPrice: { amount: 1500, currency: 'EUR' } },
      { sku: 'SKU-2', quantity: 3, unitPrice: { amount: 250, currency: 'EUR' } },
    ],
    total: { amount: 3750, currency: 'EUR' },
    shippingAddress: address,
    placedAt: at,
  },
};
const total = { amount: 3750, currency: 'EUR' };
const confirmed: OrderEvent = { type: 'shoal.orders.OrderConfirmed', data: { orderId, customerId: 'c1', paymentId: 'pay-1', total, confirmedAt: at + 2 } };
const shipped: OrderEvent = {
  type: 'shoal.orders.OrderShipped',
  data: { orderId, customerId: 'c1', shipmentId: 'shp-1', trackingNumber: 'TRK-1', shippedAt: at + 3 },
};
const cancelledBy = (reason: 'OUT_OF_STOCK' | 'PAYMENT_DECLINED' | 'CUSTOMER_REQUEST', detail: string, cancelledAt = at + 5): OrderEvent => ({
  type: 'shoal.orders.OrderCancelled',
  data: { orderId, customerId: 'c1', reason, detail, cancelledAt },
});

const confirm: OrderCommand = { type: 'ConfirmOrder', orderId, paymentId: 'pay-1', now: at + 2 };
const ship: OrderCommand = { type: 'ShipOrder', orderId, shipmentId: 'shp-1', trackingNumber: 'TRK-1', shippedAt: at + 3 };
const customerCancel: OrderCommand = { type: 'CancelOrder', orderId, detail: 'changed my mind', now: at + 5 };
const outOfStock: OrderCommand = { type: 'RejectOrder', orderId, reason: 'OUT_OF_STOCK', detail: 'out of stock: SKU-1 (2 requested, 1 available)', now: at + 5 };
const declined: OrderCommand = { type: 'RejectOrder', orderId, reason: 'PAYMENT_DECLINED', detail: 'credit limit exceeded', now: at + 5 };

const withCode = (code: ShoalErrorCode, text: string) => (error: unknown) => isShoalError(error, code) && error.message.includes(text);

describe('placing an order', () => {
  it('places a new order with lines priced in its currency and their total', () => {
    spec.given([]).when(place).then([placed]);
  });

  it('places an order without a shipping address', () => {
    spec
      .given([])
      .when({ ...place, shippingAddress: null })
      .then([{ ...placed, data: { ...placed.data, shippingAddress: null } } as OrderEvent]);
  });

  it('decides nothing when the same placement is repeated under the same id, whatever became of the order', () => {
    spec.given([placed]).when({ ...place, now: at + 60_000 }).thenNothingHappened();
    spec.given([placed, confirmed, shipped]).when(place).thenNothingHappened();
    spec.given([placed, cancelledBy('CUSTOMER_REQUEST', 'x')]).when(place).thenNothingHappened();
  });

  it('refuses another placement under an id that is taken', () => {
    const taken = withCode('SHOAL_COMMAND_REJECTED', `Order ${orderId} already exists`);
    spec.given([placed]).when({ ...place, customerId: 'c2' }).thenThrows(taken);
    spec.given([placed]).when({ ...place, currency: 'USD' }).thenThrows(taken);
    spec.given([placed]).when({ ...place, lines: [place.lines[0]!] }).thenThrows(taken);
    spec.given([placed]).when({ ...place, lines: [{ sku: 'SKU-1', quantity: 2, unitPrice: 1501 }, place.lines[1]!] }).thenThrows(taken);
    spec.given([placed]).when({ ...place, shippingAddress: null }).thenThrows(taken);
    spec.given([placed]).when({ ...place, shippingAddress: { ...address, line2: 'Bât. B' } }).thenThrows(taken);
  });

  it('refuses an order whose total cannot be counted exactly in minor units', () => {
    spec
      .given([])
      .when({ ...place, lines: [{ sku: 'SKU-1', quantity: 100_000, unitPrice: Number.MAX_SAFE_INTEGER }] })
      .thenThrows(withCode('SHOAL_REQUEST_INVALID', 'too large'));
  });
});

describe("the customer's cancel", () => {
  it('cancels a placed or a confirmed order at the customer\'s request, with their reason', () => {
    spec.given([placed]).when(customerCancel).then([cancelledBy('CUSTOMER_REQUEST', 'changed my mind')]);
    spec.given([placed, confirmed]).when(customerCancel).then([cancelledBy('CUSTOMER_REQUEST', 'changed my mind')]);
  });

  it('decides nothing for an order cancelled already, by the customer or by the choreography', () => {
    spec.given([placed, cancelledBy('CUSTOMER_REQUEST', 'first')]).when(customerCancel).thenNothingHappened();
    spec.given([placed, cancelledBy('OUT_OF_STOCK', 'out of stock')]).when(customerCancel).thenNothingHappened();
  });

  it('refuses to cancel a shipped order', () => {
    spec.given([placed, confirmed, shipped]).when(customerCancel).thenThrows(withCode('SHOAL_COMMAND_REJECTED', 'already shipped'));
  });

  it('refuses to cancel an order that does not exist', () => {
    spec.given([]).when(customerCancel).thenThrows(withCode('SHOAL_NOT_FOUND', `No order ${orderId}`));
  });
});

describe('payment authorized', () => {
  it('confirms a placed order with the payment and the order total', () => {
    spec.given([placed]).when(confirm).then([confirmed]);
  });

  it('decides nothing once the order is confirmed, shipped or cancelled, nor for an unknown order', () => {
    spec.given([placed, confirmed]).when({ ...confirm, paymentId: 'pay-2' }).thenNothingHappened();
    spec.given([placed, confirmed, shipped]).when(confirm).thenNothingHappened();
    spec.given([placed, cancelledBy('CUSTOMER_REQUEST', 'x')]).when(confirm).thenNothingHappened();
    spec.given([placed, cancelledBy('OUT_OF_STOCK', 'x')]).when(confirm).thenNothingHappened();
    spec.given([]).when(confirm).thenNothingHappened();
  });
});

describe('stock reservation failed or payment declined', () => {
  it('cancels a placed order with the reason and its detail', () => {
    spec.given([placed]).when(outOfStock).then([cancelledBy('OUT_OF_STOCK', 'out of stock: SKU-1 (2 requested, 1 available)')]);
    spec.given([placed]).when(declined).then([cancelledBy('PAYMENT_DECLINED', 'credit limit exceeded')]);
  });

  it('decides nothing for an order cancelled already: the first reason stands', () => {
    spec.given([placed, cancelledBy('CUSTOMER_REQUEST', 'x')]).when(outOfStock).thenNothingHappened();
    spec.given([placed, cancelledBy('CUSTOMER_REQUEST', 'x')]).when(declined).thenNothingHappened();
    spec.given([placed, cancelledBy('OUT_OF_STOCK', 'x')]).when(declined).thenNothingHappened();
  });

  it('decides nothing once the order is confirmed or shipped, nor for an unknown order', () => {
    spec.given([placed, confirmed]).when(declined).thenNothingHappened();
    spec.given([placed, confirmed]).when(outOfStock).thenNothingHappened();
    spec.given([placed, confirmed, shipped]).when(declined).thenNothingHappened();
    spec.given([]).when(outOfStock).thenNothingHappened();
    spec.given([]).when(declined).thenNothingHappened();
  });
});

describe('shipment dispatched', () => {
  it('ships a confirmed order with the shipment, its tracking number and the dispatch time', () => {
    spec.given([placed, confirmed]).when(ship).then([shipped]);
  });

  it('decides nothing for an order shipped already, still placed, cancelled, or unknown', () => {
    spec.given([placed, confirmed, shipped]).when({ ...ship, shipmentId: 'shp-2' }).thenNothingHappened();
    spec.given([placed]).when(ship).thenNothingHappened();
    spec.given([placed, confirmed, cancelledBy('CUSTOMER_REQUEST', 'x')]).when(ship).thenNothingHappened();
    spec.given([]).when(ship).thenNothingHappened();
  });
});

describe('the state folded from the stream', () => {
  const fold = (events: OrderEvent[]) => events.reduce(orderDecider.evolve, orderDecider.initialState());

  it('holds what each event tells, as plain data', () => {
    expect(fold([])).toEqual({ status: 'NONE' });
    expect(fold([placed, confirmed, shipped])).toEqual({
      status: 'SHIPPED',
      orderId,
      customerId: 'c1',
      lines: (placed.data as { lines: unknown }).lines,
      total,
      shippingAddress: address,
      placedAt: at,
      paymentId: 'pay-1',
      shipmentId: 'shp-1',
      trackingNumber: 'TRK-1',
    });
    expect(fold([placed, cancelledBy('PAYMENT_DECLINED', 'no funds')])).toMatchObject({ status: 'CANCELLED', cancellation: { reason: 'PAYMENT_DECLINED', detail: 'no funds' } });
  });

  it('keeps no reference to the events it folded', () => {
    const state = fold([placed]);
    const lines = (state as { lines: unknown[] }).lines;
    expect(lines[0]).toEqual((placed.data as { lines: unknown[] }).lines[0]);
    expect(lines[0]).not.toBe((placed.data as { lines: unknown[] }).lines[0]);
  });
});
