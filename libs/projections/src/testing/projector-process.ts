/**
 * A projector in a process of its own, for the crash tests: `node --import tsx projector-process.ts`, its
 * settings as JSON in the SHOAL_TEST_PROJECTOR environment variable. With `crashAt` the process kills itself
 * with SIGKILL inside the handler of the crashAt-th event it applies: in the middle of a transaction, the
 * worst moment for the read model. Prints `consuming` once started; SIGTERM stops it gracefully.
 */
import { Kafka, logLevel } from 'kafkajs';
import { EventCodec, RegistryClient, loadSchemaCatalog } from '@shoal/contract';
import { Projector } from '../projector.js';
import { orderProjection } from './order-projection.js';

export interface ProjectorProcessSettings {
  bootstrap: string;
  registryUrl: string;
  dataDir: string;
  crashAt?: number;
  recordsPerTransaction?: number;
}

const settings = JSON.parse(process.env.SHOAL_TEST_PROJECTOR ?? '{}') as ProjectorProcessSettings;
const crashAt = settings.crashAt;
const projection = orderProjection({
  onApply: (applied) => {
    if (applied === crashAt) process.kill(process.pid, 'SIGKILL');
  },
});
const projector = new Projector({
  projection,
  dataDir: settings.dataDir,
  kafka: new Kafka({ clientId: 'projector-process', brokers: [settings.bootstrap], logLevel: logLevel.NOTHING }),
  codec: new EventCodec({ registry: new RegistryClient({ url: settings.registryUrl }), catalog: loadSchemaCatalog() }),
  ...(settings.recordsPerTransaction === undefined ? {} : { recordsPerTransaction: settings.recordsPerTransaction }),
});
process.once('SIGTERM', () => {
  void projector.stop().then(() => process.exit(0));
});
await projector.start();
process.stdout.write('consuming\n');
