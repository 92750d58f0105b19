/**
 * Which services the repository holds, read as data: every `services/<dir>/package.json` with a field
 *
 *   "shoal": { "service": "orders", "port": 3001, "main": "src/main.ts" }
 *
 * (a TypeScript service, run with `node --import tsx <main>`), and every `services/<dir>/shoal.json`, the
 * descriptor of a service in another language behind a sidecar:
 *
 *   { "service": "loyalty", "port": 3007, "command": ["python3", "loyalty.py"], "sidecar": "sidecar.yaml" }
 *
 * `command` runs in the service's folder with PORT, HOST and SHOAL_SIDECAR_URL set; `sidecar` is its
 * sidecar's configuration, whose `port` is where the sidecar listens (`shoal sidecar --config <file>`).
 *
 * The CLI is infrastructure and never imports a service's code (it would load the service's dependencies
 * and tie the tool to the services' internals); a package.json is a declaration anyone can read. A package
 * without the field is not a service (a library, a service being written). A field that is there but wrong
 * is an error naming the file, never a service silently left out of `shoal dev`.
 *
 * `shoal dev` supervises what this returns, `shoal replay` takes its default URLs from it, and the ports are
 * the ones each service's own config uses when `PORT` is unset.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ShoalError } from '@shoal/core';
import { parse as parseYaml } from 'yaml';

/** The repository's root folder: where the services' processes run (they find schemas/ from there). */
export const REPO_ROOT: string = fileURLToPath(new URL('../../../../', import.meta.url));


export interface DiscoveredService {
  /** The service's name: its flag is `--<name>-port`, its data is `<data-dir>/<name>/`. */
  name: string;
  /** The HTTP port it listens on when `PORT` is unset. */
  port: number;
  /** Absolute path of its entry point, run with `node --import tsx`; undefined for a service in another language. */
  main: string | undefined;
  /** A service in another language: the command that runs it (in `dir`), argv. */
  command: readonly string[] | undefined;
  /** Its sidecar: the absolute path of the configuration and the port it names (flag `--<name>-sidecar-port`). */
  sidecar: { config: string; port: number } | undefined;
  /** Absolute path of its package folder. */
  dir: string;
  /** The file that declares it, for errors. */
  declaredIn: string;
}

const NAME = /^[a-z][a-z0-9-]*$/;

/** The services under `<root>/services`, by default port. */
export function discoverServices(root: string = REPO_ROOT): DiscoveredService[] {
  const servicesDir = join(root, 'services');
  if (!existsSync(servicesDir)) return [];
  const services: DiscoveredService[] = [];
  for (const entry of readdirSync(servicesDir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const dir = join(servicesDir, entry.name);
    const manifest = join(dir, 'package.json');
    const descriptor = join(dir, 'shoal.json');
    const service = existsSync(manifest) ? serviceOf(manifest, dir) : undefined;
    if (service !== undefined) services.push(service);
    else if (existsSync(descriptor)) services.push(describedService(descriptor, dir));
  }
  services.sort((a, b) => a.port - b.port || a.name.localeCompare(b.name));
  for (const [index, service] of services.entries()) {
    const clash = services.slice(0, index).find((other) => other.name === service.name || other.port === service.port);
    if (clash !== undefined) {
      const what = clash.name === service.name ? `the name '${service.name}'` : `port ${service.port}`;
      throw invalid(service.declaredIn, `${what} is already declared by ${clash.declaredIn}`);
    }
  }
  return services;
}

/**
 * The console (infra/console), declared in its package.json with the same field as a service
 * (`"shoal": {"service": "console", "port": 3000, "main": "src/main.ts"}`) and read the same way, so that
 * `shoal dev` knows its port and entry point without loading its code.
 */
export function discoverConsole(root: string = REPO_ROOT): DiscoveredService & { main: string } {
  const dir = join(root, 'infra', 'console');
  const manifest = join(dir, 'package.json');
  const declared = existsSync(manifest) ? serviceOf(manifest, dir) : undefined;
  if (declared?.main === undefined) throw invalid(manifest, 'the console must declare "shoal": {"service": "console", "port", "main"}');
  return { ...declared, main: declared.main };
}

function serviceOf(manifest: string, dir: string): DiscoveredService | undefined {
  const pkg = readJson(manifest);
  const field = (pkg as { shoal?: unknown } | null)?.shoal;
  if (field === undefined) return undefined;
  const { service, port, main } = (field ?? {}) as { service?: unknown; port?: unknown; main?: unknown };
  checkNameAndPort(manifest, service, port, 'shoal.');
  if (typeof main !== 'string' || main.length === 0) {
    throw invalid(manifest, `"shoal.main" must be the path of the service's entry point, got ${JSON.stringify(main)}`);
  }
  return { name: service as string, port: port as number, main: join(dir, main), command: undefined, sidecar: undefined, dir, declaredIn: manifest };
}

function describedService(descriptor: string, dir: string): DiscoveredService {
  const field = readJson(descriptor);
  const { service, port, command, sidecar } = (field ?? {}) as { service?: unknown; port?: unknown; command?: unknown; sidecar?: unknown };
  checkNameAndPort(descriptor, service, port, '');
  if (!Array.isArray(command) || command.length === 0 || !command.every((part) => typeof part === 'string' && part.length > 0)) {
    throw invalid(descriptor, `"command" must be the command that runs the service, as a list of strings, got ${JSON.stringify(command)}`);
  }
  if (typeof sidecar !== 'string' || sidecar.length === 0) throw invalid(descriptor, `"sidecar" must be the path of the service's sidecar configuration, got ${JSON.stringify(sidecar)}`);
  const config = join(dir, sidecar);
  if (!existsSync(config)) throw invalid(descriptor, `its sidecar configuration ${config} does not exist`);
  let sidecarPort: unknown;
  try {
    sidecarPort = (parseYaml(readFileSync(config, 'utf8')) as { port?: unknown } | null)?.port;
  } catch (error) {
    throw invalid(config, `neither YAML nor JSON (${(error as Error).message.split('\n')[0]})`);
  }
  if (typeof sidecarPort !== 'number' || !Number.isInteger(sidecarPort) || sidecarPort < 1 || sidecarPort > 65535) {
    throw invalid(config, `"port" must be the sidecar's port number (1-65535), got ${JSON.stringify(sidecarPort)}`);
  }
  return { name: service as string, port: port as number, main: undefined, command: command as string[], sidecar: { config, port: sidecarPort }, dir, declaredIn: descriptor };
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw invalid(file, `not valid JSON (${(error as Error).message})`);
  }
}

function checkNameAndPort(file: string, service: unknown, port: unknown, prefix: string): void {
  if (typeof service !== 'string' || !NAME.test(service)) {
    throw invalid(file, `"${prefix}service" must be a lower-case name (letters, digits, dashes), got ${JSON.stringify(service)}`);
  }
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw invalid(file, `"${prefix}port" must be a port number (1-65535), got ${JSON.stringify(port)}`);
  }
}

function invalid(manifest: string, reason: string): ShoalError {
  return new ShoalError('SHOAL_CONFIG_INVALID', `${manifest}: ${reason}`);
}
