/** The sample decider specified the given/when/then way, with no database: docs/reference/eventstore.md. */
import { describe, it } from 'vitest';
import { ShoalError } from '@shoal/core';
import { orderPlacedData } from '@shoal/contract/testing';
import { DeciderSpecification } from '@shoal/eventstore/testing';
import { confirmationDecider } from './confirmation-decider.js';

describe('the sample confirmation decider', () => {
  it('confirms a placed order once, and refuses an unknown one', () => {
    // #region specification
    const order = orderPlacedData();
    const placed = { type: 'shoal.orders.OrderPlaced', data: order } as const;
    const confirm = { type: 'Confirm', paymentId: 'pay-1', at: 1 } as const;
    const confirmed = {
      type: 'shoal.orders.OrderConfirmed',
      data: { orderId: order.orderId, customerId: order.customerId, paymentId: 'pay-1', total: order.total, confirmedAt: 1 },
    } as const;

    const spec = DeciderSpecification.for(confirmationDecider);
    spec.given([placed]).when(confirm).then([confirmed]); // exactly these events, in order
    spec.given([placed, confirmed]).when(confirm).thenNothingHappened();
    spec.given([]).when(confirm).thenThrows(ShoalError, (error) => error.code === 'SHOAL_NOT_FOUND');
    // #endregion specification
  });
});
