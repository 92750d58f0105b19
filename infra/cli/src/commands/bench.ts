import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Benchmarks live beside the package they measure: `<package>/bench/<name>.bench.ts`. */
const benches: Record<string, string> = {
  broker: 'infra/broker/bench/broker.bench.ts',
  registry: 'infra/schema-registry/bench/registry.bench.ts',
  codec: 'libs/events/bench/codec.bench.ts',
  projections: 'libs/projections/bench/rebuild.bench.ts',
};

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

export async function runBench(argv: string[]): Promise<number> {
  const names = argv.filter((a) => !a.startsWith('-'));
  const selected = names.length === 0 ? Object.keys(benches) : names;
  for (const name of selected) {
    const file = benches[name];
    if (!file) {
      process.stderr.write(`shoal bench: unknown benchmark '${name}' (available: ${Object.keys(benches).join(', ')})\n`);
      return 1;
    }
    const path = join(repoRoot, file);
    if (!existsSync(path)) {
      process.stderr.write(`shoal bench: ${file} is missing\n`);
      return 1;
    }
    // A child process per benchmark: each gets a clean heap and event loop, so figures do not bleed.
    const result = spawnSync(process.execPath, ['--import', 'tsx', path, ...argv.filter((a) => a.startsWith('-'))], { stdio: 'inherit', cwd: repoRoot });
    if (result.status !== 0) return result.status ?? 1;
  }
  return 0;
}
