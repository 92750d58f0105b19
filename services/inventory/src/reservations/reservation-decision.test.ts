import { describe, expect, it } from 'vitest';
import { decideReservation, describeUnavailable, MAX_EVENT_QUANTITY, quantitiesBySku } from './reservation-decision.js';

const levels = (available: Record<string, number>) => (sku: string) => available[sku] ?? 0;

describe('decideReservation', () => {
  it('reserves every line when each sku has enough', () => {
    expect(decideReservation([{ sku: 'A', quantity: 2 }, { sku: 'B', quantity: 1 }], levels({ A: 2, B: 5 }))).toEqual({
      outcome: 'reserved',
      quantities: [{ sku: 'A', quantity: 2 }, { sku: 'B', quantity: 1 }],
    });
  });

  it('reserves nothing when one line is short, and names only the short skus', () => {
    expect(decideReservation([{ sku: 'A', quantity: 2 }, { sku: 'B', quantity: 6 }], levels({ A: 10, B: 5 }))).toEqual({
      outcome: 'failed',
      quantities: [{ sku: 'A', quantity: 2 }, { sku: 'B', quantity: 6 }],
      unavailable: [{ sku: 'B', requested: 6, available: 5 }],
    });
  });

  it('counts an sku listed twice twice', () => {
    const lines = [{ sku: 'A', quantity: 3 }, { sku: 'B', quantity: 1 }, { sku: 'A', quantity: 3 }];
    expect(decideReservation(lines, levels({ A: 5, B: 1 }))).toMatchObject({ outcome: 'failed', unavailable: [{ sku: 'A', requested: 6, available: 5 }] });
    expect(decideReservation(lines, levels({ A: 6, B: 1 }))).toEqual({ outcome: 'reserved', quantities: [{ sku: 'A', quantity: 6 }, { sku: 'B', quantity: 1 }] });
  });

  it('treats an unknown sku as having nothing available', () => {
    expect(decideReservation([{ sku: 'NEW', quantity: 1 }], levels({}))).toMatchObject({ outcome: 'failed', unavailable: [{ sku: 'NEW', requested: 1, available: 0 }] });
  });

  it('refuses a line below one unit as poison instead of adding stock', () => {
    expect(() => quantitiesBySku([{ sku: 'A', quantity: -2 }])).toThrow(expect.objectContaining({ code: 'SHOAL_EVENT_DATA_INVALID', retriable: false }));
    expect(() => decideReservation([{ sku: 'A', quantity: 0 }], levels({ A: 1 }))).toThrow(/at least 1/);
  });

  it('keeps the quantities it reports within an Avro int', () => {
    const big = Math.floor(MAX_EVENT_QUANTITY / 2) + 1;
    const decision = decideReservation([{ sku: 'A', quantity: big }, { sku: 'A', quantity: big }], levels({ A: 3 }));
    expect(decision).toMatchObject({ outcome: 'failed', unavailable: [{ sku: 'A', requested: MAX_EVENT_QUANTITY, available: 3 }] });
  });
});

describe('describeUnavailable', () => {
  it('says what was asked and what there was, per sku', () => {
    expect(describeUnavailable([{ sku: 'A', requested: 3, available: 2 }, { sku: 'B', requested: 1, available: 0 }])).toBe('A: 3 requested, 2 available; B: 1 requested, 0 available');
  });
});
