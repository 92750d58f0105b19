import { spawnSync } from 'node:child_process';
import pg from 'pg';
import { postgresBinDir, postgresMissingReason, startPostgres } from '@shoal/postgres';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  DATABASE_VARIABLE,
  SETUP_SERVICE,
  commandOf,
  composeServiceProblems,
  dependencyCondition,
  environmentOf,
  loadComposeFile,
  namedVolumesOf,
  parseComposeFile,
  portsOf,
  type ComposeFile,
  type ComposeService,
  type ServiceSpec,
} from './compose-contract.js';

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const COMPOSE_PATH = join(REPO_ROOT, 'docker-compose.yml');
const compose = loadComposeFile(COMPOSE_PATH);
/** The loyalty service's sidecar (the micrologic itself is the compose service `loyalty`). */
const SIDECAR_SERVICE = 'loyalty-sidecar';

/** The environment contract of the six services (docs/operations.md), whether or not their code is here yet. */
const COMMON_VARIABLES = ['KAFKA_BROKERS', 'SCHEMA_REGISTRY_URL', 'SHOAL_DATA_DIR', 'PORT', 'HOST', 'LOG_LEVEL', 'DATABASE_URL'];
const CONTRACT: readonly ServiceSpec[] = [
  { service: 'orders', defaultPort: 3001, variables: COMMON_VARIABLES },
  { service: 'inventory', defaultPort: 3002, variables: COMMON_VARIABLES },
  { service: 'payments', defaultPort: 3003, variables: COMMON_VARIABLES },
  { service: 'shipping', defaultPort: 3004, variables: [...COMMON_VARIABLES, 'SHIPPING_AUTO_DISPATCH_MS'] },
  { service: 'notifications', defaultPort: 3005, variables: COMMON_VARIABLES },
  { service: 'order-view', defaultPort: 3006, variables: COMMON_VARIABLES },
];

/** Service packages present in the checkout: a folder of services/ with a src/main.ts. */
function serviceDirectories(): string[] {
  const root = join(REPO_ROOT, 'services');
  return readdirSync(root, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(root, entry.name, 'src/main.ts')))
    .map((entry) => entry.name)
    .sort();
}

function service(name: string): ComposeService {
  const found = compose.services[name];
  if (found === undefined) throw new Error(`docker-compose.yml has no service '${name}'`);
  return found;
}

/** `docker-compose -f docker-compose.yml <args>`, with the file's `${VAR:-default}`s left at their defaults. */
function dockerCompose(args: readonly string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [, variable] of readFileSync(COMPOSE_PATH, 'utf8').matchAll(/\$\{(\w+)/g)) delete env[variable!];
  const result = spawnSync('docker-compose', ['-f', COMPOSE_PATH, ...args], { cwd: REPO_ROOT, env, encoding: 'utf8', timeout: 60_000 });
  if ((result.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    throw new Error("docker-compose is not installed: .ci/run installs it (Debian's docker-compose package); locally run apt-get install docker-compose");
  }
  if (result.error) throw result.error;
  return result;
}

describe('docker-compose.yml, as Compose reads it', () => {
  it('is a valid compose file (docker-compose config -q)', () => {
    const result = dockerCompose(['config', '-q']);
    expect(result.status, result.stderr).toBe(0);
  });

  it('resolves to the services, commands and environments this test checks', () => {
    const result = dockerCompose(['config']);
    expect(result.status, result.stderr).toBe(0);
    // Compose's own resolution (anchors, merge keys, interpolation with the defaults) against ours.
    const resolved = parse(result.stdout) as ComposeFile;
    expect(Object.keys(resolved.services).sort()).toEqual(Object.keys(compose.services).sort());
    for (const [name, resolvedService] of Object.entries(resolved.services)) {
      expect(commandOf(resolvedService), name).toEqual(commandOf(service(name)));
      expect(Object.fromEntries(environmentOf(resolvedService)), name).toEqual(
        Object.fromEntries([...environmentOf(service(name))].map(([variable, value]) => [variable, value?.replace(/^\$\{\w+:-(.*)\}$/, '$1') ?? null])),
      );
      expect(resolvedService.image, name).toBe(service(name).image);
    }
  });
});

describe('docker-compose.yml keeps every service contract', () => {
  it.each(CONTRACT.map((spec) => [spec.service, spec] as const))('%s: as the environment contract describes it', (_name, spec) => {
    expect(composeServiceProblems(spec, compose)).toEqual([]);
  });

  const present = serviceDirectories();
  for (const name of present) {
    it(`services/${name}: the compose service matches its configSpec (variables, default port, command)`, async () => {
      const module = (await import(pathToFileURL(join(REPO_ROOT, 'services', name, 'src/config.ts')).href)) as { configSpec?: ServiceSpec };
      expect(module.configSpec, `services/${name}/src/config.ts exports configSpec`).toBeDefined();
      expect(module.configSpec!.service).toBe(name);
      expect(composeServiceProblems(module.configSpec!, compose)).toEqual([]);
    });
  }
  if (present.length === 0) it.skip('no service package (services/<name>/src/main.ts) is here yet to check against its configSpec', () => undefined);

  it('runs every Shoal container from one image built from ./Dockerfile, each with a volume of its own', () => {
    const shoalServices = [SETUP_SERVICE, SIDECAR_SERVICE, ...CONTRACT.map((spec) => spec.service)];
    const images = new Set(shoalServices.map((name) => service(name).image));
    expect(images.size).toBe(1);
    expect([...images][0]).toMatch(/^[a-z0-9./-]+:[\w.-]+$/);
    for (const name of shoalServices) expect(service(name).build, name).toBe('.');
    expect(existsSync(join(REPO_ROOT, 'Dockerfile'))).toBe(true);

    const dataVolumes = [...CONTRACT.map((spec) => spec.service), SIDECAR_SERVICE].map((name) => [...namedVolumesOf(service(name)).keys()]).flat();
    expect(new Set(dataVolumes).size).toBe(CONTRACT.length + 1);
  });

  it('copies into the runtime image every file a container runs', () => {
    const dockerfile = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
    const runtimeStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    const copied = [...runtimeStage.matchAll(/^COPY --from=build (.+) \.\/\S*$/gm)].flatMap((match) => match[1]!.split(/\s+/)).map((path) => path.replace(/^\/app\//, ''));
    const scripts = Object.values(compose.services)
      .filter((s) => s.build === '.')
      .map((s) => commandOf(s).find((word) => /\.(ts|js)$/.test(word)));
    expect(scripts).not.toContain(undefined);
    for (const script of scripts) expect(copied, script).toContain(script!.split('/')[0]);
    expect(existsSync(join(REPO_ROOT, commandOf(service(SETUP_SERVICE)).find((word) => word.endsWith('.js'))!))).toBe(true);
  });
});

describe('docker-compose.yml runs the loyalty service and its sidecar', () => {
  const loyalty = service('loyalty');
  const sidecar = service(SIDECAR_SERVICE);
  const loyaltyDir = join(REPO_ROOT, 'services/loyalty');
  const descriptor = JSON.parse(readFileSync(join(loyaltyDir, 'shoal.json'), 'utf8')) as { port: number; command: string[]; sidecar: string };
  const sidecarFile = parse(readFileSync(join(loyaltyDir, descriptor.sidecar), 'utf8')) as { port: number; app: string; service: string };

  it("builds the micrologic's own image from services/loyalty/Dockerfile, which holds and runs what shoal dev runs", () => {
    expect(loyalty.build).toBe('services/loyalty');
    expect(loyalty.image).toMatch(/^[a-z0-9./-]+:[\w.-]+$/);
    expect(loyalty.image).not.toBe(service('orders').image);
    const dockerfile = readFileSync(join(loyaltyDir, 'Dockerfile'), 'utf8');
    const command = commandOf(loyalty).length > 0 ? commandOf(loyalty) : (JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile)![1]!) as string[]);
    expect(command).toEqual(descriptor.command);
    const copied = [...dockerfile.matchAll(/^COPY (.+) \.\/$/gm)].flatMap((match) => match[1]!.split(/\s+/));
    for (const file of command.filter((word) => /\.py$/.test(word))) {
      expect(copied, file).toContain(file);
      expect(existsSync(join(loyaltyDir, file)), file).toBe(true);
    }
    // The build context lets in what the image copies.
    const ignored = readFileSync(join(loyaltyDir, '.dockerignore'), 'utf8');
    for (const file of copied) expect(ignored, file).toContain(`!${file}`);
    expect(/^USER (?!root)\w+$/m.test(dockerfile), 'runs as an unprivileged user').toBe(true);
  });

  it('sets every variable the micrologic reads, listens beyond loopback, and finds its sidecar on the shared loopback', () => {
    const read = [...readFileSync(join(loyaltyDir, 'loyalty.py'), 'utf8').matchAll(/setting\('(\w+)'/g)].map((match) => match[1]!);
    expect(read).toEqual(expect.arrayContaining(['PORT', 'HOST', 'SHOAL_SIDECAR_URL']));
    const environment = environmentOf(loyalty);
    for (const variable of read) expect(environment.get(variable), variable).toBeTruthy();
    expect(environment.get('PORT')).toBe(String(descriptor.port));
    expect(environment.get('HOST')).toBe('0.0.0.0');
    expect(environment.get('SHOAL_SIDECAR_URL')).toBe(`http://127.0.0.1:${environmentOf(sidecar).get('PORT')}`);
    expect(loyalty.restart).toBe('unless-stopped');
    expect(JSON.stringify(loyalty.healthcheck?.test)).toContain(`127.0.0.1:${descriptor.port}/health`);
  });

  it("runs the sidecar from the Shoal image in loyalty's network namespace, on sidecar.yaml, with its own volume", () => {
    expect(sidecar.network_mode).toBe('service:loyalty');
    expect(commandOf(sidecar)).toEqual(['node', 'infra/cli/bin/shoal.js', 'sidecar', '--config', `services/loyalty/${descriptor.sidecar}`]);
    expect(sidecarFile.service).toBe('loyalty');
    // In the shared namespace the file's app, on 127.0.0.1, is the micrologic's port.
    expect(new URL(sidecarFile.app)).toMatchObject({ hostname: '127.0.0.1', port: String(descriptor.port) });
    const environment = environmentOf(sidecar);
    // On SQLite still (no DATABASE_URL): the sidecar's subscriptions do not run on PostgreSQL yet.
    for (const variable of COMMON_VARIABLES.filter((name) => name !== DATABASE_VARIABLE)) expect(environment.get(variable), variable).toBeTruthy();
    expect(environment.get('PORT')).toBe(String(sidecarFile.port));
    expect(environment.get('HOST')).toBe('0.0.0.0');
    expect(JSON.stringify(sidecar.healthcheck?.test)).toContain('/health/ready');
    expect(dependencyCondition(sidecar, SETUP_SERVICE)).toBe('service_completed_successfully');
    expect(dependencyCondition(sidecar, 'loyalty')).toBeDefined();
    // Compose refuses ports on a container in another's namespace: the owner publishes both, on loopback.
    expect(sidecar.ports).toBeUndefined();
    const published = portsOf(loyalty);
    for (const port of [descriptor.port, sidecarFile.port]) expect(published).toContainEqual({ hostIp: '127.0.0.1', published: port, target: port });
    const volumes = namedVolumesOf(sidecar);
    expect([...volumes.values()]).toEqual([environment.get('SHOAL_DATA_DIR')]);
    expect([...volumes.keys()][0]! in (compose.volumes ?? {})).toBe(true);
  });
});

describe('docker-compose.yml platform services', () => {
  const kafka = service('kafka');
  const registry = service('schema-registry');
  const setup = service(SETUP_SERVICE);

  it('runs Apache Kafka in KRaft mode, reachable from containers and from the host', () => {
    expect(kafka.image).toMatch(/^apache\/kafka:\d+\.\d+\.\d+$/);
    const environment = environmentOf(kafka);
    expect(environment.get('KAFKA_PROCESS_ROLES')).toBe('broker,controller');
    const advertised = environment.get('KAFKA_ADVERTISED_LISTENERS')?.split(',').map((listener) => listener.replace(/^\w+:\/\//, '')) ?? [];
    // What the services are told to bootstrap from, and what the host reaches through the published port.
    for (const spec of CONTRACT) {
      for (const broker of environmentOf(service(spec.service)).get('KAFKA_BROKERS')!.split(',')) expect(advertised).toContain(broker);
    }
    const hostPorts = portsOf(kafka).map((port) => `${port.hostIp}:${port.published}`);
    expect(advertised.filter((address) => address.startsWith('127.0.0.1:'))).toEqual(hostPorts);
    expect(kafka.healthcheck?.test).toBeDefined();
    expect([...namedVolumesOf(kafka).values()]).toContain(environment.get('KAFKA_LOG_DIRS'));
  });

  it("runs Confluent's schema registry on Kafka's internal listener, with a healthcheck", () => {
    expect(registry.image).toMatch(/^confluentinc\/cp-schema-registry:\d+\.\d+\.\d+$/);
    const environment = environmentOf(registry);
    expect(environment.get('SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS')).toBe(`PLAINTEXT://${environmentOf(setup).get('KAFKA_BROKERS')}`);
    expect(dependencyCondition(registry, 'kafka')).toBe('service_healthy');
    expect(portsOf(registry)).toEqual([{ hostIp: '127.0.0.1', published: 8081, target: 8081 }]);
    expect(String(registry.healthcheck?.test)).toContain('8081');
  });

  it('sets the platform up once, after Kafka and the registry are healthy, with the endpoints the services use', () => {
    expect(commandOf(setup).slice(-2)).toEqual(['infra/cli/bin/shoal.js', 'setup']);
    expect(dependencyCondition(setup, 'kafka')).toBe('service_healthy');
    expect(dependencyCondition(setup, 'schema-registry')).toBe('service_healthy');
    expect(setup.restart).toBe('no');
    const environment = environmentOf(setup);
    for (const spec of CONTRACT) {
      const serviceEnvironment = environmentOf(service(spec.service));
      expect(serviceEnvironment.get('KAFKA_BROKERS'), spec.service).toBe(environment.get('KAFKA_BROKERS'));
      expect(serviceEnvironment.get('SCHEMA_REGISTRY_URL'), spec.service).toBe(environment.get('SCHEMA_REGISTRY_URL'));
    }
  });

  it('declares every named volume it mounts', () => {
    const mounted = Object.values(compose.services).flatMap((s) => [...namedVolumesOf(s).keys()]);
    expect(mounted.length).toBeGreaterThan(CONTRACT.length);
    expect(mounted.filter((volume) => !(volume in (compose.volumes ?? {})))).toEqual([]);
  });
});

describe('docker-compose.yml on PostgreSQL, with a second instance of every service', () => {
  const postgres = service('postgres');
  const INIT_DIR = '/docker-entrypoint-initdb.d/';
  const initScript = [...(postgres.volumes ?? [])].map(String).find((volume) => volume.split(':')[1]?.startsWith(INIT_DIR));
  /** role -> password, as the postgres service's SHOAL_SERVICE_DATABASES lists them for the init script. */
  const roles = new Map(
    (environmentOf(postgres).get('SHOAL_SERVICE_DATABASES') ?? '')
      .split(/\s+/)
      .filter((entry) => entry.length > 0)
      .map((entry) => [entry.slice(0, entry.indexOf(':')), entry.slice(entry.indexOf(':') + 1)] as const),
  );

  it('runs the official PostgreSQL image with a healthcheck, a named volume for its data and the init script', () => {
    expect(postgres.image).toMatch(/^postgres:\d+(\.\d+)?$/);
    expect(String(postgres.healthcheck?.test)).toContain('pg_isready');
    expect(namedVolumesOf(postgres).get('postgres-data')).toBe('/var/lib/postgresql/data');
    expect(initScript, 'a script mounted in /docker-entrypoint-initdb.d').toBeDefined();
    expect(existsSync(join(REPO_ROOT, initScript!.split(':')[0]!))).toBe(true);
    expect(portsOf(postgres).every((port) => port.hostIp === '127.0.0.1')).toBe(true);
  });

  it('gives every service a role and a database of its own, which the init script creates with the password its URL has', () => {
    const urls = CONTRACT.map((spec) => new URL(environmentOf(service(spec.service)).get(DATABASE_VARIABLE)!));
    expect(new Set(urls.map((url) => url.username)).size).toBe(CONTRACT.length);
    for (const url of urls) {
      expect(url.hostname).toBe('postgres');
      expect(roles.get(url.username), `password of ${url.username}`).toBe(url.password);
    }
    expect([...roles.keys()].sort()).toEqual(urls.map((url) => url.username).sort());
  });

  it.each(CONTRACT.map((spec) => [spec.service] as const))('%s: a second instance, the same service on the same database, published on no host port', (name) => {
    const first = service(name);
    const replica = service(`${name}-replica`);
    expect(commandOf(replica)).toEqual(commandOf(first));
    expect(Object.fromEntries(environmentOf(replica))).toEqual(Object.fromEntries(environmentOf(first)));
    expect(replica.healthcheck).toEqual(first.healthcheck);
    expect(replica.depends_on).toEqual(first.depends_on);
    expect(replica.restart).toBe(first.restart);
    expect(replica.ports ?? []).toEqual([]);
    expect((replica.deploy as { replicas?: number } | undefined)?.replicas).toBeGreaterThanOrEqual(1);
  });

  it.skipIf(postgresMissingReason() !== undefined)('creates, with its init script on a real PostgreSQL, the databases the URLs open, each closed to the other roles', async () => {
    const server = await startPostgres();
    try {
      const psqlDir = postgresBinDir()!;
      const run = spawnSync('sh', [join(REPO_ROOT, initScript!.split(':')[0]!)], {
        env: { PATH: `${psqlDir}:${process.env.PATH}`, PGHOST: server.host, PGPORT: String(server.port), POSTGRES_USER: 'postgres', SHOAL_SERVICE_DATABASES: environmentOf(postgres).get('SHOAL_SERVICE_DATABASES')! },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(run.status, run.stderr).toBe(0);
      const connect = async (url: URL) => {
        const local = new URL(url);
        local.hostname = server.host;
        local.port = String(server.port);
        const client = new pg.Client({ connectionString: local.toString() });
        await client.connect();
        try {
          return (await client.query<{ who: string; db: string }>('SELECT current_user AS who, current_database() AS db')).rows[0];
        } finally {
          await client.end();
        }
      };
      const urls = CONTRACT.map((spec) => new URL(environmentOf(service(spec.service)).get(DATABASE_VARIABLE)!));
      for (const url of urls) expect(await connect(url)).toEqual({ who: url.username, db: url.pathname.slice(1) });
      const intruder = new URL(urls[0]!);
      intruder.pathname = urls[1]!.pathname;
      await expect(connect(intruder)).rejects.toThrow(/permission denied for database/);
    } finally {
      await server.stop();
    }
  }, 120_000);
});

describe('composeServiceProblems', () => {
  const spec: ServiceSpec = { service: 'stock', defaultPort: 3999, variables: ['KAFKA_BROKERS', 'SCHEMA_REGISTRY_URL', 'SHOAL_DATA_DIR', 'PORT', 'STOCK_LIMIT'] };
  const file = (overrides: Partial<ComposeService> = {}, volumes: Record<string, unknown> = { 'stock-data': null }): ComposeFile =>
    parseComposeFile(
      JSON.stringify({
        services: {
          kafka: { image: 'apache/kafka:3.9.1' },
          registry: { image: 'confluentinc/cp-schema-registry:8.0.0' },
          setup: { image: 'shoal:local' },
          stock: {
            image: 'shoal:local',
            command: ['node', '--import', 'tsx', 'services/stock/src/main.ts'],
            environment: { KAFKA_BROKERS: 'kafka:19092', SCHEMA_REGISTRY_URL: 'http://registry:8081', SHOAL_DATA_DIR: '/data', PORT: 3999, STOCK_LIMIT: '5' },
            ports: ['127.0.0.1:3999:3999'],
            volumes: ['stock-data:/data'],
            depends_on: { setup: { condition: 'service_completed_successfully' } },
            healthcheck: { test: ['CMD', 'node', '-e', "fetch('http://127.0.0.1:3999/health/ready')"] },
            restart: 'unless-stopped',
            ...overrides,
          },
        },
        volumes,
      }),
    );

  it('finds nothing wrong with a service that keeps its contract, in either syntax', () => {
    expect(composeServiceProblems(spec, file())).toEqual([]);
    const longSyntax = file({
      command: 'node --import tsx services/stock/src/main.ts',
      environment: ['KAFKA_BROKERS=kafka:19092', 'SCHEMA_REGISTRY_URL=http://registry:8081', 'SHOAL_DATA_DIR=/data', 'PORT=3999', 'STOCK_LIMIT=5'],
      ports: [{ target: 3999, published: 3999, host_ip: '127.0.0.1' }],
      volumes: [{ type: 'volume', source: 'stock-data', target: '/data' }],
    });
    expect(composeServiceProblems(spec, longSyntax)).toEqual([]);
  });

  it('names a variable of the spec that the environment does not set, or leaves to the shell', () => {
    expect(composeServiceProblems(spec, file({ environment: { KAFKA_BROKERS: 'kafka:19092', SCHEMA_REGISTRY_URL: 'http://registry:8081', SHOAL_DATA_DIR: '/data', PORT: '3999' } }))).toEqual([
      'stock: environment does not set STOCK_LIMIT',
    ]);
    expect(composeServiceProblems(spec, file({ environment: ['KAFKA_BROKERS=kafka:19092', 'SCHEMA_REGISTRY_URL=http://registry:8081', 'SHOAL_DATA_DIR=/data', 'PORT=3999', 'STOCK_LIMIT'] }))).toEqual([
      'stock: environment does not set STOCK_LIMIT',
    ]);
  });

  it('names a missing service, a wrong command, port, healthcheck, dependency, restart policy or volume', () => {
    expect(composeServiceProblems({ ...spec, service: 'ledger' }, file())).toEqual(["docker-compose.yml has no service 'ledger'"]);
    expect(composeServiceProblems(spec, file({ command: ['node', 'services/stock/src/main.ts'] }))[0]).toContain('stock: command should be node --import tsx services/stock/src/main.ts');
    expect(composeServiceProblems(spec, file({ ports: ['3999:3999'] }))).toEqual(['stock: port 3999 is published on every interface, not 127.0.0.1']);
    expect(composeServiceProblems(spec, file({ ports: ['127.0.0.1:4000:3999'] }))[0]).toContain('stock: does not publish port 3999 as 3999');
    expect(composeServiceProblems({ ...spec, defaultPort: 4000 }, file())).toContain("stock: PORT is 3999, the service's default port is 4000");
    expect(composeServiceProblems(spec, file({ healthcheck: { test: ['CMD', 'true'] } }))).toEqual(['stock: no healthcheck on /health/ready']);
    expect(composeServiceProblems(spec, file({ depends_on: ['setup'] }))).toEqual(["stock: does not depend on 'setup' with condition service_completed_successfully"]);
    expect(composeServiceProblems(spec, file({ restart: 'no' }))).toEqual(['stock: restart is no; a crashed service should come back']);
    expect(composeServiceProblems(spec, file({ volumes: ['./data:/data'] }))).toEqual(['stock: no named volume mounted at SHOAL_DATA_DIR (/data)']);
    expect(composeServiceProblems(spec, file({}, {}))).toEqual(["stock: volume 'stock-data' is not declared under the top-level volumes"]);
  });

  it('names a DATABASE_URL that is not the service’s own database on a healthy compose service', () => {
    const withDatabase: ServiceSpec = { ...spec, variables: [...spec.variables, DATABASE_VARIABLE] };
    const environment = { KAFKA_BROKERS: 'kafka:19092', SCHEMA_REGISTRY_URL: 'http://registry:8081', SHOAL_DATA_DIR: '/data', PORT: '3999', STOCK_LIMIT: '5' };
    const dependsOn = { setup: { condition: 'service_completed_successfully' }, registry: { condition: 'service_healthy' } };
    const on = (url: string, depends: Record<string, { condition: string }> = dependsOn) => composeServiceProblems(withDatabase, file({ environment: { ...environment, DATABASE_URL: url }, depends_on: depends }));
    expect(on('postgres://stock:pw@registry:5432/stock')).toEqual([]);
    expect(composeServiceProblems(withDatabase, file({ environment }))).toEqual(['stock: environment does not set DATABASE_URL']);
    expect(on('mysql://stock:pw@registry/stock')).toEqual(['stock: DATABASE_URL mysql://stock:pw@registry/stock is not a postgres:// URL']);
    expect(on('postgres://stock:pw@db:5432/stock')).toEqual(["stock: DATABASE_URL names host 'db', which is not a compose service"]);
    expect(on('postgres://stock:pw@registry:5432/stock', { setup: { condition: 'service_completed_successfully' } })).toEqual(["stock: does not depend on 'registry' with condition service_healthy"]);
    expect(on('postgres://orders:pw@registry:5432/orders')).toEqual(["stock: DATABASE_URL should be role stock on database stock, is role 'orders' on 'orders'"]);
  });

  it('names endpoints that are not compose services', () => {
    const environment = { KAFKA_BROKERS: '127.0.0.1:9092', SCHEMA_REGISTRY_URL: 'http://localhost:8081', SHOAL_DATA_DIR: '/data', PORT: '3999', STOCK_LIMIT: '5' };
    expect(composeServiceProblems(spec, file({ environment }))).toEqual([
      "stock: KAFKA_BROKERS names '127.0.0.1', which is not a compose service",
      'stock: SCHEMA_REGISTRY_URL http://localhost:8081 does not name a compose service',
    ]);
  });

  it('resolves merge keys as Compose does', () => {
    const merged = parseComposeFile(`
x-base: &base
  restart: unless-stopped
  environment: &env
    A: "1"
services:
  one:
    <<: *base
    environment:
      <<: *env
      B: "2"
`);
    expect(merged.services.one?.restart).toBe('unless-stopped');
    expect(Object.fromEntries(environmentOf(merged.services.one!))).toEqual({ A: '1', B: '2' });
  });
});
