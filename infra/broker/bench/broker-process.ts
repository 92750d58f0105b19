import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { answersApiVersions } from '@shoal/apache-kafka';

/**
 * The broker under test runs in a child process: the benchmark's clients then compete with it for CPU
 * cores as clients on the same host would, instead of sharing its one event loop (which would charge
 * kafkajs's encoding and decoding to the broker's figures and the other way round).
 *
 * Messages on the fork IPC channel:
 *
 *   child  -> parent  { type: 'ready', bootstrap }       once the broker listens
 *   parent -> child   { type: 'cpu', id }                -> { type: 'cpu', id, micros }  (user + system CPU so far)
 *   parent -> child   { type: 'close' }                  -> broker closed, then the child exits 0
 *
 * The child also closes the broker and exits when the channel drops (the parent died).
 */
export type ParentMessage = { type: 'cpu'; id: number } | { type: 'close' };
export type ChildMessage = { type: 'ready'; bootstrap: string } | { type: 'cpu'; id: number; micros: number };

export interface BrokerProcessOptions {
  dataDir: string;
  /** Write a V8 CPU profile of the broker process into this directory when it exits. */
  cpuProfDir?: string;
  readyTimeoutMs?: number;
  closeTimeoutMs?: number;
}

export interface BrokerProcess {
  readonly bootstrap: string;
  /** The broker's process id (its resident memory is read from /proc). */
  readonly pid: number;
  /** From starting the process to its first answer, ms. */
  readonly msToFirstAnswer: number;
  /** CPU time (user + system, µs) the broker process has used so far. */
  cpuMicros(): Promise<number>;
  /** Closes the broker and waits for the process to end; kills it if it does not in time. */
  close(): Promise<void>;
}

const childMain = fileURLToPath(new URL('./broker-process-main.ts', import.meta.url));

export async function startBrokerProcess(options: BrokerProcessOptions): Promise<BrokerProcess> {
  const execArgv = ['--import', import.meta.resolve('tsx')];
  if (options.cpuProfDir !== undefined) execArgv.push('--cpu-prof', '--cpu-prof-dir', options.cpuProfDir);
  const forkedAt = performance.now();
  const child = fork(childMain, [options.dataDir], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  let bootstrap: string;
  let msToFirstAnswer: number;
  try {
    bootstrap = await waitForReady(child, options.readyTimeoutMs ?? 30_000);
    const [host, port] = bootstrap.split(':') as [string, string];
    // 'ready' is sent once the broker listens; the first ApiVersions answer is what a client waits for.
    while (!(await answersApiVersions(host, Number(port), 1000))) await new Promise((resolve) => setTimeout(resolve, 5));
    msToFirstAnswer = performance.now() - forkedAt;
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    throw error;
  }

  let nextId = 1;
  const pending = new Map<number, (micros: number) => void>();
  child.on('message', (message: ChildMessage) => {
    if (message.type !== 'cpu') return;
    pending.get(message.id)?.(message.micros);
    pending.delete(message.id);
  });

  let closing: Promise<void> | undefined;
  return {
    bootstrap,
    pid: child.pid!,
    msToFirstAnswer,
    cpuMicros() {
      const id = nextId++;
      return new Promise<number>((resolve, reject) => {
        if (!child.connected) return reject(new Error('broker process is gone'));
        pending.set(id, resolve);
        child.send({ type: 'cpu', id } satisfies ParentMessage);
      });
    },
    close() {
      closing ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        if (child.connected) child.send({ type: 'close' } satisfies ParentMessage);
        const timer = setTimeout(() => child.kill('SIGKILL'), options.closeTimeoutMs ?? 15_000);
        await exited;
        clearTimeout(timer);
      })();
      return closing;
    },
  };
}

function waitForReady(child: ChildProcess, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`broker process not ready after ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (message: ChildMessage) => {
      if (message.type === 'ready') done(undefined, message.bootstrap);
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => done(new Error(`broker process exited before it was ready (code ${code}, signal ${signal})`));
    function done(error: Error | undefined, bootstrap?: string): void {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(bootstrap!);
    }
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}
