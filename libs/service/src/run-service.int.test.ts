import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

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
