import { ShoalError } from '@shoal/core';

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** Milliseconds since the epoch, from an integer (or its string) or an RFC 3339 date-time with its offset. */
export function parseTimestamp(value: string | number): number {
  if (typeof value === 'number' || /^\d+$/.test(value)) {
    const ms = Number(value);
    if (Number.isSafeInteger(ms)) return ms;
  } else if (RFC3339.test(value)) {
    const ms = Date.parse(value);
    if (!Number.isNaN(ms)) return ms;
  }
  throw new ShoalError('SHOAL_CONFIG_INVALID', `Cannot read ${JSON.stringify(value)} as a time: give RFC 3339 with an offset (2026-01-31T12:00:00Z) or milliseconds since the epoch`);
}
