import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Benchmarks live beside the package they measure: `<package>/bench/<name>.bench.ts`. A name may stand for
 * several files: `runtime` is the runtime libraries' three, the relay, consumer and projection files in turn.
 */
const benches: Record<string, readonly string[]> = {
  broker: ['infra/broker/bench/broker.bench.ts'],
  registry: ['infra/schema-registry/bench/registry.bench.ts'],
  codec: ['libs/contract/bench/codec.bench.ts'],
  relay: ['libs/outbox/bench/relay.bench.ts'],
  consumer: ['libs/consumer/bench/consumer.bench.ts'],
  projections: ['libs/projections/bench/rebuild.bench.ts'],
  sidecar: ['infra/sidecar/bench/sidecar.bench.ts'],
  console: ['infra/console/bench/console.bench.ts'],
  // The whole platform (shoal dev and the six services), so it lives with the end-to-end tests.
  e2e: ['test/bench/e2e.bench.ts'],
};
const groups: Record<string, readonly string[]> = {
  runtime: ['relay', 'consumer', 'projections'],
};
/** What `shoal bench` with no name runs: every benchmark once. */
const everything = Object.keys(benches);

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

const benchNames = [...Object.keys(benches), ...Object.keys(groups)];

export async function runBench(argv: string[]): Promise<number> {
  // Benchmark names come first; everything from the first option on is the benchmarks' own (`--rate 100`).
  const firstOption = argv.findIndex((a) => a.startsWith('-'));
  const names = firstOption === -1 ? argv : argv.slice(0, firstOption);
  const options = firstOption === -1 ? [] : argv.slice(firstOption);
  const selected = names.length === 0 ? everything : names.flatMap((name) => groups[name] ?? [name]);
  for (const name of selected) {
    const files = benches[name];
    if (!files) {
      process.stderr.write(`shoal bench: unknown benchmark '${name}' (available: ${benchNames.join(', ')})\n`);
      return 1;
    }
    for (const file of files) {
      const path = join(repoRoot, file);
      if (!existsSync(path)) {
        process.stderr.write(`shoal bench: ${file} is missing\n`);
        return 1;
      }
      // A child process per benchmark: each gets a clean heap and event loop, so figures do not bleed.
      const result = spawnSync(process.execPath, ['--import', 'tsx', path, ...options], { stdio: 'inherit', cwd: repoRoot });
      if (result.status !== 0) return result.status ?? 1;
    }
  }
  return 0;
}
