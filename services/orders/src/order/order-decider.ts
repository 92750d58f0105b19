/**
 * The Order aggregate, event-sourced: its state is the fold of its stream (OrderPlaced, then at most one of
 * OrderConfirmed / OrderCancelled, then OrderShipped after a confirmation), and every change is decided here,
 * purely, from a command and that state. Time and ids come in the commands; HTTP and Kafka stay outside.
 *
 *             PaymentAuthorized              ShipmentDispatched
 *   PLACED ───────────────────▶ CONFIRMED ─────────────────────▶ SHIPPED
 *      │                           │
 *      │ StockReservationFailed,   │ customer cancel
 *      │ PaymentDeclined,          │
 *      │ customer cancel           ▼
 *      └─────────────────────▶ CANCELLED
 *
 * Two kinds of command, refused differently:
 *
 * - The customer's (PlaceOrder, CancelOrder) answer a request, so a command the order cannot take is refused
 *   with a ShoalError the HTTP layer turns into a status: SHOAL_NOT_FOUND for an order that does not exist,
 *   SHOAL_COMMAND_REJECTED when a rule says no. Repeating a command that already took effect (the same
 *   placement with the same client-chosen id, a cancel of a cancelled order) decides nothing and succeeds, so
 *   clients can retry safely.
 * - The reactions (ConfirmOrder, RejectOrder, ShipOrder) report what another service decided. Events of one
 *   order on one topic arrive in order, but the three upstream topics are not ordered with each other nor with
 *   the customer's requests, so a reaction can find the order in a state where it no longer applies. It then
 *   decides nothing: refusing would only dead-letter a fact about the world that no retry can change. Each such
 *   case is commented where it is decided. The same holds for an order this service never placed (a replayed
 *   or foreign topic): nothing to change.
 */
import { ShoalError } from '@shoal/core';
import type { Decider, DomainEvent } from '@shoal/eventstore';
import type { Address, LineItem, Money, OrderCancellationReason } from '@shoal/contract';

export const ORDER_STATUSES = ['PLACED', 'CONFIRMED', 'CANCELLED', 'SHIPPED'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export type OrderEvent = DomainEvent<'shoal.orders.OrderPlaced' | 'shoal.orders.OrderConfirmed' | 'shoal.orders.OrderCancelled' | 'shoal.orders.OrderShipped'>;

/** An order that was placed: plain data (no Avro record instances), as a query or a snapshot would keep it. */
export interface Order {
  status: OrderStatus;
  orderId: string;
  customerId: string;
  lines: LineItem[];
  total: Money;
  shippingAddress: Address | null;
  placedAt: number;
  paymentId?: string;
  shipmentId?: string;
  trackingNumber?: string;
  cancellation?: { reason: OrderCancellationReason; detail: string };
}

/** Before its OrderPlaced an order has no state but its absence. */
export type OrderState = { status: 'NONE' } | Order;

/** A line as the customer orders it: the unit price in minor units of the order's currency. */
export interface OrderLineRequest {
  sku: string;
  quantity: number;
  unitPrice: number;
}

export interface PlaceOrder {
  type: 'PlaceOrder';
  orderId: string;
  customerId: string;
  currency: string;
  lines: OrderLineRequest[];
  shippingAddress: Address | null;
  now: number;
}

/** The customer's cancel. */
export interface CancelOrder {
  type: 'CancelOrder';
  orderId: string;
  detail: string;
  now: number;
}

/** Payments authorized the order's payment. */
export interface ConfirmOrder {
  type: 'ConfirmOrder';
  orderId: string;
  paymentId: string;
  now: number;
}

/** The choreography cannot fulfil the order: its stock could not be reserved, or its payment was declined. */
export interface RejectOrder {
  type: 'RejectOrder';
  orderId: string;
  reason: Exclude<OrderCancellationReason, 'CUSTOMER_REQUEST'>;
  detail: string;
  now: number;
}

/** Shipping handed the order's shipment to the carrier. */
export interface ShipOrder {
  type: 'ShipOrder';
  orderId: string;
  shipmentId: string;
  trackingNumber: string;
  shippedAt: number;
}

export type OrderCommand = PlaceOrder | CancelOrder | ConfirmOrder | RejectOrder | ShipOrder;

export const CUSTOMER_CANCEL_DETAIL = 'cancelled by the customer';

export const orderDecider: Decider<OrderState, OrderCommand, OrderEvent> = {
  initialState: (): OrderState => ({ status: 'NONE' }),
  evolve,
  decide,
};

function evolve(state: OrderState, event: OrderEvent): OrderState {
  switch (event.type) {
    case 'shoal.orders.OrderPlaced': {
      const { data } = event;
      // Stored and decoded events are Avro record instances: copy them into plain data.
      return {
        status: 'PLACED',
        orderId: data.orderId,
        customerId: data.customerId,
        lines: data.lines.map((line) => ({ sku: line.sku, quantity: line.quantity, unitPrice: money(line.unitPrice) })),
        total: money(data.total),
        shippingAddress: data.shippingAddress === null ? null : address(data.shippingAddress),
        placedAt: data.placedAt,
      };
    }
    case 'shoal.orders.OrderConfirmed':
      return state.status === 'NONE' ? state : { ...state, status: 'CONFIRMED', paymentId: event.data.paymentId };
    case 'shoal.orders.OrderCancelled':
      return state.status === 'NONE' ? state : { ...state, status: 'CANCELLED', cancellation: { reason: event.data.reason, detail: event.data.detail } };
    case 'shoal.orders.OrderShipped':
      return state.status === 'NONE' ? state : { ...state, status: 'SHIPPED', shipmentId: event.data.shipmentId, trackingNumber: event.data.trackingNumber };
  }
}

function decide(command: OrderCommand, state: OrderState): OrderEvent[] {
  switch (command.type) {
    case 'PlaceOrder':
      return place(command, state);
    case 'CancelOrder':
      return cancel(command, state);
    case 'ConfirmOrder':
      return confirm(command, state);
    case 'RejectOrder':
      return reject(command, state);
    case 'ShipOrder':
      return ship(command, state);
  }
}

function place(command: PlaceOrder, state: OrderState): OrderEvent[] {
  if (state.status !== 'NONE') {
    // A client retrying with its own order id: the same placement again is a success that changes nothing;
    // another placement under that id would silently be a different order.
    if (placementOf(command) === placementOf(state)) return [];
    throw new ShoalError('SHOAL_COMMAND_REJECTED', `Order ${command.orderId} already exists with another customer, currency, lines or shipping address`, {
      details: { orderId: command.orderId },
    });
  }
  const lines = command.lines.map((line) => ({ sku: line.sku, quantity: line.quantity, unitPrice: { amount: line.unitPrice, currency: command.currency } }));
  const amount = lines.reduce((sum, line) => sum + line.quantity * line.unitPrice.amount, 0);
  if (!Number.isSafeInteger(amount)) {
    throw new ShoalError('SHOAL_REQUEST_INVALID', `The total of order ${command.orderId} is too large to be represented exactly in minor units`, {
      details: { orderId: command.orderId },
    });
  }
  return [
    {
      type: 'shoal.orders.OrderPlaced',
      data: {
        orderId: command.orderId,
        customerId: command.customerId,
        lines,
        total: { amount, currency: command.currency },
        shippingAddress: command.shippingAddress,
        placedAt: command.now,
      },
    },
  ];
}

function cancel(command: CancelOrder, state: OrderState): OrderEvent[] {
  switch (state.status) {
    case 'NONE':
      throw notFound(command.orderId);
    case 'PLACED':
    case 'CONFIRMED':
      return [cancelled(state, 'CUSTOMER_REQUEST', command.detail, command.now)];
    case 'CANCELLED':
      // Already cancelled, by this customer or by the choreography: the customer's wish holds either way.
      return [];
    case 'SHIPPED':
      throw new ShoalError('SHOAL_COMMAND_REJECTED', `Order ${command.orderId} cannot be cancelled: it has already shipped`, {
        details: { orderId: command.orderId, status: state.status },
      });
  }
}

function confirm(command: ConfirmOrder, state: OrderState): OrderEvent[] {
  switch (state.status) {
    case 'PLACED':
      return [
        {
          type: 'shoal.orders.OrderConfirmed',
          data: { orderId: state.orderId, customerId: state.customerId, paymentId: command.paymentId, total: state.total, confirmedAt: command.now },
        },
      ];
    case 'NONE':
      // Not an order of this service's (a replayed or foreign topic): nothing to confirm.
      return [];
    case 'CONFIRMED':
    case 'SHIPPED':
      // Confirmed already: a second authorization for the same order changes nothing here.
      return [];
    case 'CANCELLED':
      // The customer cancelled while the payment was being authorized (or the payment arrived after a
      // cancellation for another reason). The order stays cancelled: payments refunds an authorized payment
      // when it sees OrderCancelled, whichever of the two it handled first.
      return [];
  }
}

function reject(command: RejectOrder, state: OrderState): OrderEvent[] {
  switch (state.status) {
    case 'PLACED':
      return [cancelled(state, command.reason, command.detail, command.now)];
    case 'NONE':
      // Not an order of this service's: nothing to cancel.
      return [];
    case 'CANCELLED':
      // Cancelled already (the customer was faster, or the other failure came first): the first reason stands,
      // and the compensations it started cover this one too.
      return [];
    case 'CONFIRMED':
    case 'SHIPPED':
      // Payments authorizes only after inventory reserved every line, and decides once per order, so neither a
      // reservation failure nor a decline can follow a confirmation in this choreography. Should one arrive
      // (a payment attempt retried upstream), the authorized payment the order was confirmed with stands.
      return [];
  }
}

function ship(command: ShipOrder, state: OrderState): OrderEvent[] {
  switch (state.status) {
    case 'CONFIRMED':
      return [
        {
          type: 'shoal.orders.OrderShipped',
          data: { orderId: state.orderId, customerId: state.customerId, shipmentId: command.shipmentId, trackingNumber: command.trackingNumber, shippedAt: command.shippedAt },
        },
      ];
    case 'NONE':
      // Not an order of this service's: nothing to ship.
      return [];
    case 'SHIPPED':
      // Shipped already: a second dispatch notice changes nothing.
      return [];
    case 'PLACED':
      // Shipping schedules a shipment only on OrderConfirmed, which this aggregate emitted after leaving
      // PLACED, so a dispatch cannot find the order here; if it ever did, nothing confirms it was paid.
      return [];
    case 'CANCELLED':
      // The customer cancelled after the order was confirmed, and shipping dispatched before it handled the
      // OrderCancelled. The cancellation was promised to the customer and already compensated (refund, stock
      // release), so the order stays cancelled; the reaction logs this case at warn for someone to recover the parcel.
      return [];
  }
}

function cancelled(order: Order, reason: OrderCancellationReason, detail: string, now: number): OrderEvent {
  return { type: 'shoal.orders.OrderCancelled', data: { orderId: order.orderId, customerId: order.customerId, reason, detail, cancelledAt: now } };
}

export function notFound(orderId: string): ShoalError {
  return new ShoalError('SHOAL_NOT_FOUND', `No order ${orderId}`, { details: { orderId } });
}

/** What a placement asked for, in a canonical form two placements can be compared by. */
function placementOf(placement: PlaceOrder | Order): string {
  const currency = 'currency' in placement ? placement.currency : placement.total.currency;
  const lines = placement.lines.map((line) => [line.sku, line.quantity, typeof line.unitPrice === 'number' ? line.unitPrice : line.unitPrice.amount]);
  const to = placement.shippingAddress;
  const shippingAddress = to === null ? null : [to.line1, to.line2 ?? null, to.city, to.postalCode, to.country];
  return JSON.stringify([placement.customerId, currency, lines, shippingAddress]);
}

function money(value: Money): Money {
  return { amount: value.amount, currency: value.currency };
}

function address(value: Address): Address {
  return { line1: value.line1, line2: value.line2 ?? null, city: value.city, postalCode: value.postalCode, country: value.country };
}
