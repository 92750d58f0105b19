import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { loadSchemaCatalog } from '@shoal/contract';
import { PostgresServiceDatabase } from '@shoal/store-postgres';
import { testPostgresDatabaseUrl } from '@shoal/store-postgres/testing';
import { freePorts, tempDir } from '@shoal/testing';

/** A service with no parts of its own, run as a process the way a service's main.ts runs. */
const MAIN = `
import { defineServiceConfig, runService } from '@shoal/service';
await runService(defineServiceConfig({ service: 'probe', defaultPort: 0 }), () => {});
`;

/** The same service, answering which of OpenTelemetry's SDK and exporter files the process has loaded once it is built. */
const LOADED = `
import { createRequire } from 'node:module';
import { defineServiceConfig, runService } from '@shoal/service';
const require = createRequire(import.meta.url);
await runService(defineServiceConfig({ service: 'probe', defaultPort: 0 }), () => {
  const loaded = Object.keys(require.cache).filter((path) => /@opentelemetry[\\/](sdk-trace|exporter-trace)/.test(path));
  process.stdout.write(JSON.stringify(loaded.length));
  process.exit(0);
});
`;

function runProbe(env: Record<string, string>, main = MAIN) {
  return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', main], {
    cwd: import.meta.dirname,
    env: { ...process.env, LOG_LEVEL: 'silent', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
}

describe('runService and the OTEL_* variables', () => {
  it.each([
    [{ OTEL_TRACES_EXPORTER: 'zipkin' }, 'OTEL_TRACES_EXPORTER="zipkin": expected otlp or none (Shoal exports traces over OTLP/HTTP only)'],
    [{ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, 'OTEL_EXPORTER_OTLP_PROTOCOL="grpc": expected http/protobuf or http/json'],
    [{ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: 'localhost:4318' }, 'OTEL_EXPORTER_OTLP_ENDPOINT="localhost:4318": expected an http(s) URL'],
    [{ OTEL_SDK_DISABLED: 'no' }, 'OTEL_SDK_DISABLED="no": expected true or false'],
  ])('exits 2 on %o with one line naming the variable', (env, problem) => {
    const result = runProbe(env);
    expect(result.status).toBe(2);
    const firstLine = result.stderr.split('\n')[0]!;
    expect(firstLine).toBe(`probe: Invalid configuration of probe: ${problem}`);
    expect(result.stderr).toContain('OTEL_TRACES_EXPORTER');
  });

  it('loads none of the OpenTelemetry SDK when tracing is off, and loads it when on', () => {
    const off = runProbe({}, LOADED);
    expect(off.status, off.stderr).toBe(0);
    expect(JSON.parse(off.stdout)).toBe(0);
    const disabled = runProbe({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_SDK_DISABLED: 'true' }, LOADED);
    expect(JSON.parse(disabled.stdout)).toBe(0);
    const on = runProbe({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1' }, LOADED);
    expect(on.status, on.stderr).toBe(0);
    expect(JSON.parse(on.stdout)).toBeGreaterThan(0);
  });
});

/** The service, opening its database: it answers the dialect it got and ends. */
const OPENS = `
import { defineServiceConfig, runService } from '@shoal/service';
await runService(defineServiceConfig({ service: 'probe', defaultPort: 0 }), async (host) => {
  const database = await host.openDatabase();
  process.stdout.write(database.sql.dialect);
  await database.close();
  process.exit(0);
});
`;

describe('runService and DATABASE_URL', () => {
  it('opens SQLite under SHOAL_DATA_DIR without it, and the PostgreSQL database it names with it', async () => {
    const sqlite = runProbe({ SHOAL_DATA_DIR: tempDir('run-service') }, OPENS);
    expect(sqlite.status, sqlite.stderr).toBe(0);
    expect(sqlite.stdout).toBe('sqlite');
    const postgres = runProbe({ DATABASE_URL: await testPostgresDatabaseUrl() }, OPENS);
    expect(postgres.status, postgres.stderr).toBe(0);
    expect(postgres.stdout).toBe('postgres');
  });

  it.each([
    ['mysql://root:hunter2@127.0.0.1/probe', 'DATABASE_URL=mysql://root:***@127.0.0.1/probe: expected postgres://user:password@host:port/database'],
    ['postgres://root:hunter2@127.0.0.1:5432', 'DATABASE_URL=postgres://root:***@127.0.0.1:5432 names no database: expected postgres://user:password@host:port/database'],
    ['not a url', 'DATABASE_URL is not a URL: expected postgres://user:password@host:port/database'],
  ])('exits 2 on DATABASE_URL=%s with one line naming the variable, never its password', (url, problem) => {
    const result = runProbe({ DATABASE_URL: url }, OPENS);
    expect(result.status).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe(`probe: Invalid configuration of probe: ${problem}`);
    expect(result.stderr).not.toContain('hunter2');
  });

  it('exits 2 with one line naming DATABASE_URL when the server is not there, and when the database is another service\'s', async () => {
    const [port] = await freePorts(1);
    const unreachable = runProbe({ DATABASE_URL: `postgres://probe:hunter2@127.0.0.1:${port}/probe` }, OPENS);
    expect(unreachable.status).toBe(2);
    const lines = unreachable.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^probe: DATABASE_URL=postgres://probe:\\*\\*\\*@127\\.0\\.0\\.1:${port}/probe: .+`));
    expect(unreachable.stderr).not.toContain('hunter2');

    const url = await testPostgresDatabaseUrl();
    const other = await PostgresServiceDatabase.open({ url, catalog: loadSchemaCatalog(), service: 'payments' });
    await other.close();
    const refused = runProbe({ DATABASE_URL: url }, OPENS);
    expect(refused.status).toBe(2);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toMatch(/^probe: DATABASE_URL=\S+: .*payments/);
  });
});
