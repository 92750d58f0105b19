/**
 * Helpers shared by the conformance tests only (kcat.test.ts, python-clients.test.ts): a broker per test in
 * its own temp dir, child processes with a hard time bound, unique names.
 *
 * The broker runs inside the vitest worker while the real clients are child processes, so every child is
 * spawned asynchronously: a synchronous spawn would block the event loop the broker needs to answer them.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Kafka } from 'kafkajs';
import { onTestFinished } from 'vitest';
import { connected, uniqueName } from '@shoal/testing';

export const KCAT = '/usr/bin/kcat';
export const PYTHON = '/usr/bin/python3';
/**
 * Python packages Debian does not have, which .ci/run installs from PyPI here with `pip install --target`:
 * fastavro, without which confluent-kafka's AvroSerializer and AvroDeserializer cannot be imported.
 */
export const PYTHON_PACKAGES = fileURLToPath(new URL('../../.python-packages', import.meta.url));

/**
 * The environment of a Python client script: no user site-packages (only Debian's packages and those of
 * PYTHON_PACKAGES are used), no bytecode files left behind, no proxy for the local broker and registry.
 */
export function pythonEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PYTHONNOUSERSITE: '1',
    PYTHONDONTWRITEBYTECODE: '1',
    NO_PROXY: '127.0.0.1,localhost',
    ...(existsSync(PYTHON_PACKAGES) ? { PYTHONPATH: PYTHON_PACKAGES } : {}),
  };
}

/** Why a suite cannot run here, or null when the tool is present. */
export function kcatMissingReason(): string | null {
  return existsSync(KCAT) ? null : `${KCAT} is not installed (apt-get install kcat)`;
}

/**
 * Why a suite cannot run here, or null when `/usr/bin/python3` can import every module (in `env`, by default
 * the scripts' pythonEnv()). `install` says how to get them.
 */
export function pythonModulesMissingReason(
  modules: readonly string[],
  install = 'apt-get install python3-confluent-kafka python3-kafka python3-avro python3-requests',
  env: NodeJS.ProcessEnv = pythonEnv(),
): string | null {
  if (!existsSync(PYTHON)) return `${PYTHON} is not installed`;
  // Synchronous on purpose: this runs while tests are collected, before any broker exists.
  const probe = spawnSync(PYTHON, ['-c', modules.map((m) => `import ${m}`).join('; ')], { encoding: 'utf8', timeout: 20_000, env });
  if (probe.status === 0) return null;
  return `${PYTHON} cannot import ${modules.join(', ')} (${install}): ${probe.stderr.trim().split('\n').at(-1) ?? ''}`;
}


export interface ProcessResult {
  command: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: Buffer;
  stderr: string;
}

export interface RunOptions {
  /** Written to stdin, which is then closed. Without it stdin is closed at once. */
  input?: string | Buffer;
  /** The child is killed (SIGKILL) after this long and the result says `timedOut`. */
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

function describeCommand(file: string, args: readonly string[]): string {
  return [file, ...args].map((a) => (/^[\w@%:.,=/+-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`)).join(' ');
}

/** A child still running when its test ends (the test timed out or failed early) is the test's to stop. */
function killWhenTestFinishes(child: ChildProcess): void {
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
}

/** Runs a program to its end (or its time bound) and collects its output. Never rejects on exit status. */
export async function runProcess(file: string, args: readonly string[], options: RunOptions): Promise<ProcessResult> {
  const { satisfied: _satisfied, ...result } = await runChild(file, args, options);
  return result;
}

/** A failure message that carries what is needed to reproduce and diagnose a child process's failure. */
export function processReport(result: ProcessResult): string {
  const status = result.timedOut ? 'timed out and was killed' : `exited with code ${result.code} signal ${result.signal}`;
  const tail = (s: string) => (s.length > 4000 ? `...${s.slice(-4000)}` : s);
  return `${result.command}\n${status}\n--- stderr ---\n${tail(result.stderr)}\n--- stdout ---\n${tail(result.stdout.toString('utf8'))}`;
}

/** Like `runProcess`, but a non-zero exit or a timeout is an error whose message shows the exchange. */
export async function runProcessOk(file: string, args: readonly string[], options: RunOptions): Promise<ProcessResult> {
  const result = await runProcess(file, args, options);
  if (result.timedOut || result.code !== 0) throw new Error(`command failed: ${processReport(result)}`);
  return result;
}

export interface WatchOptions {
  /** Called with all stdout so far after every chunk; the child is stopped once it returns true. */
  until: (stdout: Buffer) => boolean;
  timeoutMs: number;
  /** Signal used to stop the child once `until` holds. Default SIGTERM (lets a consumer leave its group). */
  stopSignal?: NodeJS.Signals;
  env?: NodeJS.ProcessEnv;
}

export interface WatchResult extends ProcessResult {
  /** Whether `until` held before the time bound. */
  satisfied: boolean;
}

/**
 * Starts a long-running program (a consumer that never exits by itself), waits until its output satisfies
 * `until`, then stops it with `stopSignal` and waits for it to exit. A child that does not exit within the
 * time bound is killed with SIGKILL.
 */
export function watchProcess(file: string, args: readonly string[], options: WatchOptions): Promise<WatchResult> {
  return runChild(file, args, options);
}

/** The one child-process runner behind runProcess and watchProcess. */
function runChild(file: string, args: readonly string[], options: RunOptions & Partial<WatchOptions>): Promise<WatchResult> {
  return new Promise((resolve, reject) => {
    const stdin = options.input === undefined && options.until !== undefined ? 'ignore' : 'pipe';
    const child = spawn(file, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: [stdin, 'pipe', 'pipe'] });
    killWhenTestFinishes(child);
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let satisfied = false;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout.push(chunk);
      if (options.until && !satisfied && options.until(Buffer.concat(stdout))) {
        satisfied = true;
        child.kill(options.stopSignal ?? 'SIGTERM');
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        command: describeCommand(file, args),
        code,
        signal,
        timedOut,
        satisfied,
        stdout: Buffer.concat(stdout),
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    });
    if (child.stdin) {
      // A child that exits before reading all its input makes stdin fail with EPIPE; its exit status tells more.
      child.stdin.on('error', () => {});
      child.stdin.end(options.input ?? '');
    }
  });
}

/**
 * librdkafka's own warning and error log lines (`%<level>|<time>|<facility>|...` with syslog level 0-4).
 * A conforming broker gives librdkafka nothing to warn about: protocol parse failures, unexpected
 * disconnects and unsupported versions all surface here even when the client carries on.
 */
export function librdkafkaComplaints(stderr: string): string[] {
  return stderr.split('\n').filter((line) => /^%[0-4]\|/.test(line));
}

/** What kafkajs reads of a topic from its beginning, by key (value and headers as strings), once `count` keys arrived. */
export async function readByKey(kafka: Kafka, topic: string, count: number): Promise<Map<string, { value: string; headers: Record<string, string> }>> {
  const consumer = await connected(kafka.consumer({ groupId: uniqueName('conformance-read'), maxWaitTimeInMs: 200 }));
  await consumer.subscribe({ topic, fromBeginning: true });
  const read = new Map<string, { value: string; headers: Record<string, string> }>();
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ message }) => {
        const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
        read.set(message.key!.toString(), { value: message.value!.toString(), headers });
        if (read.size === count) resolve();
      },
    });
  });
  return read;
}
