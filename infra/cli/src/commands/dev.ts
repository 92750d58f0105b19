/**
 * `shoal dev` (what `npm start` runs): the whole platform on one machine, in the foreground.
 *
 * The broker and the schema registry run in this process (or are the user's own, given with `--brokers` and
 * `--registry`), set up as `shoal setup` does it (../dev/platform.ts); then every service of services/ runs
 * as its own child process under a supervisor (../dev/), as it would in production: its own heap, its own
 * crash, its own port. Which services exist is read from their package.json files
 * (../dev/service-discovery.ts), so a new service joins `npm start` by declaring itself, and each gets a
 * `--<name>-port` flag.
 *
 * Everything that can be refused is refused before anything starts: flags, the schemas, the services'
 * entry points, and every port (a taken port is one sentence naming the flag that moves it, not a service
 * crash-looping on EADDRINUSE). Stopping goes from the edge inwards: the services first (each drains its
 * outbox to the broker), then the registry, then the broker they were publishing to.
 *
 * By default every service runs once, on SQLite files under the data dir. `--postgres <url>` gives each
 * service a PostgreSQL database and role of its own on that server (../dev/service-databases.ts), created
 * before anything starts; `--replicas` then runs several instances of a service on its one database
 * (../dev/instances.ts names them and places their ports).
 */
import { existsSync, rmSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pino, { type Logger } from 'pino';
import { brokerDefaults } from '@shoal/broker';
import { ShoalError } from '@shoal/core';
import type { SchemaCatalog } from '@shoal/contract';
import { registryDefaults } from '@shoal/schema-registry';
import { resolveEndpoints } from '../connection.js';
import { LogPrinter } from '../dev/log-lines.js';
import { startPlatform, type Platform, type PlatformOptions } from '../dev/platform.js';
import { instanceName, instancePorts, replicaCounts } from '../dev/instances.js';
import { assertPortsFree, type PlannedPort } from '../dev/port-check.js';
import { readyBanner } from '../dev/ready-banner.js';
import { removeReadyFile, writeReadyFile, type ReadyFileContent } from '../dev/ready-file.js';
import { REPO_ROOT, discoverConsole, discoverServices, type DiscoveredService } from '../dev/service-discovery.js';
import { postgresUrlProblem, provisionServiceDatabases } from '../dev/service-databases.js';
import { ServiceSupervisor } from '../dev/service-supervisor.js';
import type { SupervisedServiceOptions } from '../dev/supervised-service.js';
import { redactedUrl } from '@shoal/store-postgres';
import { integerOption } from '../options.js';
import { schemaCatalogOption, schemasOption } from '../schema-catalog-option.js';

const HOST = '127.0.0.1';
const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
const devDefaults = {
  dataDir: '.shoal',
  readyTimeoutMs: 120_000,
  /** How long the services get to stop (drain their outboxes) before they are killed. */
  stopGraceMs: 20_000,
  logLevel: 'info',
};
/** Names a service cannot take: its `--<name>-port` flag would be one of the platform's. */
const RESERVED_NAMES = new Set(['broker', 'registry', 'shoal', 'console']);
/** The one variable that moves a service from SQLite to PostgreSQL: set per service, never passed through. */
const DATABASE_URL = 'DATABASE_URL';

/** The services' lines of the usage text; a broken package.json must not break `shoal --help`. */
function servicePortUsage(): string {
  try {
    return discoverServices()
      .map(
        (service) =>
          `  ${`--${service.name}-port <n>`.padEnd(28)}HTTP port of ${service.name} (default ${service.port}; one per instance: <n>,<n>,...)\n` +
          (service.sidecar === undefined ? '' : `  ${`--${service.name}-sidecar-port <n>`.padEnd(28)}port of ${service.name}'s sidecar (default ${service.sidecar.port})\n`),
      )
      .join('');
  } catch (error) {
    return `  --<service>-port <n>        (the services cannot be listed: ${(error as Error).message})\n`;
  }
}

/** The console's default port for the usage text; a broken package.json must not break `shoal --help`. */
function consolePortUsage(): string {
  try {
    return String(discoverConsole().port);
  } catch (error) {
    return `unknown: ${(error as Error).message}`;
  }
}

export const devUsage = `Usage: shoal dev [options]     (what 'npm start' runs)

Runs the whole platform on this machine in the foreground: the embedded Kafka-protocol broker and the
schema registry, the schemas of schemas/ registered and the topics of schemas/manifest.json created (as
'shoal setup' does), then every service of services/ as its own process, its logs prefixed with its name.
Once every service answers ready it prints one "Shoal is ready" banner with every URL. A service that exits
on its own is reported and restarted (after 1 s, doubling up to 30 s). Data lives under --data-dir and
survives restarts. Ctrl-C stops the services (each drains its outbox), then the registry and the broker.

Options:
  --data-dir <dir>            where everything keeps its data: <dir>/broker, <dir>/registry,
                              <dir>/<service> (default ${devDefaults.dataDir})
  --reset                     delete --data-dir first: a fresh platform
  --broker-port <n>           Kafka port (default ${brokerDefaults.port})
  --broker-metrics-port <n>   serve the embedded broker's GET /metrics (requests by API and client)
                              on this port (default: off)
  --registry-port <n>         schema registry port (default ${registryDefaults.port})
  --brokers <host:port,...>   use this Kafka instead of starting the embedded broker
  --registry <url>            use this schema registry instead of starting the embedded one
  --console-port <n>          the console's web page (default ${consolePortUsage()}; docs/console.md)
  --no-console                do not run the console
${servicePortUsage()}  --services <a,b,...>        run only these services
  --no-services               run only the broker and the registry
  --postgres <url>            run every service on PostgreSQL: a database and a role of its own for each,
                              created on this server if missing (the URL's role must be allowed to
                              create roles and databases); default: SQLite files under --data-dir
  --replicas <n>              run n instances of every service (needs --postgres); instance k listens on
  --replicas <svc>=<n>,...    the first one's port + 10000 x (k - 1), or on the ports --<svc>-port lists
  --ready-timeout <seconds>   how long the services may take to be ready (default ${devDefaults.readyTimeoutMs / 1000})
  --ready-file <path>         once ready, write the addresses and the services' pids there as JSON
  --schemas <dir>             the schemas folder (default: the repository's schemas/)
  --log-level <level>         ${LOG_LEVELS.join(', ')} (default ${devDefaults.logLevel}); the services' too
  -h, --help                  show this help

Each service gets this command's environment plus KAFKA_BROKERS, SCHEMA_REGISTRY_URL, SHOAL_DATA_DIR,
PORT, HOST and LOG_LEVEL, and DATABASE_URL with --postgres (never the shell's: it names one service's
database); its own settings pass through (SHIPPING_AUTO_DISPATCH_MS=2000 npm start).
Exit status: 0 stopped by Ctrl-C or SIGTERM, 1 something failed to start, 2 a usage error or a
--postgres server that cannot be used.
`;

/** One instance of a service as this run starts it. */
interface PlannedInstance {
  /** `orders` for the first, `orders#2` for the second (../dev/instances.ts). */
  name: string;
  port: number;
  url: string;
  /** A service in another language: where this instance's sidecar listens, and its name. */
  sidecar: { name: string; port: number; url: string } | undefined;
}

/** One service as this run starts it: one instance or several. */
interface PlannedService {
  service: DiscoveredService;
  instances: PlannedInstance[];
}

/** The `shoal` command, which runs a sidecar as `shoal sidecar --config <file>`. */
const SHOAL_BIN = join(REPO_ROOT, 'infra/cli/bin/shoal.js');

interface DevPlan {
  dataDir: string;
  broker: PlatformOptions['broker'];
  registry: PlatformOptions['registry'];
  catalog: SchemaCatalog;
  logLevel: string;
  readyTimeoutMs: number;
  readyFile: string | undefined;
  services: PlannedService[];
  /** `--postgres`: the server on which every service gets its database; undefined: SQLite. */
  postgres: string | undefined;
  /** The console's port, address and entry point; undefined with --no-console. */
  console: { port: number; url: string; main: string } | undefined;
}

export async function runDev(argv: string[]): Promise<number> {
  const discovered = discoverServices();
  const reserved = discovered.find((service) => RESERVED_NAMES.has(service.name));
  if (reserved !== undefined) throw new ShoalError('SHOAL_CONFIG_INVALID', `${reserved.dir}/package.json: '${reserved.name}' is a name of the platform's own; give the service another`);
  const { values } = parseArgs({
    args: argv,
    options: {
      'data-dir': { type: 'string' },
      reset: { type: 'boolean' },
      'broker-port': { type: 'string' },
      'broker-metrics-port': { type: 'string' },
      'registry-port': { type: 'string' },
      'console-port': { type: 'string' },
      'no-console': { type: 'boolean' },
      brokers: { type: 'string' },
      registry: { type: 'string' },
      services: { type: 'string' },
      'no-services': { type: 'boolean' },
      'ready-timeout': { type: 'string' },
      'ready-file': { type: 'string' },
      postgres: { type: 'string' },
      replicas: { type: 'string' },
      ...schemasOption,
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      ...Object.fromEntries(discovered.map((service) => [`${service.name}-port`, { type: 'string' as const }])),
      ...Object.fromEntries(discovered.filter((service) => service.sidecar !== undefined).map((service) => [`${service.name}-sidecar-port`, { type: 'string' as const }])),
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(devUsage);
    return 0;
  }
  const flags = values as Record<string, string | boolean | undefined>;
  const plan = planRun(flags, discovered);
  await assertPortsFree(
    [
      ...('port' in plan.broker ? [{ port: plan.broker.port, owner: 'broker', flag: '--broker-port' }] : []),
      ...('metricsPort' in plan.broker && plan.broker.metricsPort !== undefined && plan.broker.metricsPort !== 0
        ? [{ port: plan.broker.metricsPort, owner: 'broker metrics', flag: '--broker-metrics-port' }]
        : []),
      ...('port' in plan.registry ? [{ port: plan.registry.port, owner: 'registry', flag: '--registry-port' }] : []),
      ...plan.services.flatMap(({ service, instances }) => instances.map(({ name, port }): PlannedPort => ({ port, owner: name, flag: `--${service.name}-port` }))),
      ...plan.services.flatMap(({ service, instances }) =>
        instances.flatMap(({ name, sidecar }): PlannedPort[] => (sidecar === undefined ? [] : [{ port: sidecar.port, owner: `${name}'s sidecar`, flag: `--${service.name}-sidecar-port` }])),
      ),
      ...(plan.console === undefined ? [] : [{ port: plan.console.port, owner: 'console', flag: '--console-port' }]),
    ],
    HOST,
  );
  let databaseUrls = new Map<string, string>();
  if (plan.postgres !== undefined) {
    try {
      databaseUrls = await provisionServiceDatabases(
        plan.postgres,
        plan.services.map(({ service }) => service.name),
      );
    } catch (error) {
      // The server named on the command line cannot be used: one line naming the flag, as a bad flag is.
      process.stderr.write(`shoal dev: --postgres ${(error as Error).message}\n`);
      return 2;
    }
  }
  if (flags.reset === true) rmSync(plan.dataDir, { recursive: true, force: true });
  if (plan.readyFile !== undefined) removeReadyFile(plan.readyFile);

  const printer = new LogPrinter({
    names: ['shoal', 'broker', 'registry', ...plan.services.flatMap(({ instances }) => instances.flatMap(({ name, sidecar }) => (sidecar === undefined ? [name] : [name, sidecar.name]))), ...(plan.console === undefined ? [] : ['console'])],
  });
  const logger = pino(
    { level: plan.logLevel, base: undefined, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) } },
    printer.destination('shoal'),
  );
  return runPlatform(plan, databaseUrls, printer, logger);
}

/** Every flag checked, the services chosen, their ports and entry points checked; nothing started. */
function planRun(flags: Record<string, string | boolean | undefined>, discovered: readonly DiscoveredService[]): DevPlan {
  const text = (name: string) => (typeof flags[name] === 'string' ? flags[name] : undefined);
  const port = (name: string, min: number) => integerOption(text(name), `--${name}`, { min, max: 65535 });
  const logLevel = text('log-level') ?? devDefaults.logLevel;
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ShoalError('SHOAL_CONFIG_INVALID', `--log-level expects one of ${LOG_LEVELS.join(', ')}, got '${logLevel}'`);
  }
  const postgres = text('postgres');
  const postgresProblem = postgres === undefined ? undefined : postgresUrlProblem(postgres);
  if (postgresProblem !== undefined) throw new ShoalError('SHOAL_CONFIG_INVALID', `--postgres: ${postgresProblem}`);
  const chosen = chooseServices(text('services'), flags['no-services'] === true, discovered);
  const counts = replicaCounts(
    text('replicas'),
    chosen.map((service) => service.name),
    discovered.map((service) => service.name),
  );
  if (postgres === undefined && [...counts.values()].some((count) => count > 1)) {
    // On SQLite each instance would need the service's one file, shared across processes; that is not
    // what SQLite is for here (docs/operations.md#running-several-instances).
    throw new ShoalError('SHOAL_CONFIG_INVALID', '--replicas runs several instances of a service on one shared database: give --postgres <url> too');
  }
  // Every service's ports are checked, including the ones --services leaves out: a typo is never ignored.
  for (const service of discovered.filter((candidate) => !counts.has(candidate.name))) {
    for (const flag of [`${service.name}-port`, ...(service.sidecar === undefined ? [] : [`${service.name}-sidecar-port`])]) {
      if (text(flag)?.includes(',') === true) throw new ShoalError('SHOAL_CONFIG_INVALID', `--${flag} lists several ports, but this run does not start ${service.name}`);
      port(flag, 1);
    }
  }
  const services = chosen.map((service): PlannedService => {
    if (service.main !== undefined && !existsSync(service.main)) {
      throw new ShoalError('SHOAL_CONFIG_INVALID', `${service.name}'s entry point ${relative(REPO_ROOT, service.main)} does not exist (see ${relative(REPO_ROOT, service.dir)}/package.json); leave it out with --services`);
    }
    const count = counts.get(service.name) ?? 1;
    const ports = instancePorts(text(`${service.name}-port`), `--${service.name}-port`, service.port, count);
    const sidecarPorts = service.sidecar === undefined ? undefined : instancePorts(text(`${service.name}-sidecar-port`), `--${service.name}-sidecar-port`, service.sidecar.port, count);
    return {
      service,
      instances: ports.map((instancePort, index) => ({
        name: instanceName(service.name, index + 1),
        port: instancePort,
        url: `http://${HOST}:${instancePort}`,
        sidecar:
          sidecarPorts === undefined
            ? undefined
            : { name: instanceName(sidecarName(service), index + 1), port: sidecarPorts[index]!, url: `http://${HOST}:${sidecarPorts[index]!}` },
      })),
    };
  });
  const readyFile = text('ready-file');
  if (flags['no-console'] === true && text('console-port') !== undefined) throw new ShoalError('SHOAL_CONFIG_INVALID', 'give --console-port or --no-console, not both');
  const consoleProgram = discoverConsole();
  const consolePort = port('console-port', 1) ?? consoleProgram.port;
  return {
    dataDir: resolve(text('data-dir') ?? devDefaults.dataDir),
    ...serversOf(text, port),
    // Read before anything starts: a broken schema is a one-line error, not a half-started platform.
    catalog: schemaCatalogOption({ schemas: text('schemas') }),
    logLevel,
    readyTimeoutMs: (integerOption(text('ready-timeout'), '--ready-timeout', { min: 1, max: 86_400 }) ?? devDefaults.readyTimeoutMs / 1000) * 1000,
    readyFile: readyFile === undefined ? undefined : resolve(readyFile),
    services,
    postgres,
    console: flags['no-console'] === true ? undefined : { port: consolePort, url: `http://${HOST}:${consolePort}`, main: consoleProgram.main },
  };
}

/** The user's servers when `--brokers` / `--registry` name them; otherwise this process starts its own, on `--*-port`. */
function serversOf(text: (name: string) => string | undefined, port: (name: string, min: number) => number | undefined): Pick<DevPlan, 'broker' | 'registry'> {
  for (const [own, given] of [
    ['broker-port', 'brokers'],
    ['broker-metrics-port', 'brokers'],
    ['registry-port', 'registry'],
  ] as const) {
    if (text(own) !== undefined && text(given) !== undefined) throw new ShoalError('SHOAL_CONFIG_INVALID', `give --${own} or --${given}, not both`);
  }
  // Checked as every client command checks them, but never read from the environment: without the flags,
  // dev runs servers of its own whatever KAFKA_BROKERS and SCHEMA_REGISTRY_URL say.
  const given = resolveEndpoints({ brokers: text('brokers'), registry: text('registry') }, {});
  return {
    broker:
      text('brokers') === undefined
        ? { port: port('broker-port', 0) ?? brokerDefaults.port, ...(text('broker-metrics-port') === undefined ? {} : { metricsPort: port('broker-metrics-port', 0)! }) }
        : { external: given.brokers },
    registry: text('registry') === undefined ? { port: port('registry-port', 0) ?? registryDefaults.port } : { external: given.registry },
  };
}

/** `--services a,b` (each a known name), `--no-services`, or every discovered service. */
function chooseServices(list: string | undefined, none: boolean, discovered: readonly DiscoveredService[]): DiscoveredService[] {
  if (none && list !== undefined) throw new ShoalError('SHOAL_CONFIG_INVALID', 'give --services or --no-services, not both');
  if (none) return [];
  if (list === undefined) return [...discovered];
  const known = discovered.map((service) => service.name).join(', ');
  const names = list
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name.length > 0);
  if (names.length === 0) throw new ShoalError('SHOAL_CONFIG_INVALID', `--services names no service; the services are ${known}`);
  const unknown = names.filter((name) => !discovered.some((service) => service.name === name));
  if (unknown.length > 0) {
    throw new ShoalError('SHOAL_CONFIG_INVALID', `--services: unknown service${unknown.length > 1 ? 's' : ''} ${unknown.map((name) => `'${name}'`).join(', ')}; the services are ${known}`);
  }
  return discovered.filter((service) => names.includes(service.name));
}

/**
 * Starts everything, waits for a signal, stops everything. The first SIGINT or SIGTERM stops gracefully,
 * at any point (during a long wait for readiness too); a second one kills the services at once.
 */
async function runPlatform(plan: DevPlan, databaseUrls: ReadonlyMap<string, string>, printer: LogPrinter, logger: Logger): Promise<number> {
  const shutdown = new AbortController();
  let supervisor: ServiceSupervisor | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (!shutdown.signal.aborted) {
      logger.info(`${signal} received, stopping`);
      shutdown.abort(signal);
      return;
    }
    logger.warn(`${signal} received again: killing the services`);
    supervisor?.kill();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let platform: Platform | undefined;
  try {
    platform = await startPlatform({ dataDir: plan.dataDir, broker: plan.broker, registry: plan.registry, catalog: plan.catalog, logger });
    if (shutdown.signal.aborted) return 0;
    const running = platform;
    let ready = false;
    const refreshReadyFile = () => {
      if (ready && plan.readyFile !== undefined && supervisor !== undefined) writeReadyFile(plan.readyFile, readyFileContent(plan, running, supervisor));
    };
    const inherited = { ...process.env };
    delete inherited[DATABASE_URL];
    const common = {
      ...inherited,
      KAFKA_BROKERS: running.brokers.join(','),
      SCHEMA_REGISTRY_URL: running.registryUrl,
      SHOAL_DATA_DIR: plan.dataDir,
      HOST,
      LOG_LEVEL: plan.logLevel,
    };
    const supervised = { printer, logger, onReady: refreshReadyFile };
    const nodeProgram = (main: string) => [process.execPath, '--max-semi-space-size=64', '--import', 'tsx', main];
    // The console is supervised like a service (its own process, restarted when it dies), reading every topic
    // and asking the services this run starts (a service behind a sidecar answers its admin routes there).
    const consoleProcess: SupervisedServiceOptions[] =
      plan.console === undefined
        ? []
        : [
            {
              ...supervised,
              name: 'console',
              command: nodeProgram(plan.console.main),
              url: plan.console.url,
              cwd: REPO_ROOT,
              // Every instance, under its service's name: the console asks the next one when one does not answer.
              env: {
                ...common,
                PORT: String(plan.console.port),
                SHOAL_CONSOLE_SERVICES: plan.services.flatMap(({ service, instances }) => instances.map(({ url, sidecar }) => `${service.name}=${sidecar?.url ?? url}`)).join(','),
              },
            },
          ];
    supervisor = new ServiceSupervisor({
      logger,
      services: [
        ...plan.services.flatMap(({ service, instances }) => {
          const databaseUrl = databaseUrls.get(service.name);
          // What keeps the service's state (the service itself, or its sidecar) gets its database.
          const database = databaseUrl === undefined ? {} : { [DATABASE_URL]: databaseUrl };
          return instances.flatMap(({ name, port, url, sidecar }): SupervisedServiceOptions[] => {
            if (service.main !== undefined) {
              return [{ ...supervised, name, command: nodeProgram(service.main), url, cwd: REPO_ROOT, env: { ...common, ...database, PORT: String(port) } }];
            }
            // A service in another language: its own command in its folder, and its sidecar beside it.
            return [
              { ...supervised, name, command: service.command!, url, cwd: service.dir, env: { ...common, PORT: String(port), SHOAL_SIDECAR_URL: sidecar!.url } },
              {
                ...supervised,
                name: sidecar!.name,
                command: [process.execPath, SHOAL_BIN, 'sidecar', '--config', service.sidecar!.config],
                url: sidecar!.url,
                cwd: REPO_ROOT,
                env: { ...common, ...database, PORT: String(sidecar!.port), SHOAL_SIDECAR_APP: url },
              },
            ];
          });
        }),
        ...consoleProcess,
      ],
    });
    supervisor.start();
    if (!(await supervisor.whenReady(plan.readyTimeoutMs, shutdown.signal))) return 0;
    ready = true;
    refreshReadyFile();
    process.stdout.write(
      readyBanner({
        brokers: running.brokers.join(','),
        registryUrl: running.registryUrl,
        schemas: running.setup.schemas.length,
        topics: running.setup.topics.map((topic) => topic.name),
        dataDir: plan.dataDir,
        database: plan.postgres === undefined ? undefined : redactedUrl(plan.postgres),
        services: plan.services.flatMap(({ instances }) => instances.flatMap(({ name, url, sidecar }) => [{ name, url }, ...(sidecar === undefined ? [] : [{ name: sidecar.name, url: sidecar.url }])])),
        consoleUrl: plan.console?.url,
      }),
    );
    if (!shutdown.signal.aborted) await new Promise((resolve) => shutdown.signal.addEventListener('abort', resolve, { once: true }));
    return 0;
  } catch (error) {
    if (!(error instanceof ShoalError)) throw error;
    logger.error(error.message);
    if (supervisor !== undefined || platform !== undefined) logger.error('stopping everything');
    return 1;
  } finally {
    if (plan.readyFile !== undefined) removeReadyFile(plan.readyFile);
    await supervisor?.stop(devDefaults.stopGraceMs);
    await platform?.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** The name a service's sidecar goes by in the logs, the banner and the ready file. */
function sidecarName(service: DiscoveredService): string {
  return `${service.name}-sidecar`;
}

function readyFileContent(plan: DevPlan, platform: Platform, supervisor: ServiceSupervisor): ReadyFileContent {
  const consoleProcess = supervisor.services.find((child) => plan.console !== undefined && child.name === 'console');
  const running = new Map(supervisor.services.map((child) => [child.name, { url: child.url, pid: child.pid ?? 0 }]));
  // Each process's instances in order: `orders` -> [orders, orders#2], `loyalty-sidecar` -> [its sidecars].
  const instances = new Map<string, string[]>();
  for (const { service, instances: planned } of plan.services) {
    instances.set(service.name, planned.map(({ name }) => name));
    if (service.sidecar !== undefined) instances.set(sidecarName(service), planned.map(({ sidecar }) => sidecar!.name));
  }
  return {
    broker: platform.brokers.join(','),
    registry: platform.registryUrl,
    dataDir: plan.dataDir,
    ...(platform.brokerMetricsUrl === undefined ? {} : { brokerMetrics: platform.brokerMetricsUrl }),
    ...(plan.postgres === undefined ? {} : { postgres: redactedUrl(plan.postgres) }),
    ...(consoleProcess === undefined ? {} : { console: { url: consoleProcess.url, pid: consoleProcess.pid ?? 0 } }),
    services: Object.fromEntries([...instances].map(([name, names]) => [name, running.get(names[0]!)!])),
    instances: Object.fromEntries([...instances].map(([name, names]) => [name, names.map((instance) => ({ name: instance, ...running.get(instance)! }))])),
  };
}
