/**
 * Whether a process traces, and where to, from OpenTelemetry's standard variables. Off unless
 * `OTEL_TRACES_EXPORTER=otlp`; only the variables below are Shoal's to read (the SDK reads no others on
 * Shoal's behalf):
 *
 *   OTEL_SDK_DISABLED                     true: off whatever else is set; false (default)
 *   OTEL_TRACES_EXPORTER                  otlp: on; none (default): off
 *   OTEL_EXPORTER_OTLP_TRACES_ENDPOINT    the full URL spans are posted to, used as given
 *   OTEL_EXPORTER_OTLP_ENDPOINT           the collector's base URL; spans go to <base>/v1/traces
 *                                         (default http://localhost:4318)
 *   OTEL_EXPORTER_OTLP_TRACES_PROTOCOL    http/protobuf (default) or http/json; grpc is not supported
 *   OTEL_EXPORTER_OTLP_PROTOCOL           the same for every signal; the traces variable wins
 *   OTEL_SERVICE_NAME                     the resource's service.name (default: the Shoal service's name)
 *
 * A bad value is an error naming the variable, reported with the rest of the configuration (exit 2).
 */

export const TRACING_VARIABLES = [
  'OTEL_SDK_DISABLED',
  'OTEL_TRACES_EXPORTER',
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL',
  'OTEL_EXPORTER_OTLP_PROTOCOL',
  'OTEL_SERVICE_NAME',
] as const;

export type OtlpProtocol = 'http/protobuf' | 'http/json';

/** Tracing on: where the spans go and under which service name. */
export interface TracingConfig {
  /** The URL the exporter posts to, `/v1/traces` included. */
  endpoint: string;
  protocol: OtlpProtocol;
  serviceName: string;
}

export const DEFAULT_OTLP_ENDPOINT = 'http://localhost:4318';
const PROTOCOLS: readonly string[] = ['http/protobuf', 'http/json'];

/**
 * The tracing configuration `env` asks for, undefined when tracing is off. Throws an Error whose message names
 * every bad variable, `; `-separated (the service configuration reports it with its own problems).
 */
export function readTracingConfig(env: Readonly<Record<string, string | undefined>>, defaultServiceName: string): TracingConfig | undefined {
  const problems: string[] = [];
  const value = (variable: (typeof TRACING_VARIABLES)[number]) => {
    const raw = env[variable]?.trim();
    return raw === undefined || raw === '' ? undefined : raw;
  };

  const disabled = value('OTEL_SDK_DISABLED')?.toLowerCase();
  if (disabled !== undefined && disabled !== 'true' && disabled !== 'false') problems.push(`OTEL_SDK_DISABLED=${JSON.stringify(env.OTEL_SDK_DISABLED)}: expected true or false`);

  const exporter = value('OTEL_TRACES_EXPORTER') ?? 'none';
  if (exporter !== 'otlp' && exporter !== 'none') problems.push(`OTEL_TRACES_EXPORTER=${JSON.stringify(exporter)}: expected otlp or none (Shoal exports traces over OTLP/HTTP only)`);

  for (const variable of ['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL'] as const) {
    const protocol = value(variable);
    if (protocol !== undefined && !PROTOCOLS.includes(protocol)) problems.push(`${variable}=${JSON.stringify(protocol)}: expected http/protobuf or http/json`);
  }
  for (const variable of ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OTEL_EXPORTER_OTLP_ENDPOINT'] as const) {
    const url = value(variable);
    if (url !== undefined && !isHttpUrl(url)) problems.push(`${variable}=${JSON.stringify(url)}: expected an http(s) URL`);
  }
  const serviceName = value('OTEL_SERVICE_NAME') ?? defaultServiceName;

  if (problems.length > 0) throw new Error(problems.join('; '));
  if (disabled === 'true' || exporter === 'none') return undefined;

  const protocol = (value('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') ?? value('OTEL_EXPORTER_OTLP_PROTOCOL') ?? 'http/protobuf') as OtlpProtocol;
  const endpoint = value('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') ?? `${(value('OTEL_EXPORTER_OTLP_ENDPOINT') ?? DEFAULT_OTLP_ENDPOINT).replace(/\/+$/, '')}/v1/traces`;
  return Object.freeze({ endpoint, protocol, serviceName });
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}
