/**
 * The whole platform as a user starts it: `shoal dev` in a child process (broker, registry, schemas, topics,
 * the six services as its own children), on free ports and a data dir of the caller's. Used by the end-to-end
 * tests and by `npm run bench -- e2e`, so it calls nothing that needs a running test; the caller stops it.
 *
 * Readiness comes from `--ready-file`, which `shoal dev` writes once every service answers /health/ready and
 * rewrites when it restarts a service (with the new pid).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually, freePorts } from '@shoal/testing';
import { discoverServices } from '../../../infra/cli/src/dev/service-discovery.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const SHOAL_BIN = join(REPO_ROOT, 'infra/cli/bin/shoal.js');
/** The services `shoal dev` runs, found the way it finds them: a new service is in every end-to-end run. */
export const SERVICES: readonly string[] = discoverServices().map((service) => service.name);
/** The services behind a sidecar (another language): each has a `--<name>-sidecar-port` too. */
export const SIDECAR_SERVICES: readonly string[] = discoverServices().filter((service) => service.sidecar !== undefined).map((service) => service.name);
export type ServiceName = string;

export interface ReadyFile {
  broker: string;
  registry: string;
  dataDir: string;
  /** The embedded broker's GET /metrics, with `brokerMetrics`. */
  brokerMetrics?: string;
  /** The console, unless `--no-console` is among the arguments. */
  console?: { url: string; pid: number };
  /** `--postgres`: the server, without its password. */
  postgres?: string;
  /** The first instance of each process. */
  services: Record<string, { url: string; pid: number }>;
  /** Every instance of each process (`orders`, `orders#2`, ...), the first included. */
  instances: Record<string, { name: string; url: string; pid: number }[]>;
}

export interface ShoalDevOptions {
  dataDir: string;
  /** Further environment for the services (e.g. SHIPPING_AUTO_DISPATCH_MS). */
  env?: Record<string, string>;
  /** Further `shoal dev` arguments (e.g. `--brokers` to use a Kafka of the caller's). */
  args?: string[];
  logLevel?: string;
  /** Default 180 s: six services start on two cores. */
  readyTimeoutMs?: number;
  /** Echo the output to this process's stdout (benchmarks); tests keep it for failure messages. */
  echo?: boolean;
  /** The embedded broker serves its request counts (GET /metrics, ReadyFile.brokerMetrics) on a free port. */
  brokerMetrics?: boolean;
  /** `--postgres <url>`: every service on its own database of this server. */
  postgres?: string;
  /** `--replicas <n>` (with `postgres`): n instances of every service, each on a free port. Default 1. */
  replicas?: number;
}

export interface ShoalDev {
  ready: ReadyFile;
  url(service: ServiceName): string;
  /** Where the service answers /metrics and its admin routes: its sidecar's URL for a service behind one. */
  adminUrl(service: ServiceName): string;
  /** The pid the ready file holds now (the first instance's). */
  pidOf(service: ServiceName): number;
  /** Every instance of a process as the ready file holds it now (`orders`, `orders#2`, ...). */
  instancesOf(process: string): { name: string; url: string; pid: number }[];
  readReadyFile(): ReadyFile;
  /** Everything `shoal dev` printed so far (stdout and stderr interleaved). */
  output(): string;
  /** SIGINT (Ctrl-C), then waits for the exit; SIGKILL after `timeoutMs`. Resolves with the exit code. */
  stop(timeoutMs?: number): Promise<number | null>;
  child: ChildProcess;
}

export async function startShoalDev(options: ShoalDevOptions): Promise<ShoalDev> {
  const readyPath = join(options.dataDir, 'ready.json');
  const replicas = options.replicas ?? 1;
  const chosen = await freePorts((SERVICES.length + SIDECAR_SERVICES.length) * replicas + 4);
  const instancePorts = (slot: number) => chosen.slice(slot * replicas, (slot + 1) * replicas).join(',');
  const ports = [
    ...SERVICES.flatMap((service, i) => [`--${service}-port`, instancePorts(i)]),
    ...SIDECAR_SERVICES.flatMap((service, i) => [`--${service}-sidecar-port`, instancePorts(SERVICES.length + i)]),
    ...(options.postgres === undefined ? [] : ['--postgres', options.postgres]),
    ...(replicas === 1 ? [] : ['--replicas', String(replicas)]),
  ];
  const external = options.args ?? [];
  // With --brokers there is no embedded broker, but shoal dev still runs the registry: it needs a free port too.
  const platformPorts = [
    ...(external.some((arg) => arg === '--brokers') ? [] : ['--broker-port', String(chosen.at(-2)), ...(options.brokerMetrics === true ? ['--broker-metrics-port', String(chosen.at(-3))] : [])]),
    '--registry-port',
    String(chosen.at(-1)),
  ];
  // The console's default port (3000) could be anyone's: every run takes a free one, unless it runs none.
  const consolePort = external.includes('--no-console') || external.includes('--console-port') ? [] : ['--console-port', String(chosen.at(-4))];
  const args = [
    '--import',
    'tsx',
    SHOAL_BIN,
    'dev',
    '--data-dir',
    options.dataDir,
    '--ready-file',
    readyPath,
    '--log-level',
    options.logLevel ?? 'warn',
    ...platformPorts,
    ...consolePort,
    ...ports,
    ...external,
  ];
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    output += text;
    if (output.length > 4_000_000) output = output.slice(-2_000_000);
    if (options.echo) process.stdout.write(text);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));

  const readyTimeoutMs = options.readyTimeoutMs ?? 180_000;
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  try {
    await eventually(() => existsSync(readyPath) || gone(), { what: 'shoal dev to write its ready file', timeoutMs: readyTimeoutMs, intervalMs: 100 });
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${(error as Error).message}:\n${output.slice(-6000)}`);
  }
  if (!existsSync(readyPath)) throw new Error(`shoal dev exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${output.slice(-6000)}`);
  const readReadyFile = (): ReadyFile => JSON.parse(readFileSync(readyPath, 'utf8')) as ReadyFile;
  const ready = readReadyFile();
  const url = (service: ServiceName): string => {
    const entry = ready.services[service];
    if (entry === undefined) throw new Error(`shoal dev runs no ${service}`);
    return entry.url;
  };
  return {
    ready,
    child,
    readReadyFile,
    url,
    adminUrl: (service) => url(SIDECAR_SERVICES.includes(service) ? `${service}-sidecar` : service),
    instancesOf: (name) => {
      const entry = readReadyFile().instances[name];
      if (entry === undefined) throw new Error(`shoal dev runs no ${name}`);
      return entry;
    },
    pidOf: (service) => {
      const entry = readReadyFile().services[service];
      if (entry === undefined) throw new Error(`shoal dev runs no ${service}`);
      return entry.pid;
    },
    output: () => output,
    async stop(timeoutMs = 60_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Whether a process is alive (signal 0 only checks). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
