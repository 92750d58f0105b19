/**
 * One service under `shoal dev`: its own process, kept running until the supervisor stops it.
 *
 * The child is its command (`node --import tsx <main>` for a TypeScript service, `shoal sidecar --config …`
 * for a sidecar, a micrologic's own command) with an IPC channel besides its piped stdout and stderr. The
 * channel carries no messages; it is how the child learns that the supervisor is gone, however it died
 * (`runService` stops on `disconnect`), so a `kill -9` of `shoal dev` leaves no service behind holding its
 * port. The child runs in its own process group (`detached`): Ctrl-C in the terminal reaches only the
 * supervisor, which then sends each child one SIGTERM. Otherwise the child would get the terminal's SIGINT and
 * the supervisor's SIGTERM, and a service takes a second signal as "exit now, skip the graceful stop", which
 * would skip draining its outbox.
 *
 * Readiness is the service's own verdict: `GET /health/ready` answering 200 (connected, caught up). Polling
 * also asks `/health/live` for the pid that answers, so a port answered by some other process is never
 * taken for this child being ready. The last not-ok answer is kept: it is what a readiness timeout reports.
 *
 * A child that exits without being asked is reported and started again after a backoff: 1 s, doubling up
 * to 30 s, back to 1 s once a child has stayed up for a minute (a service that crashes once an hour is not
 * in a crash loop). Exit code 2 is the exception: the service refused its configuration, which a restart
 * cannot change, so it is reported and left stopped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from 'pino';
import { backoffDelay, sleep } from '@shoal/core';
import type { LogPrinter } from './log-lines.js';

export interface RestartPolicy {
  /** Delay before the first restart, ms; it doubles with every crash in a row. */
  initialMs: number;
  /** Cap of the delay, ms. */
  maxMs: number;
  /** A child that ran at least this long resets the delay to `initialMs`. */
  resetAfterMs: number;
}

export interface SupervisedServiceOptions {
  name: string;
  /** The child's command line: the program, then its arguments. */
  command: readonly string[];
  /** Where the service answers: `http://host:port`. */
  url: string;
  /** The child's whole environment. */
  env: NodeJS.ProcessEnv;
  cwd: string;
  printer: LogPrinter;
  /** The supervisor's logger: crash and restart reports. */
  logger: Logger;
  restart?: Partial<RestartPolicy>;
  /** How often readiness is asked while the child is not ready, ms. */
  pollIntervalMs?: number;
  /** Called every time a child becomes ready (the first one and each restarted one). */
  onReady?: (service: SupervisedService) => void;
}

export const supervisedServiceDefaults = {
  restart: { initialMs: 1_000, maxMs: 30_000, resetAfterMs: 60_000 },
  pollIntervalMs: 250,
} satisfies Partial<SupervisedServiceOptions>;

/** How a child ended. */
export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface Child {
  process: ChildProcess;
  startedAt: number;
  exited: Promise<ChildExit>;
  /** Aborted when the child has exited: its readiness polling stops. */
  gone: AbortSignal;
  /** Resolves when both of its output streams have ended and their last lines are printed. */
  output: Promise<void>;
}

const CONFIG_INVALID_EXIT_CODE = 2;
// Every line a child wrote before it died is printed before the report of its death; a stream that stays
// open longer (an inherited pipe in a grandchild) does not hold the report back.
const OUTPUT_GRACE_MS = 2_000;
const PROBE_TIMEOUT_MS = 2_000;

export class SupervisedService {
  readonly name: string;
  readonly url: string;
  private readonly options: SupervisedServiceOptions;
  private readonly policy: RestartPolicy;
  private readonly stopping = new AbortController();
  private current: Child | undefined;
  private running: Promise<void> | undefined;
  private readyPid: number | undefined;
  private problem = 'not started';
  private settleFirstReady!: { resolve(): void; reject(error: Error): void };
  private readonly firstReady: Promise<void>;

  constructor(options: SupervisedServiceOptions) {
    this.options = options;
    this.name = options.name;
    this.url = options.url;
    this.policy = { ...supervisedServiceDefaults.restart, ...options.restart };
    this.firstReady = new Promise<void>((resolve, reject) => {
      this.settleFirstReady = { resolve, reject };
    });
    // Rejected only for a service that cannot run at all; a caller who stopped waiting must not crash on it.
    this.firstReady.catch(() => undefined);
  }

  /** The pid of the child that was last ready, if one was. */
  get pid(): number | undefined {
    return this.readyPid;
  }

  /** Why the service is not ready, as last observed: its not-ok checks, or why nothing answered. */
  get lastProblem(): string {
    return this.problem;
  }

  start(): void {
    this.running ??= this.superviseUntilStopped();
  }

  /** Resolves when a child of this service is first ready; rejects when the service cannot run (exit code 2). */
  whenFirstReady(): Promise<void> {
    return this.firstReady;
  }

  /**
   * SIGTERM to the child, then waits up to `graceMs` for it to exit (a service drains its outbox before it
   * does), then SIGKILL. No restart follows. Resolves once the child is gone and its output printed.
   */
  async stop(graceMs: number): Promise<void> {
    this.stopping.abort();
    const child = this.current;
    if (child !== undefined && isAlive(child.process)) {
      child.process.kill('SIGTERM');
      if (!(await settlesWithin(child.exited, graceMs))) {
        this.options.logger.warn(`${this.name} did not stop within ${formatDelay(graceMs)}: killing it`);
        child.process.kill('SIGKILL');
      }
    }
    await this.running;
  }

  /** SIGKILL to the child now (a second Ctrl-C); no restart follows. */
  kill(): void {
    this.stopping.abort();
    if (this.current !== undefined && isAlive(this.current.process)) this.current.process.kill('SIGKILL');
  }

  private async superviseUntilStopped(): Promise<void> {
    const { logger } = this.options;
    let crashes = 0;
    while (!this.stopping.signal.aborted) {
      const child = this.spawnChild();
      this.current = child;
      void this.pollReadiness(child);
      const exit = await child.exited;
      await settlesWithin(child.output, OUTPUT_GRACE_MS);
      if (this.stopping.signal.aborted) break;
      if (exit.code === CONFIG_INVALID_EXIT_CODE) {
        const reason = `${this.name} exited with code ${CONFIG_INVALID_EXIT_CODE}: it refused its configuration (see its output above); not restarting it`;
        this.problem = reason;
        // Before its first readiness the startup fails with this reason, reported once by whoever waits.
        if (this.readyPid === undefined) this.settleFirstReady.reject(new Error(reason));
        else logger.error(reason);
        return;
      }
      crashes = Date.now() - child.startedAt >= this.policy.resetAfterMs ? 1 : crashes + 1;
      const delay = backoffDelay(crashes, { initialMs: this.policy.initialMs, maxMs: this.policy.maxMs, jitter: 0 });
      this.problem = `exited (${describeExit(exit)}); restarting`;
      logger.warn(`${this.name} exited (${describeExit(exit)}); restarting in ${formatDelay(delay)}`);
      await sleep(delay, this.stopping.signal);
    }
  }

  private spawnChild(): Child {
    const { command, env, cwd, printer } = this.options;
    const [program, ...args] = command as [string, ...string[]];
    const child = spawn(program, args, {
      cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      detached: true,
    });
    const gone = new AbortController();
    const exited = new Promise<ChildExit>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      // Only when the process could not be spawned at all; there is no 'exit' then.
      child.once('error', (error) => {
        if (child.pid === undefined) {
          printer.line(this.name, `cannot start ${command.join(' ')}: ${error.message}`);
          resolve({ code: null, signal: null });
        }
      });
    }).finally(() => gone.abort());
    const output = Promise.all([printer.follow(this.name, child.stdout!), printer.follow(this.name, child.stderr!)]).then(() => undefined);
    return { process: child, startedAt: Date.now(), exited, gone: gone.signal, output };
  }

  /** Polls until this child is ready or gone. */
  private async pollReadiness(child: Child): Promise<void> {
    const pollIntervalMs = this.options.pollIntervalMs ?? supervisedServiceDefaults.pollIntervalMs;
    while (!child.gone.aborted && !this.stopping.signal.aborted) {
      const problem = await this.probe(child.process.pid);
      if (child.gone.aborted || this.stopping.signal.aborted) return;
      if (problem === undefined) {
        const again = this.readyPid !== undefined;
        this.readyPid = child.process.pid;
        this.problem = 'ready';
        if (again) this.options.logger.info(`${this.name} is ready again`);
        this.settleFirstReady.resolve();
        this.options.onReady?.(this);
        return;
      }
      this.problem = problem;
      await sleep(pollIntervalMs, child.gone);
    }
  }

  /** Undefined when the child with `pid` answers ready; otherwise what is wrong. */
  private async probe(pid: number | undefined): Promise<string | undefined> {
    try {
      const ready = await fetch(`${this.url}/health/ready`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
      const body = (await ready.json().catch(() => undefined)) as { checks?: Record<string, { ok?: boolean; detail?: string }> } | undefined;
      if (ready.status !== 200) {
        const failing = Object.entries(body?.checks ?? {})
          .filter(([, check]) => check.ok !== true)
          .map(([name, check]) => `${name}: ${check.detail ?? 'not ok'}`);
        return failing.length > 0 ? failing.join('; ') : `GET /health/ready answered ${ready.status}`;
      }
      const live = await fetch(`${this.url}/health/live`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
      const { pid: answering } = (await live.json().catch(() => ({}))) as { pid?: unknown };
      return answering === pid ? undefined : `${this.url} is answered by process ${String(answering)}, not by ${this.name}'s process ${pid}`;
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      return `no answer on ${this.url} (${cause?.code ?? cause?.message ?? (error as Error).message})`;
    }
  }
}

function isAlive(child: ChildProcess): boolean {
  return child.pid !== undefined && child.exitCode === null && child.signalCode === null;
}

/** Whether `promise` settled within `ms`; the timer never outlives the call. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** `code 1`, `SIGKILL`. */
export function describeExit({ code, signal }: ChildExit): string {
  if (signal !== null) return signal;
  return code === null ? 'could not start' : `code ${code}`;
}

/** `1 s`, `2 s`, `500 ms`. */
export function formatDelay(ms: number): string {
  return ms >= 1000 && ms % 1000 === 0 ? `${ms / 1000} s` : ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${ms} ms`;
}
