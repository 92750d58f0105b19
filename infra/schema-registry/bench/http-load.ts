import { Worker } from 'node:worker_threads';

/**
 * Closed-loop HTTP load from a worker thread, so the client has a core of its own and the server's event
 * loop (in the main thread) only serves: `connections` keep-alive connections, each sending its next
 * request as soon as the previous answer has been read. Requests cycle through `paths` (and `bodies`, the
 * same length, for POSTs). Latencies are taken per request from send to the last byte of the answer, only
 * in the measured window after the warm-up.
 *
 * The worker is plain JavaScript evaluated in the thread, so it needs no TypeScript loader of its own.
 */
export interface LoadOptions {
  url: string;
  method: 'GET' | 'POST';
  paths: readonly string[];
  bodies?: readonly string[];
  headers?: Record<string, string>;
  connections: number;
  warmupMs: number;
  durationMs: number;
}

export interface LoadResult {
  /** Requests answered in the measured window. */
  requests: number;
  seconds: number;
  /** Sorted ascending. */
  latenciesMs: Float64Array;
  /** Answers other than 200, and connection errors, over the whole run. */
  failures: number;
  firstFailure: string | undefined;
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const { url, method, paths, bodies, headers, connections, warmupMs, durationMs } = workerData;
const target = new URL(url);
const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
let measuring = false;
let stopping = false;
let latencies = new Float64Array(1 << 16);
let count = 0;
let failures = 0;
let firstFailure;
const record = (ms) => {
  if (count === latencies.length) { const grown = new Float64Array(latencies.length * 2); grown.set(latencies); latencies = grown; }
  latencies[count++] = ms;
};
const fail = (why) => { failures++; if (firstFailure === undefined) firstFailure = why; };
const send = (i) => new Promise((resolve) => {
  const body = bodies ? bodies[i % bodies.length] : undefined;
  const start = process.hrtime.bigint();
  const request = http.request({
    host: target.hostname, port: target.port, path: paths[i % paths.length], method, agent,
    headers: body === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(body) },
  }, (response) => {
    let text = '';
    response.setEncoding('utf8');
    response.on('data', (chunk) => { if (response.statusCode !== 200) text += chunk; });
    response.on('end', () => {
      if (response.statusCode !== 200) fail(response.statusCode + ' ' + text.slice(0, 200));
      else if (measuring) record(Number(process.hrtime.bigint() - start) / 1e6);
      resolve();
    });
  });
  request.on('error', (error) => { fail(String(error)); resolve(); });
  request.end(body);
});
const loop = async (first) => { for (let i = first; !stopping; i += connections) await send(i); };
let startedAt;
let stoppedAt;
setTimeout(() => { measuring = true; startedAt = process.hrtime.bigint(); }, warmupMs);
setTimeout(() => { measuring = false; stopping = true; stoppedAt = process.hrtime.bigint(); }, warmupMs + durationMs);
Promise.all(Array.from({ length: connections }, (_, c) => loop(c))).then(() => {
  agent.destroy();
  const measured = latencies.slice(0, count).sort();
  parentPort.postMessage({ requests: count, seconds: Number(stoppedAt - startedAt) / 1e9, latenciesMs: measured, failures, firstFailure }, [measured.buffer]);
});
`;

export function runLoad(options: LoadOptions): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { headers: {}, bodies: undefined, ...options } });
    worker.once('message', (result: LoadResult) => {
      resolve(result);
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => code !== 0 && reject(new Error(`load worker exited with ${code}`)));
  });
}

/** The value below which a fraction `q` of the sorted samples fall (nearest rank). */
export function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}
