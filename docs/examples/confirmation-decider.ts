/**
 * A decider and the command handler that runs it on an event store: what docs/reference/eventstore.md
 * shows. The decider is a cut-down order (placed, then confirmed once); the orders service's real one is
 * services/orders/src/order/order-decider.ts.
 */
// #region decider
import { ShoalError } from '@shoal/core';
import type { Decider, DomainEvent } from '@shoal/eventstore';
import type { OrderPlaced } from '@shoal/contract';

type ConfirmationEvent = DomainEvent<'shoal.orders.OrderPlaced' | 'shoal.orders.OrderConfirmed'>;
type ConfirmationState = { status: 'NONE' } | { status: 'PLACED' | 'CONFIRMED'; order: OrderPlaced };
export type ConfirmationCommand =
  | { type: 'Place'; order: OrderPlaced }
  | { type: 'Confirm'; paymentId: string; at: number }; // a command carries its time: decide stays pure

export const confirmationDecider: Decider<ConfirmationState, ConfirmationCommand, ConfirmationEvent> = {
  initialState: () => ({ status: 'NONE' }),
  evolve: (state, event) => {
    switch (event.type) {
      case 'shoal.orders.OrderPlaced':
        return { status: 'PLACED', order: event.data };
      case 'shoal.orders.OrderConfirmed':
        return state.status === 'NONE' ? state : { ...state, status: 'CONFIRMED' };
    }
  },
  decide: (command, state) => {
    if (command.type === 'Place') return state.status === 'NONE' ? [{ type: 'shoal.orders.OrderPlaced', data: command.order }] : [];
    if (state.status === 'NONE') throw new ShoalError('SHOAL_NOT_FOUND', 'No such order'); // refused, never retried
    if (state.status === 'CONFIRMED') return []; // already done: nothing to append
    const { orderId, customerId, total } = state.order;
    return [{ type: 'shoal.orders.OrderConfirmed', data: { orderId, customerId, paymentId: command.paymentId, total, confirmedAt: command.at } }];
  },
};
// #endregion decider

// #region handle-command
import { EventStore, handleCommand } from '@shoal/eventstore';
import type { ServiceDatabase } from '@shoal/store';

/** Places an order and confirms it; each command reads the stream, decides, and appends (events and outbox rows). */
export async function placeAndConfirm(database: ServiceDatabase, order: OrderPlaced) {
  const store = await EventStore.open(database, { source: '/shoal/orders' }); // creates its tables if missing
  await handleCommand(store, confirmationDecider, order.orderId, { type: 'Place', order });
  const confirmed = await handleCommand(store, confirmationDecider, order.orderId, { type: 'Confirm', paymentId: 'pay-1', at: Date.now() });
  return { state: confirmed.newState, version: confirmed.nextExpectedVersion, stream: await store.readStream(order.orderId) };
}
// #endregion handle-command
