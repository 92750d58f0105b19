import { describe, expect, it } from 'vitest';
import { formatBytes } from './topics.js';

describe('formatBytes', () => {
  it.each([
    [null, '-'],
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1.0 KiB'],
    [1229, '1.2 KiB'],
    [3.4 * 1024 * 1024, '3.4 MiB'],
    // Rounds up into the next unit instead of printing 1024.0 KiB.
    [1024 * 1024 - 1, '1.0 MiB'],
    [5 * 1024 ** 4, '5.0 TiB'],
  ])('prints %s as %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});
