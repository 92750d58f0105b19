/**
 * A PostgreSQL server for tests and benchmarks, from the binaries of Debian's `postgresql` package
 * (/usr/lib/postgresql/<major>/bin): `initdb` a fresh data dir, start `postgres` on a free port of 127.0.0.1
 * (and a Unix socket in the data dir), wait until it accepts connections, stop it, delete the dir.
 *
 * PostgreSQL refuses to run as root. Where the fixture runs as root (CI, the project's machines) it runs the
 * server as the `postgres` system user the package created, and gives that user the data dir.
 *
 * Readiness is a positive signal: `pg_isready` answering "accepting connections" on the port.
 * The superuser is `postgres` with trust authentication on 127.0.0.1 only; `url(database)` is a
 * `postgres://` URL for it. A server can be stopped and started again on the same port and data dir
 * (`restart`), as an operator restarts a database under running services.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@shoal/testing';

export interface PostgresServerOptions {
  /** Further `postgres -c` settings, overriding the fixture's. */
  config?: Record<string, string | number>;
  /**
   * Durability of the test server. Default false: fsync and synchronous commit off, as a disposable test
   * database can afford. True keeps PostgreSQL's defaults (benchmarks say which they ran).
   */
  durable?: boolean;
  /** Default 60 s: initdb and a first start on a busy 2-core machine. */
  readyTimeoutMs?: number;
}

export interface PostgresServer {
  readonly version: string;
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  /** The server's process id (changes on restart). */
  readonly pid: number;
  /** `postgres://postgres@127.0.0.1:<port>/<database>` (default database `postgres`). */
  url(database?: string): string;
  /** The tail of the server's log, for failure messages. */
  logTail(chars?: number): string;
  /** Stops the server (fast shutdown: open sessions are ended), keeping its data dir. */
  halt(): Promise<void>;
  /** Starts it again on the same port and data dir; resolves once it accepts connections. */
  restart(): Promise<void>;
  /** Stops the server and deletes its data dir. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL and delete at once, for a process's exit hook (which cannot wait). */
  kill(): void;
}

const DEBIAN_ROOT = '/usr/lib/postgresql';

/** The bin dir of the newest PostgreSQL Debian installed, undefined when there is none. */
export function postgresBinDir(): string | undefined {
  if (!existsSync(DEBIAN_ROOT)) return undefined;
  const majors = readdirSync(DEBIAN_ROOT)
    .filter((name) => /^\d+$/.test(name) && existsSync(join(DEBIAN_ROOT, name, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a));
  return majors.length === 0 ? undefined : join(DEBIAN_ROOT, majors[0]!, 'bin');
}

/** Why the fixture cannot run here, or undefined when it can. */
export function postgresMissingReason(): string | undefined {
  if (postgresBinDir() === undefined) return `no PostgreSQL server under ${DEBIAN_ROOT}/<major>/bin (Debian's postgresql package; .ci/run installs it)`;
  if (process.getuid?.() === 0 && serverUser() === undefined) return 'running as root and there is no postgres user to run the server as (Debian\'s postgresql package creates it)';
  return undefined;
}

/** uid and gid of the `postgres` user when the fixture runs as root; undefined otherwise. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('postgres:'));
  if (line === undefined) return undefined;
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

export async function startPostgres(options: PostgresServerOptions = {}): Promise<PostgresServer> {
  const missing = postgresMissingReason();
  if (missing !== undefined) throw new Error(`Cannot start PostgreSQL: ${missing}`);
  const bin = postgresBinDir()!;
  const user = serverUser();
  const dataDir = mkdtempSync(join(tmpdir(), 'shoal-postgres-'));
  if (user !== undefined) chownSync(dataDir, user.uid, user.gid);
  const asServerUser = user === undefined ? {} : { uid: user.uid, gid: user.gid };
  const init = spawnSync(join(bin, 'initdb'), ['-D', join(dataDir, 'data'), '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync'], {
    ...asServerUser,
    encoding: 'utf8',
  });
  if (init.status !== 0) {
    rmSync(dataDir, { recursive: true, force: true });
    throw new Error(`initdb failed (${String(init.status ?? init.signal)}): ${init.stderr || init.stdout}`);
  }
  const version = spawnSync(join(bin, 'postgres'), ['--version'], { encoding: 'utf8' }).stdout.trim().replace(/^postgres \(PostgreSQL\) /, '');
  const port = await freePort();
  const host = '127.0.0.1';
  const settings: Record<string, string | number> = {
    listen_addresses: host,
    port,
    unix_socket_directories: dataDir,
    max_connections: 200,
    shared_buffers: '128MB',
    ...(options.durable === true ? {} : { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' }),
    ...options.config,
  };
  const args = ['-D', join(dataDir, 'data'), ...Object.entries(settings).flatMap(([key, value]) => ['-c', `${key}=${String(value)}`])];
  const logFile = join(dataDir, 'server.log');
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
  let log = '';
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let deleted = false;

  const launch = async () => {
    const started = spawn(join(bin, 'postgres'), args, { ...asServerUser, stdio: ['ignore', 'pipe', 'pipe'] });
    child = started;
    const append = (chunk: Buffer) => {
      log = (log + chunk.toString('utf8')).slice(-64_000);
    };
    started.stdout?.on('data', append);
    started.stderr?.on('data', append);
    exited = new Promise<void>((resolve) => started.once('exit', () => resolve()));
    const deadline = Date.now() + readyTimeoutMs;
    for (;;) {
      if (started.exitCode !== null || started.signalCode !== null) throw new Error(`PostgreSQL exited before it accepted connections:\n${log.slice(-4000)}`);
      const ready = spawnSync(join(bin, 'pg_isready'), ['-h', host, '-p', String(port), '-U', 'postgres', '-t', '2'], { encoding: 'utf8' });
      if (ready.status === 0) return;
      if (Date.now() > deadline) {
        started.kill('SIGKILL');
        throw new Error(`PostgreSQL did not accept connections within ${readyTimeoutMs} ms:\n${log.slice(-4000)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  const halt = async () => {
    const running = child;
    if (running === undefined || running.exitCode !== null || running.signalCode !== null) return;
    // SIGINT is PostgreSQL's fast shutdown: sessions are ended, the checkpoint written.
    running.kill('SIGINT');
    const timer = setTimeout(() => running.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  };

  try {
    await launch();
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  return {
    version,
    host,
    port,
    dataDir,
    get pid() {
      return child?.pid ?? -1;
    },
    url: (database = 'postgres') => `postgres://postgres@${host}:${port}/${database}`,
    logTail: (chars = 4000) => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : log).slice(-chars),
    halt,
    restart: async () => {
      await halt();
      await launch();
    },
    stop: async () => {
      if (deleted) return;
      deleted = true;
      await halt();
      rmSync(dataDir, { recursive: true, force: true });
    },
    kill: () => {
      if (deleted) return;
      deleted = true;
      child?.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
