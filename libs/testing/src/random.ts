/**
 * Seeded randomness: every random choice of a test replays from one number. A run takes its seed from
 * SHOAL_FUZZ_SEED, or draws a fresh one; each test's generator is derived from that seed and the test's
 * name, so one test replays alone, whichever other tests ran. A failing test prints the seed and the
 * command that replays it.
 */
import { randomInt } from 'node:crypto';
import { relative } from 'node:path';
import { expect, onTestFailed } from 'vitest';

/** mulberry32: small and fast; statistical quality does not matter for picking test inputs. */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A number in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)]!;
  }

  bytes(length: number): Buffer {
    const bytes = Buffer.allocUnsafe(length);
    for (let i = 0; i < length; i++) bytes[i] = this.int(0, 255);
    return bytes;
  }
}

let runSeed: number | undefined;

/** SHOAL_FUZZ_SEED, or one fresh seed for the whole run of this file. */
export function fuzzSeed(): number {
  if (runSeed !== undefined) return runSeed;
  const given = process.env['SHOAL_FUZZ_SEED'];
  if (given !== undefined && !/^\d+$/.test(given)) throw new Error(`SHOAL_FUZZ_SEED must be a non-negative integer, got '${given}'`);
  runSeed = given === undefined ? randomInt(2 ** 31) : Number(given);
  return runSeed;
}

/**
 * A generator for the calling test, from the run's seed and the test's full name (and `label`, for a
 * second generator in one test). Prints the seed and how to replay it if the test fails.
 */
export function seededRandom(label = ''): Random {
  const { currentTestName, testPath } = expect.getState();
  if (currentTestName === undefined) throw new Error('seededRandom() draws from the current test: call it inside one');
  const seed = fuzzSeed();
  onTestFailed(() => {
    const file = testPath === undefined ? '' : ` ${relative(process.cwd(), testPath)}`;
    console.error(`seeded test failed with seed ${seed}: replay with SHOAL_FUZZ_SEED=${seed} npx vitest run${file}`);
  });
  let hash = (seed ^ 0x811c9dc5) >>> 0;
  for (const char of `${currentTestName}\u0000${label}`) hash = Math.imul(hash ^ char.charCodeAt(0), 0x01000193) >>> 0;
  return new Random(hash);
}
