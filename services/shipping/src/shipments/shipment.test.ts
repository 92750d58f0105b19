import { describe, expect, it } from 'vitest';
import { isShoalError } from '@shoal/core';
import { decideCancel, decideDispatch, newTrackingNumber, scheduleShipment, TRACKING_NUMBER_PATTERN, type Shipment } from './shipment.js';

const scheduled = scheduleShipment({ orderId: 'o-1', customerId: 'c-1', correlationId: 'corr-1' }, 'shp-1', 'evt-1', 1_000);

describe('a shipment', () => {
  it('is scheduled for a confirmed order, keeping the flow it belongs to', () => {
    expect(scheduled).toEqual<Shipment>({
      shipmentId: 'shp-1',
      orderId: 'o-1',
      customerId: 'c-1',
      status: 'SCHEDULED',
      trackingNumber: null,
      scheduledAt: 1_000,
      dispatchedAt: null,
      cancelledAt: null,
      correlationId: 'corr-1',
      scheduledEventId: 'evt-1',
    });
  });

  it('is dispatched once with a tracking number; dispatching again answers it as it is', () => {
    const first = decideDispatch(scheduled, 'TRK-AAAAAAAAAA', 2_000);
    expect(first).toEqual({ kind: 'dispatch', shipment: { ...scheduled, status: 'DISPATCHED', trackingNumber: 'TRK-AAAAAAAAAA', dispatchedAt: 2_000 } });
    const again = decideDispatch(first.shipment, 'TRK-BBBBBBBBBB', 3_000);
    expect(again).toEqual({ kind: 'already-dispatched', shipment: first.shipment });
  });

  it('refuses to dispatch a cancelled shipment', () => {
    const cancelled = decideCancel(scheduled, 2_000);
    expect(cancelled).toEqual({ kind: 'cancel', shipment: { ...scheduled, status: 'CANCELLED', cancelledAt: 2_000 } });
    let refusal: unknown;
    try {
      decideDispatch((cancelled as { shipment: Shipment }).shipment, 'TRK-AAAAAAAAAA', 3_000);
    } catch (error) {
      refusal = error;
    }
    expect(isShoalError(refusal, 'SHOAL_COMMAND_REJECTED')).toBe(true);
    expect((refusal as Error).message).toContain('shp-1');
  });

  it('is not cancelled once dispatched, nor twice, nor when none was scheduled', () => {
    const dispatched = { ...scheduled, status: 'DISPATCHED' as const, trackingNumber: 'TRK-AAAAAAAAAA', dispatchedAt: 2_000 };
    expect(decideCancel(dispatched, 3_000)).toEqual({ kind: 'too-late', shipment: dispatched });
    const cancelled = { ...scheduled, status: 'CANCELLED' as const, cancelledAt: 2_000 };
    expect(decideCancel(cancelled, 3_000)).toEqual({ kind: 'already-cancelled', shipment: cancelled });
    expect(decideCancel(undefined, 3_000)).toEqual({ kind: 'nothing-scheduled' });
  });
});

describe('tracking numbers', () => {
  it('are TRK- and ten upper-case letters and digits drawn from the random source', () => {
    const picks = [0, 25, 26, 35, 1, 2, 3, 4, 5, 6];
    let next = 0;
    expect(newTrackingNumber(() => picks[next++]!)).toBe('TRK-AZ09BCDEFG');
    const numbers = new Set(Array.from({ length: 200 }, () => newTrackingNumber()));
    expect(numbers.size).toBe(200);
    for (const number of numbers) expect(number).toMatch(TRACKING_NUMBER_PATTERN);
  });
});
