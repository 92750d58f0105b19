/**
 * Helpers shared by the chaos tests only (fuzz.test.ts, durability.test.ts).
 *
 * The broker runs as a child process through the real CLI (`shoal broker`), not inside the vitest
 * worker: a crash (an uncaught exception, an unhandled rejection) is then a process exit the test can
 * see and report with the broker's own stderr, instead of taking the test runner down with it, and
 * `kill -9` is a real SIGKILL of a real process.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Partitioners, type Consumer, type ProducerConfig } from 'kafkajs';
import { onTestFinished } from 'vitest';

const SHOAL_CLI = fileURLToPath(new URL('../../infra/cli/bin/shoal.js', import.meta.url));
const LISTENING_MESSAGE = 'Shoal broker listening';
/** Lines of broker output kept for failure messages. */
const OUTPUT_LINES_KEPT = 400;
/** pino's level number for error lines. */
const PINO_ERROR = 50;
/** Only for cleanup: a broker that ignores SIGTERM this long is SIGKILLed so no process outlives its test. */
const STOP_GRACE_MS = 10_000;


export interface BrokerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface CliBroker {
  readonly pid: number;
  readonly port: number;
  readonly bootstrap: string;
  readonly dataDir: string;
  /** How the process ended, or null while it runs. */
  exitStatus(): BrokerExit | null;
  /** Resolves when the process has exited. */
  readonly exited: Promise<BrokerExit>;
  /** The last lines the broker wrote (stdout and stderr), for failure messages. */
  output(): string;
  /** Every log line at pino level error or above (the broker logs internal errors there), parsed. */
  errorLines(): Record<string, unknown>[];
  /** SIGKILL, then wait for the exit: a crash that gives the broker no chance to flush or close anything. */
  kill9(): Promise<BrokerExit>;
  /** SIGTERM (the CLI then closes the broker cleanly), then wait for the exit, however long it takes. */
  stop(): Promise<BrokerExit>;
}

export interface CliBrokerOptions {
  dataDir: string;
  /** Default 0: any free port (read back from the listening log line). */
  port?: number;
  /** More `shoal broker` flags, e.g. ['--max-request-bytes', '1048576']. */
  args?: string[];
}

/**
 * Starts `shoal broker` on `dataDir` and resolves once it logged that it listens. The current test stops
 * it when it finishes, if it still runs (SIGTERM, SIGKILL after a grace period); the data dir belongs to
 * the caller, so a restart can reuse it.
 */
export async function startCliBroker(options: CliBrokerOptions): Promise<CliBroker> {
  // Log level info: the listening line is an info line; the warn lines of refused connections are kept too.
  const args = [SHOAL_CLI, 'broker', '--port', String(options.port ?? 0), '--data-dir', options.dataDir, '--log-level', 'info', ...(options.args ?? [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const errorLines: Record<string, unknown>[] = [];
  const keep = (line: string) => {
    lines.push(line);
    if (lines.length > OUTPUT_LINES_KEPT) lines.splice(0, lines.length - OUTPUT_LINES_KEPT);
    const parsed = parseLogLine(line);
    if (parsed !== null && typeof parsed['level'] === 'number' && parsed['level'] >= PINO_ERROR) errorLines.push(parsed);
  };
  let exit: BrokerExit | null = null;
  // 'close', not 'exit': it comes once stdout and stderr are drained, so a crash's stack trace is in the output.
  const exited = new Promise<BrokerExit>((resolve) => {
    child.once('close', (code, signal) => {
      exit = { code, signal };
      resolve(exit);
    });
  });
  const output = () => lines.join('\n');
  const waitForExit = async (signal: NodeJS.Signals): Promise<BrokerExit> => {
    if (exit !== null) return exit;
    child.kill(signal);
    return exited;
  };
  // Registered before the broker is up, so a broker that never gets there is stopped too.
  onTestFinished(async () => {
    if (exit !== null) return;
    const escalate = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await waitForExit('SIGTERM');
    clearTimeout(escalate);
  });

  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    void exited.then((status) => reject(new Error(`shoal broker exited before listening (${JSON.stringify(status)}):\n${output()}`)));
    createInterface({ input: child.stderr }).on('line', keep);
    createInterface({ input: child.stdout }).on('line', (line) => {
      keep(line);
      if (!line.includes(LISTENING_MESSAGE)) return;
      const port = parseLogLine(line)?.['port'];
      if (typeof port === 'number') resolve(port);
      else reject(new Error(`listening line without a port: ${line}`));
    });
  });

  return {
    pid: child.pid!,
    port,
    bootstrap: `127.0.0.1:${port}`,
    dataDir: options.dataDir,
    exitStatus: () => exit,
    exited,
    output,
    errorLines: () => [...errorLines],
    kill9: () => waitForExit('SIGKILL'),
    stop: () => waitForExit('SIGTERM'),
  };
}

/** A pino JSON line as an object, or null for anything else (a stack trace on stderr, say). */
function parseLogLine(line: string): Record<string, unknown> | null {
  if (!line.startsWith('{')) return null;
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/** Fails with the broker's output if its process is no longer running. */
export function assertRunning(broker: CliBroker, when: string): void {
  const status = broker.exitStatus();
  if (status !== null) throw new Error(`the broker process exited ${when} (${JSON.stringify(status)}); its last output:\n${broker.output()}`);
}

/**
 * Resolves with `work`, or rejects as soon as the broker process exits: a client waiting on a dead
 * broker would otherwise retry until the test times out, hiding the crash.
 */
export function whileRunning<T>(broker: CliBroker, what: string, work: Promise<T>): Promise<T> {
  return Promise.race([
    work,
    broker.exited.then((status) => {
      throw new Error(`the broker process exited during ${what} (${JSON.stringify(status)}); its last output:\n${broker.output()}`);
    }),
  ]);
}


/** Producer options every chaos test uses: the v2 default partitioner (and no warning about it). */
export function producerConfig(config: ProducerConfig = {}): ProducerConfig {
  return { createPartitioner: Partitioners.DefaultPartitioner, ...config };
}


export interface ReceivedMessage {
  topic: string;
  partition: number;
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer>;
}

/**
 * Runs a connected consumer and collects what it receives. `until(predicate)` resolves as soon as the
 * messages received so far satisfy the predicate; the vitest timeout bounds the wait.
 */
export function collect(
  consumer: Consumer,
  options: { autoCommit?: boolean } = {},
): { messages: ReceivedMessage[]; until(predicate: (messages: ReceivedMessage[]) => boolean): Promise<void> } {
  const messages: ReceivedMessage[] = [];
  const waiters: { predicate: (messages: ReceivedMessage[]) => boolean; resolve: () => void }[] = [];
  const settle = () => {
    for (const waiter of [...waiters]) {
      if (!waiter.predicate(messages)) continue;
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  };
  let failure: unknown = null;
  const failed: ((error: unknown) => void)[] = [];
  consumer
    .run({
      autoCommit: options.autoCommit ?? true,
      eachMessage: async ({ topic, partition, message }) => {
        const headers: Record<string, Buffer> = {};
        for (const [name, value] of Object.entries(message.headers ?? {})) {
          if (Buffer.isBuffer(value)) headers[name] = value;
          else if (value !== undefined) throw new Error(`unexpected header value shape for ${name}`);
        }
        messages.push({ topic, partition, offset: Number(message.offset), key: message.key, value: message.value, headers });
        settle();
      },
    })
    .catch((error: unknown) => {
      failure = error;
      for (const reject of failed) reject(error);
    });
  return {
    messages,
    until(predicate) {
      if (failure !== null) return Promise.reject(failure);
      return new Promise<void>((resolve, reject) => {
        failed.push(reject);
        waiters.push({ predicate, resolve });
        settle();
      });
    },
  };
}
