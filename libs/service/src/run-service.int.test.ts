import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/** A service with no parts of its own, run as a process the way a service's main.ts runs. */
const MAIN = `
import { defineServiceConfig, runService } from '@shoal/service';
await runService(defineServiceConfig({ service: 'probe', defaultPort: 0 }), () => {});
`;

function runProbe(env: Record<string, string>) {
  return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', MAIN], {
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
});
