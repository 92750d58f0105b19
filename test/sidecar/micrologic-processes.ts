/**
 * The micrologics of the sidecar tests as the processes they are in production: the Python loyalty service
 * (services/loyalty) and the Go micrologic of test/sidecar/go, each on its own port, pointed at its sidecar,
 * killed when the test ends; and the sidecar itself as `shoal sidecar --config <file>` in a child process.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onTestFinished } from 'vitest';
import type { TestPlatform } from '@shoal/contract/testing';
import { eventually, tempDir } from '@shoal/testing';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const LOYALTY_DIR = join(REPO, 'services/loyalty');
const GO_DIR = fileURLToPath(new URL('./go', import.meta.url));

export const goMissing = spawnSync('go', ['version'], { stdio: 'ignore' }).status === 0 ? null : 'no `go` on PATH to build the Go micrologic';
export const pythonMissing = spawnSync('python3', ['--version'], { stdio: 'ignore' }).status === 0 ? null : 'no `python3` on PATH to run the loyalty service';

export interface MicrologicProcess {
  url: string;
  child: ChildProcess;
  /** Everything it wrote, for failure messages. */
  output(): string;
  /** SIGKILL, and waits for the exit. */
  kill(): Promise<void>;
}

let goBinary: string | undefined;

/** Builds the Go micrologic once per test file. */
export function goMicrologicBinary(): string {
  if (goBinary !== undefined) return goBinary;
  const out = join(tempDir('go-micrologic'), 'micrologic');
  const build = spawnSync('go', ['build', '-o', out, '.'], { cwd: GO_DIR, encoding: 'utf8', timeout: 120_000 });
  if (build.status !== 0) throw new Error(`go build failed:\n${build.stdout}\n${build.stderr}`);
  goBinary = out;
  return out;
}

export function startPythonLoyalty(port: number, sidecarUrl: string): Promise<MicrologicProcess> {
  return startMicrologic('python3', ['loyalty.py'], LOYALTY_DIR, port, sidecarUrl);
}

export function startGoMicrologic(port: number, sidecarUrl: string): Promise<MicrologicProcess> {
  return startMicrologic(goMicrologicBinary(), [], GO_DIR, port, sidecarUrl);
}

async function startMicrologic(command: string, args: string[], cwd: string, port: number, sidecarUrl: string): Promise<MicrologicProcess> {
  const child = spawn(command, args, {
    cwd,
    env: { ...process.env, PORT: String(port), SHOAL_SIDECAR_URL: sidecarUrl, PYTHONDONTWRITEBYTECODE: '1', NO_PROXY: '127.0.0.1,localhost' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  onTestFinished(kill);
  const url = `http://127.0.0.1:${port}`;
  await eventually(
    async () => {
      if (child.exitCode !== null) throw new Error(`${command} exited with ${child.exitCode}: ${output}`);
      return (await fetch(`${url}/health`)).ok;
    },
    { what: `${command} answering ${url}/health`, timeoutMs: 20_000 },
  );
  return { url, child, output: () => output, kill };
}

export interface SidecarProcess {
  url: string;
  exited: Promise<number | null>;
  /** SIGKILL. */
  kill(): void;
  /** SIGTERM: a graceful stop (the consumer leaves its group, the outbox is drained). */
  stop(): void;
}

/** `shoal sidecar --config <file>` on `platform`, its files in `dataDir`. */
export async function startSidecarProcess(platform: TestPlatform, config: string, dataDir: string, port: number, env: Record<string, string> = {}): Promise<SidecarProcess> {
  const child = spawn(process.execPath, [join(REPO, 'infra/cli/bin/shoal.js'), 'sidecar', '--config', config], {
    cwd: REPO,
    env: { ...process.env, KAFKA_BROKERS: platform.bootstrap, SCHEMA_REGISTRY_URL: platform.registryUrl, SHOAL_DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  onTestFinished(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  const url = `http://127.0.0.1:${port}`;
  await eventually(
    async () => {
      if (child.exitCode !== null) throw new Error(`shoal sidecar exited with ${child.exitCode}: ${stderr}`);
      return (await fetch(`${url}/health/ready`)).ok;
    },
    { what: `the sidecar ready at ${url}`, timeoutMs: 60_000 },
  );
  return { url, exited, kill: () => child.kill('SIGKILL'), stop: () => child.kill('SIGTERM') };
}
