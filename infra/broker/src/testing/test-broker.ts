import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { onTestFinished } from 'vitest';
import { startBroker, type BrokerOptions, type RunningBroker } from '../broker.js';

/** A broker on a free port and a fresh temp dir, closed and removed when the calling test finishes. */
export async function startTestBroker(options: Partial<BrokerOptions> = {}): Promise<RunningBroker & { dataDir: string }> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'shoal-broker-test-'));
  const broker = await startBroker({ port: 0, logLevel: 'warn', groupInitialRebalanceDelayMs: 50, ...options, dataDir });
  onTestFinished(async () => {
    await broker.close();
    if (options.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
  });
  return { ...broker, close: broker.close, dataDir };
}

/** A name no other test uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}
