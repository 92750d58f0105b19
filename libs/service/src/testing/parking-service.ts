/**
 * A service for the parking tests: one subscription (group `parking-test`) on `orders.order` whose handler
 * inserts a row per OrderPlaced into its table `handled` (a sequence, the order id, placedAt, the event id:
 * what ran, in the order it committed; `GET /handled/:orderId` reads it), and fails, poison, for the orders whose ids are lines of the file
 * PARKING_FAIL_FILE: the flag a test clears once "the fix" is in. It runs in the test's process
 * (`startTestService(parkingServiceSpec, buildParkingService)`) or as a process of its own
 * (parking-service-process.ts, started by `parkingServiceProcess`), which a test can SIGKILL.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onTestFinished } from 'vitest';
import { eventually } from '@shoal/testing';
import { ShoalError } from '@shoal/core';
import { defineServiceConfig, stringSetting } from '../config.js';
import { idParams } from '../route-schemas.js';
import type { ServiceHost } from '../service-host.js';
import { sqliteOnly } from '@shoal/store-sqlite';

export const parkingServiceSpec = defineServiceConfig({
  service: 'parking-test',
  defaultPort: 0,
  settings: { failFile: stringSetting('PARKING_FAIL_FILE', { default: '', doc: 'file whose lines are the order ids the handler fails for' }) },
});

export type ParkingServiceConfig = ReturnType<typeof parkingServiceSpec.load>;

/** What ran for an order, in commit order: `GET /handled/:orderId` answers `{ handled: HandledRow[] }`. */
export interface HandledRow {
  orderId: string;
  sequence: number;
  eventId: string;
}

export async function buildParkingService(host: ServiceHost<ParkingServiceConfig>): Promise<void> {
  const database = sqliteOnly(await host.openDatabase(), 'The parking test service');
  database.db.exec('CREATE TABLE IF NOT EXISTS handled (n INTEGER PRIMARY KEY AUTOINCREMENT, order_id TEXT NOT NULL, sequence INTEGER NOT NULL, event_id TEXT NOT NULL)');
  const insert = database.db.prepare('INSERT INTO handled (order_id, sequence, event_id) VALUES (?, ?, ?)');
  const { failFile } = host.config;
  const failing = (orderId: string) => failFile !== '' && existsSync(failFile) && readFileSync(failFile, 'utf8').split('\n').includes(orderId);
  const handledRows = database.db.prepare<[string], HandledRow>('SELECT order_id AS orderId, sequence, event_id AS eventId FROM handled WHERE order_id = ? ORDER BY n');
  host.routes(async (app) => {
    app.get<{ Params: { orderId: string } }>('/handled/:orderId', { schema: { params: idParams('orderId') } }, async (request) => ({ handled: handledRows.all(request.params.orderId) }));
  });
  host.subscribe({
    database,
    topics: ['orders.order'],
    handlers: {
      'shoal.orders.OrderPlaced': (event) => {
        if (failing(event.data.orderId)) throw new ShoalError('SHOAL_EVENT_DATA_INVALID', `order ${event.data.orderId} cannot be handled until it is fixed`);
        insert.run(event.data.orderId, event.data.placedAt, event.id);
      },
    },
  });
}

export interface ParkingServiceProcess {
  url: string;
  /** Resolves with the signal or exit code once the process ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal: NodeJS.Signals): void;
  /** What it wrote to stderr and stdout so far (its log), for failure messages. */
  output(): string;
}

const here = dirname(fileURLToPath(import.meta.url));

/**
 * Starts the service as a process of its own on `port` and resolves once `/health/ready` answers 200 (killed
 * when the test ends, if still running). Same `dataDir` and port again: the same service restarted.
 */
export async function parkingServiceProcess(options: { bootstrap: string; registryUrl: string; dataDir: string; port: number; failFile: string }): Promise<ParkingServiceProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'parking-service-process.ts')], {
    cwd: join(here, '../../../..'),
    env: {
      ...process.env,
      KAFKA_BROKERS: options.bootstrap,
      SCHEMA_REGISTRY_URL: options.registryUrl,
      SHOAL_DATA_DIR: options.dataDir,
      PORT: String(options.port),
      HOST: '127.0.0.1',
      LOG_LEVEL: process.env.SHOAL_TEST_LOG_LEVEL ?? 'warn',
      PARKING_FAIL_FILE: options.failFile,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  onTestFinished(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  const url = `http://127.0.0.1:${options.port}`;
  const ready = eventually(
    async () => {
      const response = await fetch(`${url}/health/ready`).catch(() => undefined);
      return response?.status === 200;
    },
    { what: () => `the parking service ready at ${url}; its output:\n${output}`, timeoutMs: 60_000 },
  );
  await Promise.race([
    ready,
    exited.then(({ code, signal }) => {
      throw new Error(`the parking service exited (${signal ?? code}) before it was ready:\n${output}`);
    }),
  ]);
  return { url, exited, kill: (signal) => child.kill(signal), output: () => output };
}
