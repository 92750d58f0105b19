import { describe, expect, it } from 'vitest';
import { isShoalError } from '@shoal/core';
import { parseTimestamp } from './parse-timestamp.js';

describe('parseTimestamp', () => {
  it.each([
    ['2026-01-31T12:00:00Z', Date.UTC(2026, 0, 31, 12)],
    ['2026-01-31T13:00:00.250+01:00', Date.UTC(2026, 0, 31, 12, 0, 0, 250)],
    ['2026-01-31 12:00:00z', Date.UTC(2026, 0, 31, 12)],
    ['1769860800000', 1_769_860_800_000],
    [0, 0],
  ])('reads %j', (value, expected) => {
    expect(parseTimestamp(value)).toBe(expected);
  });

  it.each(['2026-01-31T12:00:00', '2026-01-31', 'yesterday', '12.5', '-5', '2026-13-45T99:00:00Z'])('refuses %j', (value) => {
    let error: unknown;
    try {
      parseTimestamp(value);
    } catch (caught) {
      error = caught;
    }
    expect(isShoalError(error, 'SHOAL_CONFIG_INVALID')).toBe(true);
  });
});
