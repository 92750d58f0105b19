import { createEvent } from '../create-event.js';
import type { ShoalEvent } from '../cloud-event.js';
import type { ShoalEventDataMap, ShoalEventType } from '../generated/events.js';

const money = (amount: number) => ({ amount, currency: 'EUR' });
const lines = (n: number) => [{ sku: `SKU-${n}`, quantity: 1 + (n % 3), unitPrice: money(100 + n) }];

/** Valid data for every catalog event type, varied by `n`. */
const samples: { [T in ShoalEventType]: (id: string, n: number) => ShoalEventDataMap[T] } = {
  'shoal.orders.OrderPlaced': (id, n) => ({ orderId: id, customerId: `cus-${n}`, lines: lines(n), total: money(100 + n), shippingAddress: null, placedAt: n }),
  'shoal.orders.OrderConfirmed': (id, n) => ({ orderId: id, customerId: `cus-${n}`, paymentId: `pay-${n}`, total: money(n), confirmedAt: n }),
  'shoal.orders.OrderCancelled': (id, n) => ({ orderId: id, customerId: `cus-${n}`, reason: 'CUSTOMER_REQUEST', detail: `cancel ${n}`, cancelledAt: n }),
  'shoal.orders.OrderShipped': (id, n) => ({ orderId: id, customerId: `cus-${n}`, shipmentId: `shp-${n}`, trackingNumber: `trk-${n}`, shippedAt: n }),
  'shoal.inventory.StockReserved': (id, n) => ({ orderId: id, customerId: `cus-${n}`, lines: lines(n), total: money(n), reservedAt: n }),
  'shoal.inventory.StockReservationFailed': (id, n) => ({ orderId: id, customerId: `cus-${n}`, unavailable: [{ sku: `SKU-${n}`, requested: 2, available: 1 }], failedAt: n }),
  'shoal.inventory.StockReleased': (id, n) => ({ orderId: id, lines: [{ sku: `SKU-${n}`, quantity: 1 }], reason: 'shoal.orders.OrderCancelled', releasedAt: n }),
  'shoal.payments.PaymentAuthorized': (id, n) => ({ paymentId: `pay-${n}`, orderId: id, customerId: `cus-${n}`, amount: money(n), authorizedAt: n }),
  'shoal.payments.PaymentDeclined': (id, n) => ({ paymentId: `pay-${n}`, orderId: id, customerId: `cus-${n}`, amount: money(n), reason: 'limit', declinedAt: n }),
  'shoal.payments.PaymentRefunded': (id, n) => ({ paymentId: `pay-${n}`, orderId: id, customerId: `cus-${n}`, amount: money(n), refundedAt: n }),
  'shoal.shipping.ShipmentScheduled': (id, n) => ({ shipmentId: `shp-${n}`, orderId: id, customerId: `cus-${n}`, scheduledAt: n }),
  'shoal.shipping.ShipmentDispatched': (id, n) => ({ shipmentId: `shp-${n}`, orderId: id, customerId: `cus-${n}`, trackingNumber: `trk-${n}`, dispatchedAt: n }),
  'shoal.shipping.ShipmentCancelled': (id, n) => ({ shipmentId: `shp-${n}`, orderId: id, customerId: `cus-${n}`, reason: 'order cancelled', cancelledAt: n }),
  'shoal.notifications.CustomerNotified': (id, n) => ({ notificationId: `ntf-${n}`, customerId: `cus-${n}`, orderId: id, channel: 'EMAIL', template: 't', message: `message ${n}`, notifiedAt: n }),
  'shoal.loyalty.PointsAwarded': (id, n) => ({ orderId: id, customerId: `cus-${n}`, points: n, total: money(100 * n), balance: n, awardedAt: n }),
  'shoal.loyalty.PointsRevoked': (id, n) => ({ orderId: id, customerId: `cus-${n}`, points: n, balance: 0, revokedAt: n }),
};

export const eventTypes = Object.keys(samples) as ShoalEventType[];

/** A valid event of `type` for aggregate `aggregateId` (its subject and key); `n` varies the data. */
export function sampleEvent<T extends ShoalEventType>(type: T, aggregateId: string, n = 1): ShoalEvent<T> {
  const service = type.split('.')[1];
  return createEvent(type, samples[type](aggregateId, n), { source: `/shoal/${service}`, subject: aggregateId });
}

