import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { BrokerProcess } from './broker-process.js';
import { startSpan, type Span } from './span.js';

/**
 * kcat (librdkafka) as load generator: a client whose own cost is small, so its figures are bounded
 * by the broker. Each run is one kcat process, timed from spawn to exit (connect, metadata and the
 * final flush included).
 */
export const KCAT = '/usr/bin/kcat';

/** Producer settings: batches of up to 10,000 records, 5 ms linger, and a queue that holds the whole file. */
const producerConfig = ['linger.ms=5', 'batch.num.messages=10000', 'queue.buffering.max.messages=2000000', 'acks=all', 'compression.codec=none'];

export interface KcatRun {
  span: Span;
  /** Newline-terminated lines kcat wrote to stdout. */
  lines: number;
  timedOut: boolean;
}

/** Writes `count` lines, each a `valueBytes`-byte record value and a newline, for `kcat -P -l`. */
export async function writeRecordFile(path: string, count: number, valueBytes: number): Promise<void> {
  const linesPerChunk = 10_000;
  const line = Buffer.alloc(valueBytes + 1, 'x');
  line[valueBytes] = 0x0a;
  const chunk = Buffer.concat(Array.from({ length: linesPerChunk }, () => line));
  const out = createWriteStream(path);
  for (let written = 0; written < count; written += linesPerChunk) {
    const lines = Math.min(linesPerChunk, count - written);
    if (!out.write(lines === linesPerChunk ? chunk : chunk.subarray(0, lines * line.length))) await once(out, 'drain');
  }
  out.end();
  await once(out, 'close');
}

export function produceWithKcat(broker: BrokerProcess, options: { topic: string; file: string; timeLimitMs: number }): Promise<KcatRun> {
  const config = producerConfig.flatMap((setting) => ['-X', setting]);
  return runKcat(broker, ['-P', '-q', '-b', broker.bootstrap, '-t', options.topic, '-l', options.file, ...config], options.timeLimitMs);
}

/** Reads `topic` from the beginning to its end; kcat prints one newline per record (`-f '\n'`). */
export function consumeWithKcat(broker: BrokerProcess, options: { topic: string; expected: number; timeLimitMs: number }): Promise<KcatRun> {
  return runKcat(broker, ['-C', '-q', '-b', broker.bootstrap, '-t', options.topic, '-o', 'beginning', '-e', '-c', String(options.expected), '-f', '\\n'], options.timeLimitMs);
}

async function runKcat(broker: BrokerProcess, args: string[], timeLimitMs: number): Promise<KcatRun> {
  const timer = startSpan(broker, 'exited-children');
  const child = spawn(KCAT, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let lines = 0;
  child.stdout.on('data', (chunk: Buffer) => {
    for (let at = chunk.indexOf(0x0a); at !== -1; at = chunk.indexOf(0x0a, at + 1)) lines++;
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    if (stderr.length < 4096) stderr += chunk.toString();
  });
  let timedOut = false;
  const killTimer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeLimitMs);
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  clearTimeout(killTimer);
  const span = await timer.stop();
  if (!timedOut && code !== 0) throw new Error(`kcat ${args.join(' ')} failed (code ${code}, signal ${signal}): ${stderr.trim()}`);
  return { span, lines, timedOut };
}
