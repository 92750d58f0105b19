/**
 * A shipment and what may happen to it, as pure functions of the shipment, the clock and the tracking number
 * (both given by the caller, so the rules are tested without a database or a timer):
 *
 *   (none) --OrderConfirmed--> SCHEDULED --dispatch--> DISPATCHED
 *                                   |
 *                                   +--OrderCancelled--> CANCELLED
 *
 * DISPATCHED and CANCELLED are final. Dispatching twice answers the dispatched shipment as it is (a client
 * retrying after a lost response must not get an error, nor a second tracking number); dispatching a cancelled
 * shipment is refused. An OrderCancelled that finds the parcel already dispatched changes nothing: it is too
 * late, the goods are with the carrier (see `decideCancel`).
 */
import { randomInt } from 'node:crypto';
import { ShoalError } from '@shoal/core';

export const SHIPMENT_STATUSES = ['SCHEDULED', 'DISPATCHED', 'CANCELLED'] as const;
export type ShipmentStatus = (typeof SHIPMENT_STATUSES)[number];

export interface Shipment {
  shipmentId: string;
  orderId: string;
  customerId: string;
  status: ShipmentStatus;
  trackingNumber: string | null;
  /** Milliseconds since the epoch, by the shipping service's clock. */
  scheduledAt: number;
  dispatchedAt: number | null;
  cancelledAt: number | null;
  /** The order flow's correlation id, carried on by the events this shipment emits later. */
  correlationId: string;
  /** Id of the ShipmentScheduled event: the cause of a later dispatch, which no event triggers. */
  scheduledEventId: string;
}

export interface ConfirmedOrder {
  orderId: string;
  customerId: string;
  correlationId: string;
}

export function scheduleShipment(order: ConfirmedOrder, shipmentId: string, scheduledEventId: string, now: number): Shipment {
  return {
    shipmentId,
    orderId: order.orderId,
    customerId: order.customerId,
    status: 'SCHEDULED',
    trackingNumber: null,
    scheduledAt: now,
    dispatchedAt: null,
    cancelledAt: null,
    correlationId: order.correlationId,
    scheduledEventId,
  };
}

export type DispatchDecision = { kind: 'dispatch'; shipment: Shipment } | { kind: 'already-dispatched'; shipment: Shipment };

/** Throws SHOAL_COMMAND_REJECTED for a cancelled shipment. */
export function decideDispatch(shipment: Shipment, trackingNumber: string, now: number): DispatchDecision {
  switch (shipment.status) {
    case 'SCHEDULED':
      return { kind: 'dispatch', shipment: { ...shipment, status: 'DISPATCHED', trackingNumber, dispatchedAt: now } };
    case 'DISPATCHED':
      return { kind: 'already-dispatched', shipment };
    case 'CANCELLED':
      throw new ShoalError('SHOAL_COMMAND_REJECTED', `Shipment ${shipment.shipmentId} was cancelled with its order ${shipment.orderId}: it cannot be dispatched`, {
        details: { shipmentId: shipment.shipmentId, status: shipment.status },
      });
  }
}

export type CancelDecision =
  | { kind: 'cancel'; shipment: Shipment }
  | { kind: 'too-late'; shipment: Shipment }
  | { kind: 'already-cancelled'; shipment: Shipment }
  | { kind: 'nothing-scheduled' };

/**
 * What an OrderCancelled does to the order's shipment.
 *
 * `too-late` is a real race of the choreography, not an error: orders accepts a customer's cancel until it
 * hears of the dispatch (ShipmentDispatched -> OrderShipped), so a cancel can cross a dispatch in flight.
 * The parcel is with the carrier and cannot be called back here; the order ends CANCELLED (payments refunds,
 * inventory releases) while the goods travel, which a human resolves (a return). Shipping logs it at warn.
 *
 * `nothing-scheduled`: the order was cancelled before it was confirmed (out of stock, payment declined, or
 * the customer's cancel while PLACED). Both events are on orders.order under the order's key, so an
 * OrderConfirmed can never arrive after the OrderCancelled of the same order: there is nothing to remember.
 */
export function decideCancel(shipment: Shipment | undefined, now: number): CancelDecision {
  if (shipment === undefined) return { kind: 'nothing-scheduled' };
  switch (shipment.status) {
    case 'SCHEDULED':
      return { kind: 'cancel', shipment: { ...shipment, status: 'CANCELLED', cancelledAt: now } };
    case 'DISPATCHED':
      return { kind: 'too-late', shipment };
    case 'CANCELLED':
      return { kind: 'already-cancelled', shipment };
  }
}

const TRACKING_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
export const TRACKING_NUMBER_PATTERN = /^TRK-[A-Z0-9]{10}$/;

/** `TRK-` and ten random upper-case letters and digits (36^10, about 3.7e15: collisions are not a concern). */
export function newTrackingNumber(random: (below: number) => number = randomInt): string {
  let suffix = '';
  for (let i = 0; i < 10; i += 1) suffix += TRACKING_ALPHABET[random(TRACKING_ALPHABET.length)];
  return `TRK-${suffix}`;
}
