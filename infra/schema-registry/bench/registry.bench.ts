import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Fastify from 'fastify';
import { startRegistry, type RunningRegistry } from '../src/index.js';
import { quantile, runLoad, type LoadOptions, type LoadResult } from './http-load.js';

/**
 * Schema registry benchmark: `npm run bench -- registry [--quick]`, or `node --import tsx <this file>`.
 *
 * Starts a registry on a fresh temp dir in this process, registers SCHEMAS schemas, then drives it from a
 * worker thread with CONNECTIONS keep-alive HTTP connections for a fixed time per workload:
 *
 *   baseline                  GET of a constant {} from a bare fastify app in this same process: the
 *                             ceiling of this machine, this client and fastify
 *   GET /schemas/ids/{id}     what every consumer asks for every schema id it meets (goal >= 5,000 req/s)
 *   GET .../versions/latest   what producers ask to find the current schema of a subject
 *   POST .../versions         idempotent re-registration of schemas the subjects already hold
 *
 * Prints one markdown table with requests/s, p50/p99 latency and the ratio to the baseline; removes the
 * registry and its data. Exits 0 whether or not the goal is met; non-zero only when the benchmark fails.
 */
const usage = `Usage: shoal bench registry [--quick]

  --quick   each workload 1 s instead of 5 s (a smoke run; figures are noisier)
`;

const GOAL_SCHEMAS_BY_ID_PER_SEC = 5_000;
const SCHEMAS = 50;
const CONNECTIONS = 16;
const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

const progress = (message: string) => process.stderr.write(`registry bench: ${message}\n`);
const count = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => (Number.isNaN(n) ? '-' : n.toFixed(2));

interface Row {
  workload: string;
  result: LoadResult;
  goal?: { text: string; met: boolean };
}

function benchSchema(i: number): string {
  return JSON.stringify({
    type: 'record',
    name: `Event${i}`,
    namespace: 'shoal.bench',
    fields: [
      { name: 'id', type: 'string' },
      { name: 'amount', type: 'long' },
      { name: 'note', type: ['null', 'string'], default: null },
      { name: 'tags', type: { type: 'array', items: 'string' }, default: [] },
    ],
  });
}

async function post(url: string, body: unknown): Promise<{ id: number }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': CONTENT_TYPE }, body: JSON.stringify(body) });
  if (response.status !== 200) throw new Error(`POST ${url} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as { id: number };
}

function formatTable(rows: Row[], baseline: number): string {
  const header = ['workload', 'requests', 'seconds', 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'vs baseline', 'goal'];
  const lines = rows.map(({ workload, result, goal }) => {
    const rate = result.requests / result.seconds;
    const failures = result.failures > 0 ? ` (${count(result.failures)} FAILED: ${result.firstFailure})` : '';
    return [
      workload,
      count(result.requests),
      result.seconds.toFixed(1),
      count(rate),
      ms(quantile(result.latenciesMs, 0.5)),
      ms(quantile(result.latenciesMs, 0.99)),
      ms(result.latenciesMs.at(-1) ?? Number.NaN),
      `${(rate / baseline).toFixed(2)}`,
      `${goal ? `${goal.text}: ${goal.met ? 'met' : 'NOT MET'}` : ''}${failures}`,
    ];
  });
  const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [row(header), `|${header.map((_, i) => (i === 0 || i === header.length - 1 ? ' --- ' : ' ---: ')).join('|')}|`, ...lines.map(row)].join('\n');
}

async function main(): Promise<number> {
  let values: { quick?: boolean; help?: boolean };
  try {
    values = parseArgs({ args: process.argv.slice(2), options: { quick: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, strict: true }).values;
  } catch (error) {
    process.stderr.write(`shoal bench registry: ${(error as Error).message}\n\n${usage}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  const timing = values.quick ? { warmupMs: 300, durationMs: 1_000 } : { warmupMs: 1_000, durationMs: 5_000 };
  const loadBefore = loadavg()[0]!;
  const workDir = mkdtempSync(join(tmpdir(), 'shoal-registry-bench-'));
  const baselineApp = Fastify({ logger: false });
  baselineApp.get('/baseline', async () => ({}));
  let registry: RunningRegistry | undefined;
  try {
    registry = await startRegistry({ dataDir: join(workDir, 'registry'), port: 0, logLevel: 'warn' });
    await baselineApp.listen({ port: 0, host: '127.0.0.1' });
    const baselineUrl = `http://127.0.0.1:${(baselineApp.server.address() as { port: number }).port}`;

    progress(`registering ${SCHEMAS} schemas`);
    const subjects = Array.from({ length: SCHEMAS }, (_, i) => `bench.events-shoal.bench.Event${i}`);
    const bodies = subjects.map((_, i) => JSON.stringify({ schema: benchSchema(i) }));
    const ids: number[] = [];
    for (const [i, subject] of subjects.entries()) ids.push((await post(`${registry.url}/subjects/${encodeURIComponent(subject)}/versions`, { schema: benchSchema(i) })).id);

    const common = { connections: CONNECTIONS, ...timing };
    const run = (workload: string, options: Omit<LoadOptions, keyof typeof common>) => {
      progress(`${workload}, ${CONNECTIONS} connections, ${timing.durationMs / 1000} s after ${timing.warmupMs / 1000} s of warm-up`);
      return runLoad({ headers: { accept: CONTENT_TYPE }, ...common, ...options });
    };
    const baseline = await run('baseline', { url: baselineUrl, method: 'GET', paths: ['/baseline'] });
    const byId = await run('GET /schemas/ids/{id}', { url: registry.url, method: 'GET', paths: ids.map((id) => `/schemas/ids/${id}`) });
    const latest = await run('GET /subjects/{s}/versions/latest', {
      url: registry.url,
      method: 'GET',
      paths: subjects.map((s) => `/subjects/${encodeURIComponent(s)}/versions/latest`),
    });
    const register = await run('POST /subjects/{s}/versions', {
      url: registry.url,
      method: 'POST',
      paths: subjects.map((s) => `/subjects/${encodeURIComponent(s)}/versions`),
      bodies,
      headers: { accept: CONTENT_TYPE, 'content-type': CONTENT_TYPE },
    });

    const baselineRate = baseline.requests / baseline.seconds;
    const byIdRate = byId.requests / byId.seconds;
    const rows: Row[] = [
      { workload: 'baseline: fastify GET {} (same process)', result: baseline },
      {
        workload: 'GET /schemas/ids/{id}',
        result: byId,
        goal: { text: `>= ${count(GOAL_SCHEMAS_BY_ID_PER_SEC)} req/s`, met: byIdRate >= GOAL_SCHEMAS_BY_ID_PER_SEC && byId.failures === 0 },
      },
      { workload: 'GET /subjects/{s}/versions/latest', result: latest },
      { workload: 'POST /subjects/{s}/versions (already registered)', result: register },
    ];
    process.stdout.write(
      [
        '',
        `Shoal schema registry benchmark${values.quick ? ' (--quick: 1 s per workload, noisier)' : ''}`,
        `node ${process.version}, ${availableParallelism()} CPUs, 1-min load average ${loadBefore.toFixed(2)} before and ${loadavg()[0]!.toFixed(2)} after the run`,
        `registry and baseline app in the main thread of this process; the client (node:http, ${CONNECTIONS} keep-alive connections,`,
        `closed loop) in a worker thread; ${SCHEMAS} schemas of 4 fields, requests cycle through them; latency from send to last byte`,
        '',
        formatTable(rows, baselineRate),
        '',
      ].join('\n'),
    );
    return 0;
  } finally {
    await baselineApp.close();
    await registry?.close();
    rmSync(workDir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
