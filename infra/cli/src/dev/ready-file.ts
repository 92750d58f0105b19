/**
 * `--ready-file`: what `shoal dev` runs, as JSON, for scripts and tests that start it in the background and
 * need its addresses and its services' pids (to kill one, say) without scraping the banner.
 *
 *   {"broker": "127.0.0.1:9092", "registry": "http://127.0.0.1:8081", "dataDir": "/abs/.shoal",
 *    "services": {"orders": {"url": "http://127.0.0.1:3001", "pid": 4242}, ...}}
 *
 * plus "brokerMetrics": "http://127.0.0.1:9644/metrics" when the embedded broker serves its request counts
 * (`--broker-metrics-port`), "console": {"url": "http://127.0.0.1:3000", "pid": 4250} unless
 * `--no-console`, and "postgres": "postgres://admin:***@host:5432/postgres" with `--postgres`.
 *
 * `services` holds the first instance of each process, as it always has; "instances" lists every instance
 * of each, the first included, under the same keys (one each without `--replicas`):
 *
 *   "instances": {"orders": [{"name": "orders", "url": "http://127.0.0.1:3001", "pid": 4242},
 *                            {"name": "orders#2", "url": "http://127.0.0.1:13001", "pid": 4243}], ...}
 *
 * The file exists only while the platform is ready: it is removed when `shoal dev` starts (a stale one
 * from an earlier run would be believed) and when it stops, written before the banner is printed, and
 * rewritten when a restarted service is ready again, with its new pid. Each write goes to a temporary file
 * renamed over the old one, so a reader never sees half a file.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface ReadyFileContent {
  broker: string;
  registry: string;
  dataDir: string;
  brokerMetrics?: string;
  /** `--postgres`: the server's URL without its password. */
  postgres?: string;
  console?: { url: string; pid: number };
  /** The first instance of each process. */
  services: Record<string, { url: string; pid: number }>;
  /** Every instance of each process, in order; the first is the one `services` holds. */
  instances: Record<string, { name: string; url: string; pid: number }[]>;
}

export function writeReadyFile(path: string, content: ReadyFileContent): void {
  const temporary = `${path}.${process.pid}.tmp`;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(temporary, `${JSON.stringify(content, null, 2)}\n`);
  renameSync(temporary, path);
}

export function removeReadyFile(path: string): void {
  rmSync(path, { force: true });
}
