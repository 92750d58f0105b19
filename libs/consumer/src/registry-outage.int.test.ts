import { join } from 'node:path';
import { expect, it, onTestFinished } from 'vitest';
import { tempDir, uniqueName, connected, eventually } from '@shoal/testing';
import { EventCodec, registerCatalog, RegistryClient } from '@shoal/contract';
import { Publisher } from '@shoal/transport';
import { startTestPlatform } from '@shoal/contract/testing';
import { startTestRegistry } from '@shoal/schema-registry/testing';
import { openDatabase, orderPlaced } from './testing/consumer-testbed.js';
import { subscribe } from './subscription.js';

it('waits out a registry outage, however many retries it takes, and dead-letters and parks nothing', async () => {
  const platform = await startTestPlatform();
  // A registry of the test's own, on a data dir and port it can be restarted on.
  const registryDir = tempDir('registry');
  const registry = await startTestRegistry({ dataDir: registryDir });
  const writerRegistry = new RegistryClient({ url: registry.url });
  await registerCatalog(writerRegistry, platform.catalog);
  const publisher = await connected(new Publisher({ kafka: platform.kafka(), codec: new EventCodec({ registry: writerRegistry, catalog: platform.catalog }) }));
  const events = [orderPlaced('ord-o', 1), orderPlaced('ord-o', 2)];
  await publisher.publishBatch(events);
  await registry.close();

  const handled: string[] = [];
  const attempts = 2;
  const subscription = subscribe({
    database: openDatabase(platform, join(tempDir('consumer'), 'service.db')),
    kafka: platform.kafka(),
    // A cold codec: the first decode has to ask the registry for the writer schema.
    codec: new EventCodec({ registry: new RegistryClient({ url: registry.url, retries: 0 }), catalog: platform.catalog }),
    group: uniqueName('group'),
    topics: ['orders.order'],
    fromBeginning: true,
    retry: { attempts, initialMs: 5, maxMs: 20 },
    consumer: { maxWaitTimeInMs: 100 },
    handlers: { 'shoal.orders.OrderPlaced': (event) => void handled.push(event.id) },
  });
  onTestFinished(() => subscription.stop());
  await subscription.start();

  await eventually(() => expect(subscription.status().outageRetries).toBeGreaterThan(attempts * 3));
  expect(handled).toEqual([]);
  expect(subscription.status()).toMatchObject({ deadLettered: 0, parked: 0, parking: { deadLetters: 0, parked: 0 }, retries: 0, lastFailure: { code: 'SHOAL_REGISTRY_UNAVAILABLE', topic: 'orders.order' } });

  await startTestRegistry({ dataDir: registryDir, port: registry.port });
  await eventually(() => expect(handled).toEqual(events.map((event) => event.id)));
  expect(subscription.status()).toMatchObject({ handled: 2, deadLettered: 0, parked: 0, parking: { deadLetters: 0, parked: 0 }, retries: 0 });
});
