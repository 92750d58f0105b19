import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Logger } from 'pino';
import { brokerDefaults, startBroker, type RunningBroker } from '@shoal/broker';
import { ShoalError, isCompatibilityLevel } from '@shoal/core';
import { RegistryClient, registerCatalog, type SchemaCatalog } from '@shoal/events';
import { registryDefaults, startRegistry, type RunningRegistry } from '@shoal/schema-registry';
import { withAdmin } from '../connection.js';
import { schemaCatalogOption, schemasOption } from '../schema-catalog-option.js';
import { createCliLogger } from '../logger.js';
import { integerOption, serveUntilSignal } from '../options.js';

export const devUsage = `Usage: shoal dev [options]     (what 'npm start' runs)

Runs the platform on this machine in the foreground: the embedded Kafka-protocol broker and the schema
registry, registers every schema of schemas/, creates the topics of schemas/manifest.json, and prints one
"Shoal is ready" banner. Data lives under --data-dir and survives restarts. Ctrl-C stops everything.

Options:
  --data-dir <dir>        where the broker and the registry keep their data (default .shoal)
  --reset                 delete --data-dir first: a fresh platform
  --broker-port <n>       Kafka port (default ${brokerDefaults.port})
  --registry-port <n>     schema registry port (default ${registryDefaults.port})
  --schemas <dir>         the schemas folder (default: the repository's schemas/)
  --log-level <level>     trace, debug, info, warn, error (default info)
  -h, --help              show this help
`;

export async function runDev(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'data-dir': { type: 'string' },
      reset: { type: 'boolean' },
      'broker-port': { type: 'string' },
      'registry-port': { type: 'string' },
      ...schemasOption,
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(devUsage);
    return 0;
  }
  const brokerPort = integerOption(values['broker-port'], '--broker-port', { min: 0, max: 65535 }) ?? brokerDefaults.port;
  const registryPort = integerOption(values['registry-port'], '--registry-port', { min: 0, max: 65535 }) ?? registryDefaults.port;
  const dataDir = resolve(values['data-dir'] ?? '.shoal');
  // Read before anything starts: a broken schema is a one-line error, not a half-started platform.
  const catalog = schemaCatalogOption(values);
  if (values.reset) rmSync(dataDir, { recursive: true, force: true });
  const logger = createCliLogger(values['log-level'] ?? 'info');
  return serveUntilSignal('platform', logger, () => startPlatform({ dataDir, brokerPort, registryPort, catalog, logger }));
}

interface PlatformOptions {
  dataDir: string;
  brokerPort: number;
  registryPort: number;
  catalog: SchemaCatalog;
  logger: Logger;
}

/** Broker, registry, schemas, topics, banner; whatever started is stopped again if a later step fails. */
async function startPlatform({ dataDir, brokerPort, registryPort, catalog, logger }: PlatformOptions): Promise<{ close(): Promise<void> }> {
  let broker: RunningBroker | undefined;
  let registry: RunningRegistry | undefined;
  const close = async () => {
    await registry?.close();
    await broker?.close();
  };
  try {
    broker = await startBroker({ dataDir: join(dataDir, 'broker'), port: brokerPort, logger }).catch((error: unknown) => {
      throw renamePortFlag(error, '--port', '--broker-port');
    });
    const compatibility = isCompatibilityLevel(catalog.compatibility) ? catalog.compatibility : undefined;
    registry = await startRegistry({
      dataDir: join(dataDir, 'registry'),
      port: registryPort,
      ...(compatibility === undefined ? {} : { defaultCompatibility: compatibility }),
      logger,
    }).catch((error: unknown) => {
      throw renamePortFlag(error, '--port', '--registry-port');
    });
    const registered = await registerCatalog(new RegistryClient({ url: registry.url }), catalog);
    const topics = [...catalog.topics.values()];
    await withAdmin([broker.bootstrap], (admin) =>
      admin.createTopics({ topics: topics.map((t) => ({ topic: t.name, numPartitions: t.partitions })), waitForLeaders: true }),
    );
    process.stdout.write(banner(broker, registry, registered.length, topics.map((t) => t.name), dataDir));
    return { close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The servers name their own flag; under `shoal dev` the user sets another one. */
function renamePortFlag(error: unknown, from: string, to: string): unknown {
  if (error instanceof ShoalError && error.code === 'SHOAL_PORT_IN_USE') {
    return new ShoalError(error.code, error.message.replace(from, to), { cause: error });
  }
  return error;
}

function banner(broker: RunningBroker, registry: RunningRegistry, schemas: number, topics: string[], dataDir: string): string {
  // The client commands default to the standard ports; other ports have to be named.
  const flags = `${broker.port === brokerDefaults.port ? '' : ` --brokers ${broker.bootstrap}`}${registry.port === registryDefaults.port ? '' : ` --registry ${registry.url}`}`;
  const example = JSON.stringify({ orderId: 'o-1', customerId: 'c-1', shipmentId: 's-1', trackingNumber: 'TRACK-1', shippedAt: Date.UTC(2026, 0, 1) });
  return `
  Shoal is ready

  Kafka broker      ${broker.bootstrap}
  Schema registry   ${registry.url}
  Schemas           ${schemas} registered
  Topics            ${topics.join(', ')}
  Data              ${dataDir}  (shoal dev --reset starts afresh)

  Watch events:     npx shoal subscribe ${topics.join(' ')} --from-beginning${flags}
  Publish one:      npx shoal publish orders.order --type shoal.orders.OrderShipped --data '${example}'${flags}
  Ctrl-C stops everything.

`;
}
