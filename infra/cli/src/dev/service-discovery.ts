/**
 * Which services the repository holds, read as data: every `services/<dir>/package.json` with a field
 *
 *   "shoal": { "service": "orders", "port": 3001, "main": "src/main.ts" }
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

/** The repository's root folder: where the services' processes run (they find schemas/ from there). */
export const REPO_ROOT: string = fileURLToPath(new URL('../../../../', import.meta.url));


export interface DiscoveredService {
  /** The service's name: its flag is `--<name>-port`, its data is `<data-dir>/<name>/`. */
  name: string;
  /** The HTTP port it listens on when `PORT` is unset. */
  port: number;
  /** Absolute path of its entry point, run with `node --import tsx`. */
  main: string;
  /** Absolute path of its package folder. */
  dir: string;
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
    if (!existsSync(manifest)) continue;
    const service = serviceOf(manifest, dir);
    if (service !== undefined) services.push(service);
  }
  services.sort((a, b) => a.port - b.port || a.name.localeCompare(b.name));
  for (const [index, service] of services.entries()) {
    const clash = services.slice(0, index).find((other) => other.name === service.name || other.port === service.port);
    if (clash !== undefined) {
      const what = clash.name === service.name ? `the name '${service.name}'` : `port ${service.port}`;
      throw invalid(join(service.dir, 'package.json'), `${what} is already declared by ${join(clash.dir, 'package.json')}`);
    }
  }
  return services;
}

/**
 * The console (infra/console), declared in its package.json with the same field as a service
 * (`"shoal": {"service": "console", "port": 3000, "main": "src/main.ts"}`) and read the same way, so that
 * `shoal dev` knows its port and entry point without loading its code.
 */
export function discoverConsole(root: string = REPO_ROOT): DiscoveredService {
  const dir = join(root, 'infra', 'console');
  const manifest = join(dir, 'package.json');
  const declared = existsSync(manifest) ? serviceOf(manifest, dir) : undefined;
  if (declared === undefined) throw invalid(manifest, 'the console must declare "shoal": {"service": "console", "port", "main"}');
  return declared;
}

function serviceOf(manifest: string, dir: string): DiscoveredService | undefined {
  let pkg: unknown;
  try {
    pkg = JSON.parse(readFileSync(manifest, 'utf8'));
  } catch (error) {
    throw invalid(manifest, `not valid JSON (${(error as Error).message})`);
  }
  const field = (pkg as { shoal?: unknown } | null)?.shoal;
  if (field === undefined) return undefined;
  const { service, port, main } = (field ?? {}) as { service?: unknown; port?: unknown; main?: unknown };
  if (typeof service !== 'string' || !NAME.test(service)) {
    throw invalid(manifest, `"shoal.service" must be a lower-case name (letters, digits, dashes), got ${JSON.stringify(service)}`);
  }
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw invalid(manifest, `"shoal.port" must be a port number (1-65535), got ${JSON.stringify(port)}`);
  }
  if (typeof main !== 'string' || main.length === 0) {
    throw invalid(manifest, `"shoal.main" must be the path of the service's entry point, got ${JSON.stringify(main)}`);
  }
  return { name: service, port, main: join(dir, main), dir };
}

function invalid(manifest: string, reason: string): ShoalError {
  return new ShoalError('SHOAL_CONFIG_INVALID', `${manifest}: ${reason}`);
}
