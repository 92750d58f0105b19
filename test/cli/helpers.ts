/**
 * Drives the `shoal` CLI as a user would: a child process per command (asynchronous, because the broker
 * and registry these tests start run in the vitest worker and must keep answering).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runProcess, type ProcessResult, type RunOptions } from '../conformance/client-processes.js';

export const SHOAL_BIN = join(dirname(fileURLToPath(import.meta.url)), '../../infra/cli/bin/shoal.js');
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');

export interface ShoalRun extends ProcessResult {
  out: string;
}

/** Runs `shoal <args>` with no KAFKA_BROKERS / SCHEMA_REGISTRY_URL leaking in from the caller's shell. */
export async function shoal(args: readonly string[], options: Partial<RunOptions> = {}): Promise<ShoalRun> {
  const env = { ...process.env, KAFKA_BROKERS: undefined, SCHEMA_REGISTRY_URL: undefined, NO_COLOR: '1', ...options.env };
  const result = await runProcess(process.execPath, [SHOAL_BIN, ...args], { timeoutMs: 30_000, cwd: REPO_ROOT, ...options, env });
  return { ...result, out: result.stdout.toString('utf8') };
}
