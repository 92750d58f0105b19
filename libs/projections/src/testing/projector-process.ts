/**
 * A projector in a process of its own, for the crash tests: `node --import tsx projector-process.ts`, its
 * settings as JSON in the SHOAL_TEST_PROJECTOR environment variable. With `crashAt` the process kills itself
 * with SIGKILL inside the handler of the crashAt-th event it applies: in the middle of a transaction, the
 * worst moment for the read model. With `databaseUrl` the models are in that PostgreSQL database (another
 * instance of the service), else files under `dataDir`. With `rebuild` it starts a rebuild once consuming
 * and prints `rebuilding` (the lock is held). Prints `consuming` once started; SIGTERM stops it gracefully.
 */
import { Kafka, logLevel } from 'kafkajs';
import { EventCodec, RegistryClient, loadSchemaCatalog } from '@shoal/contract';
import { PostgresServiceDatabase } from '@shoal/store-postgres';
import { Projector } from '../projector.js';
import { orderProjection } from './order-projection.js';

export interface ProjectorProcessSettings {
  bootstrap: string;
  registryUrl: string;
  dataDir: string;
  databaseUrl?: string;
  crashAt?: number;
  recordsPerTransaction?: number;
  rebuild?: boolean;
  /** The consumer's session timeout, ms: how long the group waits for a member that died (a shared group on PostgreSQL). */
  sessionTimeoutMs?: number;
}

const settings = JSON.parse(process.env.SHOAL_TEST_PROJECTOR ?? '{}') as ProjectorProcessSettings;
const crashAt = settings.crashAt;
const projection = orderProjection({
  onApply: (applied) => {
    if (applied === crashAt) process.kill(process.pid, 'SIGKILL');
  },
});
const catalog = loadSchemaCatalog();
const database = settings.databaseUrl === undefined ? undefined : await PostgresServiceDatabase.open({ url: settings.databaseUrl, catalog, service: 'test-service' });
const projector = new Projector({
  projection,
  dataDir: settings.dataDir,
  database,
  kafka: new Kafka({ clientId: 'projector-process', brokers: [settings.bootstrap], logLevel: logLevel.NOTHING }),
  codec: new EventCodec({ registry: new RegistryClient({ url: settings.registryUrl }), catalog }),
  ...(settings.recordsPerTransaction === undefined ? {} : { recordsPerTransaction: settings.recordsPerTransaction }),
  ...(settings.sessionTimeoutMs === undefined ? {} : { consumer: { maxWaitTimeInMs: 500, sessionTimeout: settings.sessionTimeoutMs, heartbeatInterval: 500 } }),
});
process.once('SIGTERM', () => {
  void projector
    .stop()
    .then(() => database?.close())
    .then(() => process.exit(0));
});
await projector.start();
process.stdout.write('consuming\n');
if (settings.rebuild === true) {
  await projector.rebuild();
  process.stdout.write('rebuilding\n');
}
