import pino, { type Logger } from 'pino';
import { ShoalError } from '@shoal/core';
import { buildRegistryApp } from './app.js';
import { COMPATIBILITY_LEVELS, type CompatibilityLevel } from './avro/index.js';
import { Registry } from './registry.js';
import { RegistryStore } from './registry-store.js';

export interface RegistryOptions {
  /** Where `registry.db` lives (created if missing). */
  dataDir: string;
  /** TCP port; 0 picks a free one. Default 8081, Confluent's. */
  port?: number;
  /** Interface to listen on. Default 127.0.0.1. */
  host?: string;
  /** Level of subjects without their own until PUT /config changes it. Default BACKWARD, like Confluent. */
  defaultCompatibility?: CompatibilityLevel;
  /** Used when no logger is given. Default 'info'. */
  logLevel?: string;
  logger?: Logger;
}

export interface RunningRegistry {
  /** `http://host:port`, ready for a client's `host` / `url` setting. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

export const registryDefaults = {
  port: 8081,
  host: '127.0.0.1',
  defaultCompatibility: 'BACKWARD',
  logLevel: 'info',
} satisfies Partial<RegistryOptions>;

/** The address clients should use: a wildcard listen address is reachable on loopback. */
function urlFor(host: string, port: number): string {
  const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}

/** Starts a Confluent-compatible schema registry on `dataDir`. */
export async function startRegistry(options: RegistryOptions): Promise<RunningRegistry> {
  const port = options.port ?? registryDefaults.port;
  const host = options.host ?? registryDefaults.host;
  const defaultCompatibility = options.defaultCompatibility ?? registryDefaults.defaultCompatibility;
  if (!COMPATIBILITY_LEVELS.includes(defaultCompatibility)) {
    throw new ShoalError('SHOAL_CONFIG_INVALID', `default compatibility must be one of ${COMPATIBILITY_LEVELS.join(', ')}, got '${defaultCompatibility}'`);
  }
  const logger = (options.logger ?? pino({ level: options.logLevel ?? registryDefaults.logLevel })).child({ module: 'schema-registry' });

  let store: RegistryStore;
  try {
    store = new RegistryStore(options.dataDir);
  } catch (error) {
    throw new ShoalError('SHOAL_REGISTRY_STORAGE', `cannot open the registry database in ${options.dataDir}: ${(error as Error).message}`, { cause: error });
  }
  const app = buildRegistryApp({ registry: new Registry({ store, defaultCompatibility }), logger });

  let boundPort: number;
  try {
    await app.listen({ port, host });
    const address = app.server.address();
    boundPort = typeof address === 'object' && address !== null ? address.port : port;
  } catch (error) {
    await app.close();
    store.close();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new ShoalError('SHOAL_PORT_IN_USE', `port ${port} on ${host} is already in use: stop what holds it or choose another with --port`, { cause: error });
    }
    throw error;
  }
  const url = urlFor(host, boundPort);
  logger.info({ host, port: boundPort, url, dataDir: options.dataDir, defaultCompatibility }, `Shoal schema registry listening on ${url}`);

  let closing: Promise<void> | undefined;
  return {
    url,
    host,
    port: boundPort,
    close() {
      closing ??= app.close().then(() => {
        store.close();
        logger.info('schema registry stopped');
      });
      return closing;
    },
  };
}
