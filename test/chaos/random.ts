/**
 * Seeded randomness for the fuzz tests: every random choice is replayable from the seed a run prints.
 */

/** The run's seed: SHOAL_FUZZ_SEED, or a fresh one, printed with the command that replays it. */
export function fuzzSeed(testFile: string): number {
  const given = process.env['SHOAL_FUZZ_SEED'];
  const seed = given === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(given);
  console.info(`chaos fuzz seed ${seed} (replay: SHOAL_FUZZ_SEED=${seed} npx vitest run ${testFile})`);
  return seed;
}

/** mulberry32: small and fast; statistical quality does not matter for picking fuzz inputs. */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

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

/** One generator per test, derived from the run's seed and the test's name, so each test replays alone. */
export function seededRandom(seed: number, testName: string): Random {
  let hash = (seed ^ 0x811c9dc5) >>> 0;
  for (let i = 0; i < testName.length; i++) hash = Math.imul(hash ^ testName.charCodeAt(i), 0x01000193) >>> 0;
  return new Random(hash);
}
