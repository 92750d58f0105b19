/**
 * Whole order flows as the services would emit them, for order-view's tests: every event with its
 * topic's source, the flow's correlation id, and an explicit time one second after the previous one, so the
 * expected timeline is known whatever order the events are applied in.
 */
import { createEvent, EVENT_TOPICS, type ShoalEvent } from '@shoal/contract';

export interface OrderFlow {
  orderId: string;
  customerId: string;
  total: { amount: number; currency: string };
  /** In the order the services would emit them. */
  events: ShoalEvent[];
}

interface FlowOptions {
  customerId?: string;
  currency?: string;
  /** Time of the first event. */
  start?: number;
}

const defaultStart = Date.parse('2026-03-01T10:00:00.000Z');

/** Builds a flow: `step` adds an event one second after the previous one, caused by `cause` (default: the last one). */
function flow(orderId: string, options: FlowOptions, write: (step: Step, c: string, total: { amount: number; currency: string }) => void): OrderFlow {
  const customerId = options.customerId ?? `c-${orderId}`;
  const total = { amount: 3000, currency: options.currency ?? 'EUR' };
  const events: ShoalEvent[] = [];
  let time = options.start ?? defaultStart;
  const step: Step = (type, source, data, cause = events[events.length - 1]) => {
    const event = createEvent(type, data as never, {
      source: `/shoal/${source}`,
      subject: type === 'shoal.notifications.CustomerNotified' ? customerId : orderId,
      ...(type === 'shoal.notifications.CustomerNotified' ? { partitionKey: customerId } : {}),
      ...(cause === null || cause === undefined ? {} : { causedBy: cause }),
      time: new Date(time),
    }) as ShoalEvent;
    time += 1000;
    events.push(event);
    return event;
  };
  write(step, customerId, total);
  return { orderId, customerId, total, events };
}

type Step = <T extends ShoalEvent['type']>(type: T, source: string, data: Extract<ShoalEvent, { type: T }>['data'], cause?: ShoalEvent | null) => ShoalEvent;

function placedData(orderId: string, customerId: string, total: { amount: number; currency: string }) {
  return { orderId, customerId, lines: [{ sku: 'SKU-1', quantity: 2, unitPrice: { amount: total.amount / 2, currency: total.currency } }], total, shippingAddress: null, placedAt: 0 };
}

function notified(orderId: string, customerId: string, about: string) {
  return { notificationId: `n-${orderId}-${about}`, customerId, orderId, channel: 'EMAIL' as const, template: about, message: `about ${about}`, notifiedAt: 0 };
}

/** Placed, reserved, paid, confirmed, scheduled, dispatched, shipped, with the customer's notifications and loyalty points. */
export function shippedFlow(orderId: string, options: FlowOptions = {}): OrderFlow {
  return flow(orderId, options, (step, c, total) => {
    const placed = step('shoal.orders.OrderPlaced', 'orders', placedData(orderId, c, total), null);
    step('shoal.notifications.CustomerNotified', 'notifications', notified(orderId, c, 'placed'), placed);
    step('shoal.inventory.StockReserved', 'inventory', { orderId, customerId: c, lines: [], total, reservedAt: 0 }, placed);
    step('shoal.payments.PaymentAuthorized', 'payments', { paymentId: `p-${orderId}`, orderId, customerId: c, amount: total, authorizedAt: 0 });
    const confirmed = step('shoal.orders.OrderConfirmed', 'orders', { orderId, customerId: c, paymentId: `p-${orderId}`, total, confirmedAt: 0 });
    step('shoal.notifications.CustomerNotified', 'notifications', notified(orderId, c, 'confirmed'), confirmed);
    const scheduled = step('shoal.shipping.ShipmentScheduled', 'shipping', { shipmentId: `s-${orderId}`, orderId, customerId: c, scheduledAt: 0 }, confirmed);
    step('shoal.shipping.ShipmentDispatched', 'shipping', { shipmentId: `s-${orderId}`, orderId, customerId: c, trackingNumber: `TRK-${orderId.toUpperCase()}`, dispatchedAt: 0 }, scheduled);
    const shipped = step('shoal.orders.OrderShipped', 'orders', { orderId, customerId: c, shipmentId: `s-${orderId}`, trackingNumber: `TRK-${orderId.toUpperCase()}`, shippedAt: 0 });
    step('shoal.notifications.CustomerNotified', 'notifications', notified(orderId, c, 'shipped'), shipped);
    step('shoal.loyalty.PointsAwarded', 'loyalty', { orderId, customerId: c, points: total.amount / 100, total, balance: total.amount / 100, awardedAt: 0 }, shipped);
  });
}

/** Placed, reserved, payment declined, cancelled, stock released. */
export function declinedFlow(orderId: string, options: FlowOptions = {}): OrderFlow {
  return flow(orderId, options, (step, c, total) => {
    const placed = step('shoal.orders.OrderPlaced', 'orders', placedData(orderId, c, total), null);
    step('shoal.inventory.StockReserved', 'inventory', { orderId, customerId: c, lines: [], total, reservedAt: 0 }, placed);
    const declined = step('shoal.payments.PaymentDeclined', 'payments', { paymentId: `p-${orderId}`, orderId, customerId: c, amount: total, reason: 'credit limit exceeded', declinedAt: 0 });
    step('shoal.orders.OrderCancelled', 'orders', { orderId, customerId: c, reason: 'PAYMENT_DECLINED', detail: 'credit limit exceeded', cancelledAt: 0 }, declined);
    step('shoal.inventory.StockReleased', 'inventory', { orderId, lines: [{ sku: 'SKU-1', quantity: 2 }], reason: 'shoal.payments.PaymentDeclined', releasedAt: 0 }, declined);
  });
}

/**
 * Confirmed and scheduled, then cancelled by the customer over HTTP: the cancel starts a flow of its own
 * (no cause, so its own correlation id), which refunds, releases and cancels the shipment.
 */
export function customerCancelledFlow(orderId: string, options: FlowOptions = {}): OrderFlow {
  return flow(orderId, options, (step, c, total) => {
    const placed = step('shoal.orders.OrderPlaced', 'orders', placedData(orderId, c, total), null);
    step('shoal.inventory.StockReserved', 'inventory', { orderId, customerId: c, lines: [], total, reservedAt: 0 }, placed);
    step('shoal.payments.PaymentAuthorized', 'payments', { paymentId: `p-${orderId}`, orderId, customerId: c, amount: total, authorizedAt: 0 });
    const confirmed = step('shoal.orders.OrderConfirmed', 'orders', { orderId, customerId: c, paymentId: `p-${orderId}`, total, confirmedAt: 0 });
    step('shoal.shipping.ShipmentScheduled', 'shipping', { shipmentId: `s-${orderId}`, orderId, customerId: c, scheduledAt: 0 }, confirmed);
    const cancelled = step('shoal.orders.OrderCancelled', 'orders', { orderId, customerId: c, reason: 'CUSTOMER_REQUEST', detail: 'cancelled by the customer', cancelledAt: 0 }, null);
    step('shoal.payments.PaymentRefunded', 'payments', { paymentId: `p-${orderId}`, orderId, customerId: c, amount: total, refundedAt: 0 }, cancelled);
    step('shoal.inventory.StockReleased', 'inventory', { orderId, lines: [{ sku: 'SKU-1', quantity: 2 }], reason: 'shoal.orders.OrderCancelled', releasedAt: 0 }, cancelled);
    step('shoal.shipping.ShipmentCancelled', 'shipping', { shipmentId: `s-${orderId}`, orderId, customerId: c, reason: 'order cancelled', cancelledAt: 0 }, cancelled);
  });
}

/** Placed and confirmed, nothing after. */
export function confirmedFlow(orderId: string, options: FlowOptions = {}): OrderFlow {
  return flow(orderId, options, (step, c, total) => {
    const placed = step('shoal.orders.OrderPlaced', 'orders', placedData(orderId, c, total), null);
    step('shoal.inventory.StockReserved', 'inventory', { orderId, customerId: c, lines: [], total, reservedAt: 0 }, placed);
    step('shoal.payments.PaymentAuthorized', 'payments', { paymentId: `p-${orderId}`, orderId, customerId: c, amount: total, authorizedAt: 0 });
    step('shoal.orders.OrderConfirmed', 'orders', { orderId, customerId: c, paymentId: `p-${orderId}`, total, confirmedAt: 0 });
  });
}

/** The topic of an event, as the services publish it. */
export function topicOf(event: ShoalEvent): string {
  return EVENT_TOPICS[event.type];
}

/**
 * The events with each topic's events kept in order but the topics taken in the order given: what a
 * consumer of several topics may see (nothing orders events across topics).
 */
export function byTopics(events: readonly ShoalEvent[], topics: readonly string[]): ShoalEvent[] {
  return topics.flatMap((topic) => events.filter((event) => topicOf(event) === topic));
}
