import { describe, expect, it } from 'vitest';
import { createEvent } from '@shoal/contract';
import { commandOf, outOfStockDetail } from './order-reactions.js';

const upstream = { source: '/shoal/test', subject: 'ord-1' };
const now = 1_750_000_000_000;

describe('the command an upstream event asks of its order', () => {
  it('confirms on PaymentAuthorized, with the payment', () => {
    const event = createEvent(
      'shoal.payments.PaymentAuthorized',
      { paymentId: 'pay-1', orderId: 'ord-1', customerId: 'c1', amount: { amount: 100, currency: 'EUR' }, authorizedAt: now - 5 },
      upstream,
    );
    expect(commandOf(event, now)).toEqual({ type: 'ConfirmOrder', orderId: 'ord-1', paymentId: 'pay-1', now });
  });

  it('rejects on StockReservationFailed, naming each unavailable SKU with the quantities', () => {
    const event = createEvent(
      'shoal.inventory.StockReservationFailed',
      {
        orderId: 'ord-1',
        customerId: 'c1',
        unavailable: [
          { sku: 'SKU-1', requested: 3, available: 1 },
          { sku: 'SKU-9', requested: 1, available: 0 },
        ],
        failedAt: now - 5,
      },
      upstream,
    );
    expect(commandOf(event, now)).toEqual({
      type: 'RejectOrder',
      orderId: 'ord-1',
      reason: 'OUT_OF_STOCK',
      detail: 'out of stock: SKU-1 (3 requested, 1 available), SKU-9 (1 requested, 0 available)',
      now,
    });
    expect(outOfStockDetail([])).toBe('out of stock');
  });

  it('rejects on PaymentDeclined, with the decline reason as the detail', () => {
    const event = createEvent(
      'shoal.payments.PaymentDeclined',
      { paymentId: 'pay-1', orderId: 'ord-1', customerId: 'c1', amount: { amount: 100, currency: 'EUR' }, reason: 'credit limit exceeded', declinedAt: now - 5 },
      upstream,
    );
    expect(commandOf(event, now)).toEqual({ type: 'RejectOrder', orderId: 'ord-1', reason: 'PAYMENT_DECLINED', detail: 'credit limit exceeded', now });
  });

  it('ships on ShipmentDispatched, at the time of the dispatch', () => {
    const event = createEvent(
      'shoal.shipping.ShipmentDispatched',
      { shipmentId: 'shp-1', orderId: 'ord-1', customerId: 'c1', trackingNumber: 'TRK-1', dispatchedAt: now - 5 },
      upstream,
    );
    expect(commandOf(event, now)).toEqual({ type: 'ShipOrder', orderId: 'ord-1', shipmentId: 'shp-1', trackingNumber: 'TRK-1', shippedAt: now - 5 });
  });
});
