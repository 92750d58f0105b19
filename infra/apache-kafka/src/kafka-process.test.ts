import { describe, expect, it } from 'vitest';
import { clusterId } from './kafka-process.js';

describe('clusterId', () => {
  it('is 16 random bytes in base64url that never start with a dash the storage tool would read as an option', () => {
    const ids = Array.from({ length: 20_000 }, () => clusterId());
    for (const id of ids) {
      expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
      expect(Buffer.from(id, 'base64url')).toHaveLength(16);
    }
    // One id in 64 would start with '-' if nothing prevented it; 20,000 draws all distinct and dash-free.
    expect(new Set(ids).size).toBe(ids.length);
  });
});
