/**
 * At-least-once publishing + inbox = exactly-once effects, across two services' own databases:
 *
 *   service A  commits a backlog of events into its outbox; its relay runs in a child process that SIGKILLs
 *              itself the moment the broker acknowledges the first batch, before its position moves past the
 *              rows; restarted, it publishes that batch again (same event ids), then the rest
 *   service B  consumes every topic with the consumer runtime; its handler counts each event id it sees
 *
 * The broker holds more records than A committed (the duplicates are really there), and yet B's handler ran
 * exactly once per committed event and the inbox counted the rest as duplicates.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { eventually, recordsOnTopics, tempDir, uniqueName } from '@shoal/testing';
import { subscribe } from '@shoal/consumer';
import { createEvent, type CustomerNotified, type ShoalEvent } from '@shoal/contract';
import { startTestPlatform, type TestPlatform } from '@shoal/contract/testing';
import { outboxBacklog, SqliteServiceDatabase } from '@shoal/store-sqlite';

const REPOSITORY_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RELAY_PROCESS = join(REPOSITORY_ROOT, 'libs/outbox/src/testing/relay-process.ts');
const TOPIC = 'notifications.notification';

/** Runs the relay child process to its end: killed by itself (`--die-on-ack`) or stopped with a drain once `done()`. */
async function runRelay(platform: TestPlatform, database: string, args: string[], done?: () => boolean): Promise<NodeJS.Signals | null> {
  const child = spawn(process.execPath, ['--import', 'tsx', RELAY_PROCESS, '--database', database, '--brokers', platform.bootstrap, '--registry', platform.registryUrl, ...args], {
    cwd: REPOSITORY_ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('close', (_code, signal) => resolve(signal)));
  onTestFinished(async () => {
    child.kill('SIGKILL');
    await exited;
  });
  if (done !== undefined) {
    await eventually(done, { what: () => `the relay to publish everything; its stderr:\n${stderr}`, timeoutMs: 30_000 });
    child.kill('SIGTERM');
  }
  return exited;
}

function notification(n: number): ShoalEvent<'shoal.notifications.CustomerNotified'> {
  const data: CustomerNotified = {
    notificationId: `n-${n}`,
    customerId: `c-${n % 12}`,
    orderId: `o-${n}`,
    channel: 'EMAIL',
    template: 'shoal.orders.OrderConfirmed',
    message: `Order o-${n} is confirmed`,
    notifiedAt: 1_767_225_600_000 + n,
  };
  return createEvent('shoal.notifications.CustomerNotified', data, { source: '/shoal/notifications', subject: data.customerId });
}

describe('a relay killed between publish and mark, and a consumer with an inbox', () => {
  it('re-publishes the same event ids, and the consumer applies each committed event exactly once', async () => {
    const platform = await startTestPlatform();
    const dir = tempDir('relay-inbox');
    const COUNT = 1200;

    const producerPath = join(dir, 'notifications.db');
    const producer = new SqliteServiceDatabase({ path: producerPath, catalog: platform.catalog });
    const committed = Array.from({ length: COUNT }, (_, n) => notification(n));
    for (let start = 0; start < COUNT; start += 50) {
      await producer.transact((tx) => {
        for (const event of committed.slice(start, start + 50)) tx.emit(event);
      });
    }
    const unsent = () => outboxBacklog(producer.db).backlog;

    expect(await runRelay(platform, producerPath, ['--batch-size', '300', '--die-on-ack'])).toBe('SIGKILL');
    expect(unsent()).toBe(COUNT);
    await runRelay(platform, producerPath, ['--batch-size', '300'], () => unsent() === 0);
    producer.close();

    const published = await recordsOnTopics(platform.kafka(), TOPIC);
    expect(published).toBeGreaterThan(COUNT);

    const consumer = new SqliteServiceDatabase({ path: join(dir, 'order-view.db'), catalog: platform.catalog });
    onTestFinished(() => consumer.close());
    consumer.db.exec('CREATE TABLE effects (event_id TEXT PRIMARY KEY, applied INTEGER NOT NULL)');
    const apply = consumer.db.prepare('INSERT INTO effects (event_id, applied) VALUES (?, 1) ON CONFLICT (event_id) DO UPDATE SET applied = applied + 1');
    const subscription = subscribe({
      database: consumer,
      kafka: platform.kafka(),
      codec: platform.codec,
      group: uniqueName('inbox'),
      topics: [TOPIC],
      fromBeginning: true,
      handlers: {
        'shoal.notifications.CustomerNotified': (event) => {
          apply.run(event.id);
        },
      },
    });
    onTestFinished(() => subscription.stop());
    await subscription.start();
    await eventually(() => {
      const status = subscription.status();
      return status.handled + status.duplicates >= published;
    }, { what: () => `${published} records consumed: ${JSON.stringify(subscription.status())}`, timeoutMs: 30_000 });

    const effects = consumer.db.prepare('SELECT event_id AS id, applied FROM effects').all() as Array<{ id: string; applied: number }>;
    expect(effects.filter((row) => row.applied !== 1)).toEqual([]);
    expect(new Set(effects.map((row) => row.id))).toEqual(new Set(committed.map((event) => event.id)));
    const status = subscription.status();
    expect(status.handled).toBe(COUNT);
    expect(status.duplicates).toBe(published - COUNT);
    expect(status.deadLettered).toBe(0);
  });
});
