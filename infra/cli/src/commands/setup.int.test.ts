import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { kafkaFor, startTestBroker } from '@shoal/broker/testing';
import { isShoalError } from '@shoal/core';
import { RegistryClient, loadSchemaCatalog } from '@shoal/contract';
import { startTestRegistry } from '@shoal/schema-registry/testing';
import { connected, eventually, freePort, recordingLogger } from '@shoal/testing';
import { setupPlatform } from './setup.js';

const bin = join(dirname(fileURLToPath(import.meta.url)), '../../bin/shoal.js');
const catalog = loadSchemaCatalog();

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `shoal <args>` as a child process; asynchronous, because the broker and registry run in this worker. */
function shoal(args: readonly string[]): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.KAFKA_BROKERS;
  delete env.SCHEMA_REGISTRY_URL;
  const child = spawn(process.execPath, [bin, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

async function platform() {
  const [broker, registry] = await Promise.all([startTestBroker(), startTestRegistry()]);
  return { bootstrap: broker.bootstrap, registryUrl: registry.url };
}

async function topicPartitions(bootstrap: string): Promise<Map<string, number>> {
  const admin = await connected(kafkaFor(bootstrap).admin());
  const metadata = await admin.fetchTopicMetadata({ topics: await admin.listTopics() });
  return new Map(metadata.topics.map((topic) => [topic.name, topic.partitions.length]));
}

describe('setupPlatform', () => {
  it('registers every schema and creates every manifest topic, and a second run changes nothing', async () => {
    const { bootstrap, registryUrl } = await platform();
    const first = await setupPlatform({ brokers: [bootstrap], registryUrl, catalog });

    const partitions = await topicPartitions(bootstrap);
    for (const topic of catalog.topics.values()) expect(partitions.get(topic.name), topic.name).toBe(topic.partitions);
    expect(first.topics.every((topic) => topic.created)).toBe(true);

    const registry = new RegistryClient({ url: registryUrl });
    const subjects = await registry.subjects();
    for (const file of catalog.registrationOrder()) expect(subjects).toContain(file.subject);
    expect(first.schemas.map((schema) => schema.name)).toEqual(catalog.registrationOrder().map((file) => file.name));

    const second = await setupPlatform({ brokers: [bootstrap], registryUrl, catalog });
    expect(second.schemas).toEqual(first.schemas);
    expect(second.topics.map((topic) => [topic.name, topic.partitions, topic.created])).toEqual(first.topics.map((topic) => [topic.name, topic.partitions, false]));
    expect(await registry.subjects()).toEqual(subjects);
  });

  it('leaves an existing topic with another partition count as it is and reports it', async () => {
    const { bootstrap, registryUrl } = await platform();
    const [manifestTopic] = catalog.topics.values();
    const admin = await connected(kafkaFor(bootstrap).admin());
    await admin.createTopics({ topics: [{ topic: manifestTopic!.name, numPartitions: 1 }], waitForLeaders: true });
    const logger = recordingLogger();

    const result = await setupPlatform({ brokers: [bootstrap], registryUrl, catalog, logger });

    expect(result.topics.find((topic) => topic.name === manifestTopic!.name)).toEqual({ name: manifestTopic!.name, partitions: 1, manifestPartitions: manifestTopic!.partitions, created: false });
    expect((await topicPartitions(bootstrap)).get(manifestTopic!.name)).toBe(1);
    expect(logger.messages().some((message) => message.includes(`topic ${manifestTopic!.name} exists with 1 partition(s)`))).toBe(true);
  });

  it('waits for a registry that starts after it, saying what it waits for', async () => {
    const broker = await startTestBroker();
    const port = await freePort();
    const registryUrl = `http://127.0.0.1:${port}`;
    const logger = recordingLogger();

    const setup = setupPlatform({ brokers: [broker.bootstrap], registryUrl, catalog, logger, timeoutMs: 30_000 });
    await eventually(() => logger.messages().includes(`waiting for the schema registry at ${registryUrl}`), { what: 'setup to say it waits for the registry', timeoutMs: 10_000 });
    await startTestRegistry({ port });
    const result = await setup;

    expect(result.schemas).toHaveLength(catalog.registrationOrder().length);
    expect(logger.messages()).toContain(`the schema registry at ${registryUrl} answers`);
  });

  it("reports the broker's refusal to create the topics in one error", async () => {
    const { bootstrap, registryUrl } = await platform();
    const error = await setupPlatform({ brokers: [bootstrap], registryUrl, catalog, replicationFactor: 3 }).catch((e: unknown) => e);
    expect(isShoalError(error, 'SHOAL_BROKER_PROTOCOL')).toBe(true);
    expect((error as Error).message).toContain('the broker refused to create topics with replication factor 3');
    for (const topic of catalog.topics.keys()) expect((error as Error).message).toContain(topic);
  });

  it('gives up on an unreachable registry after the timeout with a retriable error naming it', async () => {
    const broker = await startTestBroker();
    const registryUrl = `http://127.0.0.1:${await freePort()}`;
    const error = await setupPlatform({ brokers: [broker.bootstrap], registryUrl, catalog, timeoutMs: 300 }).catch((e: unknown) => e);
    expect(isShoalError(error, 'SHOAL_REGISTRY_UNAVAILABLE')).toBe(true);
    expect((error as Error).message).toContain(`waiting for the schema registry at ${registryUrl}`);
  });
});

describe('shoal setup', () => {
  it('sets a platform up, prints a summary, and exits 0 again on a second run', async () => {
    const { bootstrap, registryUrl } = await platform();
    const endpoints = ['--brokers', bootstrap, '--registry', registryUrl];

    const first = await shoal(['setup', ...endpoints]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain(`Shoal is set up: ${catalog.registrationOrder().length} schema(s) registered at ${registryUrl}, ${catalog.topics.size} topic(s) on ${bootstrap}`);
    expect(first.stdout).toMatch(/orders\.order\s+3\s+created/);

    const second = await shoal(['setup', ...endpoints]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/orders\.order\s+3\s+existed/);
    expect(second.stdout).not.toContain('created');
  });

  it('exits 1 with one line naming the registry when it does not answer within --timeout', async () => {
    const broker = await startTestBroker();
    const registryUrl = `http://127.0.0.1:${await freePort()}`;
    const result = await shoal(['setup', '--brokers', broker.bootstrap, '--registry', registryUrl, '--timeout', '1']);
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`shoal setup: gave up after 1 s waiting for the schema registry at ${registryUrl}`);
    expect(result.stdout).toContain(`waiting for the schema registry at ${registryUrl}`);
  });

  it('rejects a bad --timeout with exit 2 and its usage', async () => {
    const result = await shoal(['setup', '--timeout', 'soon']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--timeout expects an integer, got 'soon'");
    expect(result.stderr).toContain('Usage: shoal setup');
  });
});
