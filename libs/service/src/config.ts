/**
 * A service's configuration: the twelve-factor variables every Shoal service reads (docs/operations.md) plus the
 * service's own settings, parsed once at start, every problem reported together, then frozen. A service's
 * `config.ts` is the only module that hands `process.env` to this loader; libraries never read it.
 *
 *   const configSpec = defineServiceConfig({
 *     service: 'shipping',
 *     defaultPort: 3004,
 *     settings: { autoDispatchMs: integerSetting('SHIPPING_AUTO_DISPATCH_MS', { default: 0, min: 0, doc: '…' }) },
 *   });
 *   const config = configSpec.load(process.env);   // Readonly<ServiceConfig & { autoDispatchMs: number }>
 *
 * `configSpec.variables` lists every variable the service reads: the compose file test checks that
 * docker-compose.yml sets each of them, and `describe()` renders them for help texts.
 */
import { resolve } from 'node:path';
import { ShoalError } from '@shoal/core';
import { readTracingConfig, TRACING_VARIABLES, type TracingConfig } from '@shoal/telemetry';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** What every service's configuration holds. */
export interface ServiceConfig {
  /** The service's name: its CloudEvents source is `/shoal/<service>`, its consumer group `<service>`. */
  service: string;
  kafkaBrokers: readonly string[];
  schemaRegistryUrl: string;
  /** `<SHOAL_DATA_DIR>/<service>`, absolute: the service's own files. */
  dataDir: string;
  /** `DATABASE_URL`: the service's PostgreSQL database; undefined: SQLite files under `dataDir`. */
  databaseUrl: string | undefined;
  port: number;
  host: string;
  logLevel: LogLevel;
  /** Where the service exports its traces (the standard `OTEL_*` variables); undefined: tracing is off. */
  tracing: TracingConfig | undefined;
}

/** One environment variable: how it is read, its default and what it means. */
export interface Setting<T> {
  variable: string;
  doc: string;
  /** Shown in help texts; undefined when the default depends on the service. */
  defaultText: string | undefined;
  read(raw: string | undefined): T;
}

export interface IntegerSettingOptions {
  default: number;
  min?: number;
  max?: number;
  doc: string;
}

export function integerSetting(variable: string, options: IntegerSettingOptions): Setting<number> {
  const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = options;
  return {
    variable,
    doc: options.doc,
    defaultText: String(options.default),
    read(raw) {
      if (raw === undefined || raw.trim() === '') return options.default;
      const value = Number(raw.trim());
      if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(value)) throw new Error(`${variable}=${JSON.stringify(raw)} is not an integer`);
      if (value < min || value > max) throw new Error(`${variable}=${value} is out of range (${min}..${max})`);
      return value;
    },
  };
}

export function stringSetting(variable: string, options: { default: string; doc: string; check?: (value: string) => string | undefined }): Setting<string> {
  return {
    variable,
    doc: options.doc,
    defaultText: options.default,
    read(raw) {
      const value = raw === undefined || raw.trim() === '' ? options.default : raw.trim();
      const problem = options.check?.(value);
      if (problem !== undefined) throw new Error(`${variable}=${JSON.stringify(value)}: ${problem}`);
      return value;
    },
  };
}

const defaultBrokers = '127.0.0.1:9092';
const defaultRegistryUrl = 'http://127.0.0.1:8081';
const defaultDataDir = '.shoal';

/** The variables every service reads, in the order help texts show them. */
export const COMMON_VARIABLES = ['KAFKA_BROKERS', 'SCHEMA_REGISTRY_URL', 'SHOAL_DATA_DIR', 'PORT', 'HOST', 'LOG_LEVEL'] as const;

/** The variable that moves a service's database from SQLite under SHOAL_DATA_DIR to PostgreSQL (docs/operations.md). */
export const DATABASE_VARIABLE = 'DATABASE_URL';

/** OpenTelemetry's variables, which every service reads too; tracing is off unless they turn it on (docs/tracing.md). */
const TRACING_DOCS: Readonly<Record<(typeof TRACING_VARIABLES)[number], readonly [string, string]>> = {
  OTEL_SDK_DISABLED: ['false', 'true: no tracing, whatever else is set'],
  OTEL_TRACES_EXPORTER: ['none', 'otlp: export traces over OTLP/HTTP'],
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: ['', 'the URL spans are posted to, as given'],
  OTEL_EXPORTER_OTLP_ENDPOINT: ['http://localhost:4318', 'the collector; spans go to <url>/v1/traces'],
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: ['', 'http/protobuf or http/json (default: OTEL_EXPORTER_OTLP_PROTOCOL)'],
  OTEL_EXPORTER_OTLP_PROTOCOL: ['http/protobuf', 'http/protobuf or http/json'],
  OTEL_SERVICE_NAME: ['', "the traces' service.name (default: the service's name)"],
};

export interface ServiceConfigDefinition<S extends Record<string, Setting<unknown>>> {
  service: string;
  defaultPort: number;
  settings?: S;
}

export type SettingsValues<S extends Record<string, Setting<unknown>>> = { [K in keyof S]: S[K] extends Setting<infer T> ? T : never };

/** The frozen configuration a spec loads. */
export type ConfigOf<S extends Record<string, Setting<unknown>>> = Readonly<ServiceConfig & SettingsValues<S>>;

export interface ServiceConfigSpec<S extends Record<string, Setting<unknown>>> {
  service: string;
  defaultPort: number;
  /** Every environment variable the service reads. */
  variables: readonly string[];
  /** Parses `env`; throws one SHOAL_CONFIG_INVALID naming every bad variable. The result is frozen. */
  load(env: Readonly<Record<string, string | undefined>>): ConfigOf<S>;
  /** `VARIABLE  default  meaning` lines. */
  describe(): string;
}

export function defineServiceConfig<S extends Record<string, Setting<unknown>> = Record<never, never>>(definition: ServiceConfigDefinition<S>): ServiceConfigSpec<S> {
  if (!/^[a-z][a-z0-9-]*$/.test(definition.service)) throw new ShoalError('SHOAL_CONFIG_INVALID', `Service name ${JSON.stringify(definition.service)} is not lower-case kebab-case`);
  const own = (definition.settings ?? {}) as S;
  const common = commonSettings(definition.defaultPort);
  const all: Setting<unknown>[] = [...Object.values(common), ...Object.values(own)];
  const variables = all.map((setting) => setting.variable);
  const duplicate = variables.find((variable, index) => variables.indexOf(variable) !== index);
  if (duplicate !== undefined) throw new ShoalError('SHOAL_CONFIG_INVALID', `${duplicate} is declared twice for ${definition.service}`);

  return {
    service: definition.service,
    defaultPort: definition.defaultPort,
    variables: Object.freeze(variables),
    load(env) {
      const problems: string[] = [];
      const read = <T>(setting: Setting<T>): T | undefined => {
        try {
          return setting.read(env[setting.variable]);
        } catch (error) {
          problems.push((error as Error).message);
          return undefined;
        }
      };
      const brokers = read(common.brokers);
      const values = {
        service: definition.service,
        kafkaBrokers: brokers === undefined ? [] : Object.freeze(brokers.split(',').map((broker) => broker.trim())),
        schemaRegistryUrl: read(common.registryUrl)?.replace(/\/+$/, ''),
        dataDir: resolve(read(common.dataDir) ?? defaultDataDir, definition.service),
        databaseUrl: read(common.databaseUrl),
        port: read(common.port),
        host: read(common.host),
        logLevel: read(common.logLevel) as LogLevel | undefined,
        tracing: undefined,
      } as Record<string, unknown>;
      try {
        values.tracing = readTracingConfig(env, definition.service);
      } catch (error) {
        problems.push((error as Error).message);
      }
      for (const [key, setting] of Object.entries(own)) values[key] = read(setting);
      if (problems.length > 0) {
        throw new ShoalError('SHOAL_CONFIG_INVALID', `Invalid configuration of ${definition.service}: ${problems.join('; ')}`, { details: { problems } });
      }
      return Object.freeze(values) as ConfigOf<S>;
    },
    describe() {
      const rows = [
        ...all.map((setting) => [setting.variable, setting.defaultText ?? '', setting.doc]),
        ...TRACING_VARIABLES.map((variable) => [variable, ...TRACING_DOCS[variable]]),
      ];
      const width = (column: number) => Math.max(...rows.map((row) => row[column]!.length));
      return rows.map((row) => `  ${row[0]!.padEnd(width(0))}  ${row[1]!.padEnd(width(1))}  ${row[2]}`).join('\n');
    },
  };
}

function commonSettings(defaultPort: number) {
  return {
    brokers: stringSetting('KAFKA_BROKERS', {
      default: defaultBrokers,
      doc: 'Kafka bootstrap servers, comma-separated host:port',
      check: (value) => (value.split(',').every((broker) => /^[^\s:,]+:\d{1,5}$/.test(broker.trim())) ? undefined : 'expected host:port[,host:port…]'),
    }),
    registryUrl: stringSetting('SCHEMA_REGISTRY_URL', {
      default: defaultRegistryUrl,
      doc: 'schema registry base URL',
      check: (value) => (/^https?:\/\/[^\s/]+/.test(value) ? undefined : 'expected an http(s) URL'),
    }),
    dataDir: stringSetting('SHOAL_DATA_DIR', { default: defaultDataDir, doc: 'the service keeps its files in <dir>/<service>' }),
    databaseUrl: postgresUrlSetting(DATABASE_VARIABLE, "postgres://user:password@host:port/database: the service's own PostgreSQL database (unset: SQLite under SHOAL_DATA_DIR)"),
    port: integerSetting('PORT', { default: defaultPort, min: 0, max: 65535, doc: 'HTTP port (0: any free port)' }),
    host: stringSetting('HOST', { default: '127.0.0.1', doc: 'HTTP listen address (0.0.0.0 in containers)' }),
    logLevel: stringSetting('LOG_LEVEL', {
      default: 'info',
      doc: `pino level: ${LOG_LEVELS.join(', ')}`,
      check: (value) => ((LOG_LEVELS as readonly string[]).includes(value) ? undefined : `expected one of ${LOG_LEVELS.join(', ')}`),
    }),
  };
}

/** An optional `postgres://` URL; a problem names the variable and never shows the password. */
export function postgresUrlSetting(variable: string, doc: string): Setting<string | undefined> {
  return {
    variable,
    doc,
    defaultText: '',
    read(raw) {
      if (raw === undefined || raw.trim() === '') return undefined;
      const value = raw.trim();
      const expected = 'expected postgres://user:password@host:port/database';
      if (!URL.canParse(value)) throw new Error(`${variable} is not a URL: ${expected}`);
      const url = new URL(value);
      const shown = () => {
        if (url.password !== '') url.password = '***';
        return url.toString();
      };
      if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') throw new Error(`${variable}=${shown()}: ${expected}`);
      if (url.hostname === '') throw new Error(`${variable}=${shown()} names no host: ${expected}`);
      if (url.pathname.replace(/^\//, '') === '') throw new Error(`${variable}=${shown()} names no database: ${expected}`);
      return value;
    },
  };
}
