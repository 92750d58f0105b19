/**
 * What docker-compose.yml owes each Shoal service, as a list of problems (empty when it keeps the contract).
 * No Docker engine runs on the machines that test this repository, so the file is checked statically:
 * `docker-compose config` validates its structure, and this module checks its content against what each
 * service declares in its `configSpec` (service name, default port, every environment variable it reads).
 *
 * The file uses YAML merge keys (`<<: *service`) to share one service block; `loadComposeFile` resolves
 * them the way Compose does, so the checks see each service as Compose sees it.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

/** The part of a service's `configSpec` (from `defineServiceConfig`) that the compose file must match. */
export interface ServiceSpec {
  service: string;
  defaultPort: number;
  variables: readonly string[];
}

/** A compose service, loosely typed: only the keys the checks read. */
export interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string | readonly string[];
  environment?: Record<string, string | number | boolean | null> | readonly string[];
  ports?: readonly (string | number | { target?: number | string; published?: number | string; host_ip?: string })[];
  volumes?: readonly (string | { type?: string; source?: string; target?: string })[];
  depends_on?: readonly string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string | readonly string[]; disable?: boolean };
  restart?: string;
  [key: string]: unknown;
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

export const SETUP_SERVICE = 'setup';
export const DATA_DIR_VARIABLE = 'SHOAL_DATA_DIR';
/** Optional by design: set, the service runs on that PostgreSQL database; unset, on SQLite under SHOAL_DATA_DIR. */
export const OPTIONAL_VARIABLES: readonly string[] = ['DATABASE_URL'];

/** Parses a compose file (YAML 1.2, merge keys resolved as Compose resolves them). */
export function parseComposeFile(text: string): ComposeFile {
  const parsed: unknown = parse(text, { merge: true });
  if (typeof parsed !== 'object' || parsed === null || typeof (parsed as ComposeFile).services !== 'object') {
    throw new Error('not a compose file: no services mapping');
  }
  return parsed as ComposeFile;
}

export function loadComposeFile(path: string): ComposeFile {
  return parseComposeFile(readFileSync(path, 'utf8'));
}

/** A service's environment as name -> value (null: passed through from the shell running compose). */
export function environmentOf(service: ComposeService): Map<string, string | null> {
  const environment = new Map<string, string | null>();
  if (Array.isArray(service.environment)) {
    for (const entry of service.environment as readonly string[]) {
      const at = entry.indexOf('=');
      environment.set(at < 0 ? entry : entry.slice(0, at), at < 0 ? null : entry.slice(at + 1));
    }
  } else {
    for (const [name, value] of Object.entries(service.environment ?? {})) environment.set(name, value === null ? null : String(value));
  }
  return environment;
}

export interface PortMapping {
  hostIp: string | undefined;
  published: number | undefined;
  target: number;
}

/** Short (`[ip:]published:target[/proto]`) and long port syntaxes, normalised. */
export function portsOf(service: ComposeService): PortMapping[] {
  return (service.ports ?? []).map((port) => {
    if (typeof port === 'object') {
      return { hostIp: port.host_ip, published: port.published === undefined ? undefined : Number(port.published), target: Number(port.target) };
    }
    const parts = String(port).replace(/\/(tcp|udp)$/, '').split(':');
    const target = Number(parts.pop());
    const published = parts.length > 0 ? Number(parts.pop()) : undefined;
    return { hostIp: parts.length > 0 ? parts.join(':') : undefined, published, target };
  });
}

/** Named volumes mounted by the service, as volume -> container path (bind mounts are left out). */
export function namedVolumesOf(service: ComposeService): Map<string, string> {
  const mounts = new Map<string, string>();
  for (const volume of service.volumes ?? []) {
    if (typeof volume === 'object') {
      if ((volume.type ?? 'volume') === 'volume' && volume.source !== undefined && volume.target !== undefined) mounts.set(volume.source, volume.target);
      continue;
    }
    const [source, target] = volume.split(':');
    if (source !== undefined && target !== undefined && !/^[./~]/.test(source)) mounts.set(source, target);
  }
  return mounts;
}

export function commandOf(service: ComposeService): string[] {
  if (service.command === undefined) return [];
  return typeof service.command === 'string' ? service.command.split(/\s+/).filter((word) => word.length > 0) : [...service.command];
}

export function dependencyCondition(service: ComposeService, on: string): string | undefined {
  const dependsOn = service.depends_on;
  if (dependsOn === undefined) return undefined;
  // The short form waits for nothing but the container's start.
  if (Array.isArray(dependsOn)) return dependsOn.includes(on) ? 'service_started' : undefined;
  return (dependsOn as Record<string, { condition?: string }>)[on]?.condition ?? (on in dependsOn ? 'service_started' : undefined);
}

function healthcheckText(service: ComposeService): string | undefined {
  const test = service.healthcheck?.test;
  if (service.healthcheck?.disable === true || test === undefined) return undefined;
  return typeof test === 'string' ? test : test.join(' ');
}

/** Every way the compose file's service named `spec.service` breaks the service's contract. */
export function composeServiceProblems(spec: ServiceSpec, compose: ComposeFile): string[] {
  const name = spec.service;
  const service = compose.services[name];
  if (service === undefined) return [`docker-compose.yml has no service '${name}'`];
  const problems: string[] = [];

  const main = `services/${name}/src/main.ts`;
  const command = commandOf(service);
  const importsTsx = command.some((word, i) => word === '--import' && command[i + 1] === 'tsx');
  if (command[0] !== 'node' || !importsTsx || !command.includes(main)) {
    problems.push(`${name}: command should be node --import tsx ${main}, is ${JSON.stringify(command)}`);
  }

  const environment = environmentOf(service);
  for (const variable of spec.variables.filter((name) => !OPTIONAL_VARIABLES.includes(name))) {
    const value = environment.get(variable);
    if (value === undefined || value === null || value === '') problems.push(`${name}: environment does not set ${variable}`);
  }

  // Inside the compose network the platform is reached by service name, never by the host's loopback.
  for (const broker of (environment.get('KAFKA_BROKERS') ?? '').split(',').filter((b) => b.length > 0)) {
    const host = broker.split(':')[0]!;
    if (!(host in compose.services)) problems.push(`${name}: KAFKA_BROKERS names '${host}', which is not a compose service`);
  }
  const registryUrl = environment.get('SCHEMA_REGISTRY_URL');
  if (registryUrl && (!URL.canParse(registryUrl) || !(new URL(registryUrl).hostname in compose.services))) {
    problems.push(`${name}: SCHEMA_REGISTRY_URL ${registryUrl} does not name a compose service`);
  }

  const port = environment.get('PORT');
  if (port !== undefined && port !== String(spec.defaultPort)) problems.push(`${name}: PORT is ${port}, the service's default port is ${spec.defaultPort}`);
  const ports = portsOf(service);
  if (!ports.some((p) => p.published === spec.defaultPort && p.target === spec.defaultPort)) {
    problems.push(`${name}: does not publish port ${spec.defaultPort} as ${spec.defaultPort} (ports: ${JSON.stringify(service.ports ?? [])})`);
  }
  for (const p of ports) {
    if (p.hostIp !== '127.0.0.1') problems.push(`${name}: port ${p.target} is published on ${p.hostIp ?? 'every interface'}, not 127.0.0.1`);
  }

  if (!healthcheckText(service)?.includes('/health/ready')) problems.push(`${name}: no healthcheck on /health/ready`);
  if (service.restart !== 'unless-stopped' && service.restart !== 'always') problems.push(`${name}: restart is ${service.restart ?? 'unset'}; a crashed service should come back`);
  if (dependencyCondition(service, SETUP_SERVICE) !== 'service_completed_successfully') {
    problems.push(`${name}: does not depend on '${SETUP_SERVICE}' with condition service_completed_successfully`);
  }

  const dataDir = environment.get(DATA_DIR_VARIABLE);
  const volumes = namedVolumesOf(service);
  const dataVolume = [...volumes].find(([, target]) => target === dataDir)?.[0];
  if (dataVolume === undefined) problems.push(`${name}: no named volume mounted at ${DATA_DIR_VARIABLE} (${dataDir ?? 'unset'})`);
  else if (!(dataVolume in (compose.volumes ?? {}))) problems.push(`${name}: volume '${dataVolume}' is not declared under the top-level volumes`);

  return problems;
}
