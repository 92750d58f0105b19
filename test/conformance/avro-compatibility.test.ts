/**
 * Differential test of the registry's compatibility verdicts against Apache Avro's own checker: seeded schema
 * evolutions (./avro-evolutions.ts: unions of records, of several numeric types and of mixed kinds among
 * them), each asked both ways (new reads old, old reads new) of Shoal's registry over HTTP (register the
 * writer under a BACKWARD subject, then POST /compatibility with the reader) and of Debian's python3-avro
 * (ReaderWriterCompatibilityChecker, ./python/avro_compatibility.py). A schema one side refuses must be
 * refused by the other. Any pair on which they disagree fails the test, unless its kind of disagreement is
 * listed, with its reason, in docs/schema-registry.md ("Verdicts that differ from Apache Avro's").
 *
 * Seeded: replay a run with SHOAL_FUZZ_SEED=<seed> npx vitest run test/conformance/avro-compatibility.test.ts
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { startTestRegistry } from '@shoal/schema-registry/testing';
import { fuzzSeed, seededRandom } from '@shoal/testing';
import { SchemaEvolutions, unionKinds, type Evolution } from './avro-evolutions.js';
import { PYTHON, processReport, pythonEnv, pythonModulesMissingReason, runProcess } from './client-processes.js';

const TEST_FILE = 'test/conformance/avro-compatibility.test.ts';
const SEED = fuzzSeed();
const EVOLUTIONS = 400;
const SCRIPT_DIR = fileURLToPath(new URL('./python/', import.meta.url));
const SCRIPT_DEADLINE_S = 60;
const DOC = fileURLToPath(new URL('../../docs/schema-registry.md', import.meta.url));
const DOC_SECTION = "## Verdicts that differ from Apache Avro's";

type Verdict = 'compatible' | 'incompatible' | 'invalid writer' | 'invalid reader';

interface Pair {
  reader: string;
  writer: string;
  evolution: Evolution;
  direction: 'new reads old' | 'old reads new';
}

interface Answer {
  verdict: Verdict;
  problems: string[];
}

/** The kinds of disagreement docs/schema-registry.md lists with their reasons: `- \`KIND\`: why`. */
function listedDisagreements(): Set<string> {
  const doc = readFileSync(DOC, 'utf8');
  const start = doc.indexOf(DOC_SECTION);
  if (start < 0) return new Set();
  const section = doc.slice(start + DOC_SECTION.length).split(/\n## /, 1)[0]!;
  return new Set([...section.matchAll(/^- `([A-Z_]+)`/gm)].map((match) => match[1]!));
}

/**
 * The kind of a disagreement: a rule of the registry's that Apache Avro's checker does not have, known by the
 * error type of every message the registry gave; otherwise the two verdicts.
 */
function disagreementKind(shoal: Answer, avro: Answer): string {
  if (shoal.verdict === 'incompatible' && avro.verdict === 'compatible') {
    const types = new Set(shoal.problems.map((message) => /^version \d+ \(as writer\): ([A-Z_]+):/.exec(message)?.[1] ?? message));
    if (types.size === 1) return [...types][0]!;
  }
  return `registry: ${shoal.verdict}, Apache Avro: ${avro.verdict}`;
}

/** Runs `work` over `items` with at most `limit` in flight; results in order. */
async function mapLimited<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return results;
}

async function post(url: string, path: string, schema: string) {
  const response = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ schema }),
  });
  return { status: response.status, body: (await response.json()) as { error_code?: number; message?: string; is_compatible?: boolean; messages?: string[] } };
}

/** The writer registered under a subject of its own (BACKWARD, the global level), then the reader checked against it. */
async function askRegistry(url: string, pair: Pair, index: number): Promise<Answer> {
  const subject = `pair-${index}`;
  const registered = await post(url, `/subjects/${subject}/versions`, pair.writer);
  if (registered.status === 422 && registered.body.error_code === 42201) return { verdict: 'invalid writer', problems: [registered.body.message ?? ''] };
  if (registered.status !== 200) throw new Error(`registering the writer of pair ${index} answered ${registered.status} ${JSON.stringify(registered.body)}`);
  const checked = await post(url, `/compatibility/subjects/${subject}/versions/latest`, pair.reader);
  if (checked.status === 422 && checked.body.error_code === 42201) return { verdict: 'invalid reader', problems: [checked.body.message ?? ''] };
  if (checked.status !== 200) throw new Error(`checking the reader of pair ${index} answered ${checked.status} ${JSON.stringify(checked.body)}`);
  return { verdict: checked.body.is_compatible === true ? 'compatible' : 'incompatible', problems: [] };
}

/** Why the registry found the pair's reader incompatible: its verbose messages. */
async function registryReasons(url: string, pair: Pair, index: number): Promise<string[]> {
  const answer = await post(url, `/compatibility/subjects/pair-${index}/versions/latest?verbose=true`, pair.reader);
  return answer.body.messages ?? [];
}

async function askApacheAvro(pairs: readonly Pair[]): Promise<Answer[]> {
  const result = await runProcess(PYTHON, ['-u', `${SCRIPT_DIR}avro_compatibility.py`, String(SCRIPT_DEADLINE_S)], {
    input: JSON.stringify(pairs.map(({ reader, writer }) => ({ reader, writer }))),
    timeoutMs: (SCRIPT_DEADLINE_S + 10) * 1000,
    env: pythonEnv(),
  });
  let report: { ok: boolean; error?: string; verdicts: Verdict[]; problems: string[][] };
  try {
    report = JSON.parse(result.stdout.toString('utf8').trim().split('\n').at(-1) ?? '');
  } catch {
    throw new Error(`avro_compatibility.py printed no JSON result:\n${processReport(result)}`);
  }
  if (!report.ok || report.verdicts.length !== pairs.length) throw new Error(`avro_compatibility.py failed: ${report.error}\n${processReport(result)}`);
  return report.verdicts.map((verdict, i) => ({ verdict, problems: report.problems[i] ?? [] }));
}

const missingAvro = pythonModulesMissingReason(['avro.compatibility', 'avro.schema']);
if (missingAvro) console.warn(`skipping the differential test against Apache Avro's checker: ${missingAvro}`);

describe.skipIf(missingAvro !== null)("the registry's compatibility verdicts against Apache Avro's checker", () => {
  it(`agree on ${EVOLUTIONS} seeded schema evolutions, each asked both ways, but for the documented differences`, async () => {
    const random = seededRandom('avro compatibility');
    const evolutions = new SchemaEvolutions(random);
    const pairs: Pair[] = Array.from({ length: EVOLUTIONS }, () => evolutions.evolution()).flatMap((evolution) => {
      const before = JSON.stringify(evolution.before);
      const after = JSON.stringify(evolution.after);
      return [
        { reader: after, writer: before, evolution, direction: 'new reads old' as const },
        { reader: before, writer: after, evolution, direction: 'old reads new' as const },
      ];
    });

    const registry = await startTestRegistry({ defaultCompatibility: 'BACKWARD' });
    const [shoal, avro] = await Promise.all([mapLimited(pairs, 4, (pair, i) => askRegistry(registry.url, pair, i)), askApacheAvro(pairs)]);
    // The registry's reasons, which tell the kind of a disagreement, are asked for only where it says no alone.
    await mapLimited(pairs, 4, async (pair, i) => {
      if (shoal[i]!.verdict === 'incompatible' && avro[i]!.verdict === 'compatible') shoal[i]!.problems = await registryReasons(registry.url, pair, i);
    });

    const listed = listedDisagreements();
    const tally = new Map<string, number>();
    const unexplained: string[] = [];
    pairs.forEach((pair, i) => {
      const ours = shoal[i]!;
      const theirs = avro[i]!;
      if (ours.verdict === theirs.verdict) return;
      const kind = disagreementKind(ours, theirs);
      tally.set(kind, (tally.get(kind) ?? 0) + 1);
      if (!listed.has(kind)) {
        unexplained.push(
          [
            `pair ${i} (${pair.direction}; changes: ${pair.evolution.changes.join('; ')}): ${kind}`,
            `  reader ${pair.reader}`,
            `  writer ${pair.writer}`,
            `  registry: ${ours.problems.join(' | ')}`,
            `  Apache Avro: ${theirs.problems.join(' | ')}`,
          ].join('\n'),
        );
      }
    });

    const count = (verdict: Verdict) => shoal.filter((answer) => answer.verdict === verdict).length;
    const covered = (kind: 'recordUnion' | 'numberUnion' | 'topLevelUnion') =>
      pairs.filter((pair) => unionKinds(JSON.parse(pair.reader))[kind] || unionKinds(JSON.parse(pair.writer))[kind]).length;
    const agreed = pairs.length - [...tally.values()].reduce((sum, n) => sum + n, 0);
    const figures =
      `${pairs.length} pairs (${covered('recordUnion')} with a union of records, ${covered('numberUnion')} with a union of ` +
      `numbers, ${covered('topLevelUnion')} with a union at the top level): ${agreed} agreed (registry: ` +
      `${count('compatible')} compatible, ${count('incompatible')} incompatible, ${count('invalid writer') + count('invalid reader')} invalid), ` +
      `${pairs.length - agreed} differed${[...tally].map(([kind, n]) => `, ${n} ${kind}`).join('')}`;
    console.info(`avro compatibility: ${figures}`);

    const replay = `seed ${SEED}, replay: SHOAL_FUZZ_SEED=${SEED} npx vitest run ${TEST_FILE}`;
    expect(unexplained, `${figures}\n${replay}\n${unexplained.slice(0, 5).join('\n')}`).toEqual([]);
    // The evolutions must have exercised what the test is about, or it would pass on nothing.
    for (const kind of ['recordUnion', 'numberUnion', 'topLevelUnion'] as const) expect(covered(kind), `${kind}; ${replay}`).toBeGreaterThan(pairs.length / 20);
    expect(count('compatible'), replay).toBeGreaterThan(pairs.length / 10);
    expect(count('incompatible'), replay).toBeGreaterThan(pairs.length / 10);
  }, 120_000);
});
