/**
 * `shoal console`: the console (infra/console) in this process, against any Kafka and registry: the embedded
 * ones, Apache Kafka, Confluent's registry. It is the same server `shoal dev` supervises, composed on the
 * service host, configured here from flags instead of the environment.
 */
import { parseArgs } from 'node:util';
import { buildConsole, CONSOLE_DEFAULT_PORT, configSpec, parseServiceList } from '@shoal/console';
import { ShoalError } from '@shoal/core';
import { LOG_LEVELS, ServiceHost } from '@shoal/service';
import { endpointOptions, endpointUsage, resolveEndpoints } from '../connection.js';
import { discoverServices } from '../dev/service-discovery.js';
import { createCliLogger } from '../logger.js';
import { integerOption, serveUntilSignal } from '../options.js';
import { schemaCatalogOption, schemasOption } from '../schema-catalog-option.js';

export const consoleUsage = `Usage: shoal console [options]

Serves the console (docs/console.md) on http://<host>:<port>: the live map of services and reactions with
drift, one flow's causation tree, consumer groups with lag, dead letters and parked events, projections. It
reads every topic from the beginning into memory (at most --max-events events) and asks the services' admin
routes. Ctrl-C stops it.

Options:
${endpointUsage}
  --port <n>                    HTTP port (default ${CONSOLE_DEFAULT_PORT})
  --host <address>              listen address (default 127.0.0.1)
  --service <name=url>          a service whose admin routes to ask; repeatable (default: the services of
                                services/ at http://127.0.0.1:<their default port>)
  --no-services                 ask no service: traffic, groups and drift against the catalog only
  --max-events <n>              events kept in memory, the oldest evicted first (default 200000)
  --schemas <dir>               the catalog drift is checked against (default: the repository's schemas/)
  --log-level <level>           trace, debug, info, warn, error, fatal (default info)
  -h, --help                    show this help

Exit status: 0 stopped by Ctrl-C or SIGTERM, 1 it could not start (a taken port), 2 a usage error.
`;

export async function runConsole(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...endpointOptions,
      port: { type: 'string' },
      host: { type: 'string' },
      service: { type: 'string', multiple: true },
      'no-services': { type: 'boolean' },
      'max-events': { type: 'string' },
      ...schemasOption,
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(consoleUsage);
    return 0;
  }
  if (values['no-services'] && values.service !== undefined) throw new ShoalError('SHOAL_CONFIG_INVALID', 'give --service or --no-services, not both');
  const endpoints = resolveEndpoints(values);
  const services = values['no-services'] ? '' : (values.service?.join(',') ?? discoverServices().map((service) => `${service.name}=http://127.0.0.1:${service.port}`).join(','));
  try {
    parseServiceList(services);
  } catch (error) {
    throw new ShoalError('SHOAL_CONFIG_INVALID', `--service: ${(error as Error).message}`);
  }
  const port = integerOption(values.port, '--port', { min: 0, max: 65535 }) ?? CONSOLE_DEFAULT_PORT;
  const maxEvents = integerOption(values['max-events'], '--max-events', { min: 1 });
  const logLevel = values['log-level'] ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) throw new ShoalError('SHOAL_CONFIG_INVALID', `--log-level expects one of ${LOG_LEVELS.join(', ')}, got '${logLevel}'`);
  const config = configSpec.load({
    KAFKA_BROKERS: endpoints.brokers.join(','),
    SCHEMA_REGISTRY_URL: endpoints.registry,
    PORT: String(port),
    HOST: values.host,
    LOG_LEVEL: logLevel,
    SHOAL_CONSOLE_SERVICES: services,
    SHOAL_CONSOLE_MAX_EVENTS: maxEvents === undefined ? undefined : String(maxEvents),
  });
  const logger = createCliLogger(logLevel);
  return serveUntilSignal('console', logger, async () => {
    const host = new ServiceHost({ config, logger, catalog: schemaCatalogOption(values), portSetting: '--port' });
    buildConsole(host);
    await host.start();
    logger.info(`console at ${host.url}`);
    return { close: () => host.stop() };
  });
}
