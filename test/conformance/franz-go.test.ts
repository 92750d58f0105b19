/**
 * Conformance of the embedded broker with franz-go (kgo and kadm), a Go client that asks for the newest
 * protocol versions and uses the cooperative-sticky balancer by default. ./go/main.go is built once per run
 * (Go's build cache makes that quick after `.ci/run` has warmed it) and run once per scenario, crossed with
 * kafkajs in both directions.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaFor, startTestBroker } from '@shoal/broker/testing';
import { connected } from '@shoal/testing';
import { uniqueName } from '@shoal/testing';
import { readByKey } from './client-processes.js';

const GO_DIR = fileURLToPath(new URL('./go/', import.meta.url));

const goMissing = spawnSync('go', ['version'], { stdio: 'ignore' }).status === 0 ? null : 'no `go` on PATH to build the franz-go conformance program';
if (goMissing !== null && process.env.CI === 'true') throw new Error(`CI runs the franz-go conformance tests: ${goMissing}`);

if (goMissing !== null) {
  describe('franz-go against the embedded broker', () => {
    it.skip(`skipped: ${goMissing}`, () => undefined);
  });
}

let binary: string;
let buildDir: string;

function run(file: string, args: string[], options: { cwd?: string; timeoutMs?: number; env?: Record<string, string> } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  // Asynchronous: the broker these programs talk to runs in this process's event loop.
  return new Promise((resolve) => {
    const env = { ...process.env, ...options.env };
    execFile(file, args, { cwd: options.cwd, env, timeout: options.timeoutMs ?? 90_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

async function franz(scenario: string, args: string[], env: Record<string, string> = {}): Promise<Array<[string, string]>> {
  const result = await run(binary, [scenario, ...args], { env });
  if (result.code !== 0) throw new Error(`franz ${scenario} exited ${result.code}:\n${result.stdout}\n${result.stderr}`);
  return result.stdout
    .split('\n')
    .filter((line) => line.includes('='))
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as [string, string]);
}

const values = (lines: Array<[string, string]>, key: string) => lines.filter(([k]) => k === key).map(([, v]) => v);

describe.skipIf(goMissing !== null)('franz-go v1.22 against the embedded broker', () => {
  beforeAll(async () => {
    buildDir = mkdtempSync(join(tmpdir(), 'shoal-franz-'));
    binary = join(buildDir, 'franz');
    const build = await run('go', ['build', '-o', binary, '.'], { cwd: GO_DIR, timeoutMs: 300_000 });
    if (build.code !== 0) throw new Error(`go build failed:\n${build.stdout}\n${build.stderr}`);
  }, 320_000);

  afterAll(() => {
    if (buildDir !== undefined) rmSync(buildDir, { recursive: true, force: true });
  });

  it('produces idempotently with keys and headers; kafkajs reads every record as sent', async () => {
    const broker = await startTestBroker();
    const kafka = kafkaFor(broker.bootstrap);
    const topic = uniqueName('franz-produce');
    const admin = await connected(kafka.admin());
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }] });

    const sent = values(await franz('produce', [broker.bootstrap, topic, '30']), 'sent');
    expect(sent).toHaveLength(30);
    const ends = await admin.fetchTopicOffsets(topic);
    expect(ends.reduce((sum, p) => sum + Number(p.high), 0)).toBe(30);

    const read = await readByKey(kafka, topic, 30);
    expect(read.get('k3')).toEqual({ value: 'go-3', headers: { ce_type: 'conformance.Franz', n: '3' } });
  });

  it('consumes what kafkajs produced as one group member, commits, and a new member resumes after the commit', async () => {
    const broker = await startTestBroker();
    const kafka = kafkaFor(broker.bootstrap);
    const topic = uniqueName('franz-consume');
    const groupId = uniqueName('franz-consume');
    const admin = await connected(kafka.admin());
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
    const producer = await connected(kafka.producer({ idempotent: true, maxInFlightRequests: 1 }));
    await producer.send({ topic, acks: -1, messages: Array.from({ length: 10 }, (_, i) => ({ partition: i % 2, key: `k${i}`, value: `js-${i}`, headers: { ce_type: 'conformance.Kafkajs' } })) });

    const consumed = await franz('consume', [broker.bootstrap, topic, groupId, '10']);
    expect(values(consumed, 'record')).toContain('1:4 k9 js-9 [ce_type:conformance.Kafkajs]');
    expect(values(consumed, 'committed')).toEqual(['0:5', '1:5']);
    const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
    expect(offsets[0]!.partitions.map((p) => `${p.partition}:${p.offset}`).sort()).toEqual(['0:5', '1:5']);

    await producer.send({ topic, acks: -1, messages: [{ partition: 0, key: 'k10', value: 'js-10' }] });
    expect(values(await franz('consume', [broker.bootstrap, topic, groupId, '1']), 'record')).toEqual(['0:5 k10 js-10 []']);
  });

  it('rebalances two cooperative-sticky members on join and on leave', async () => {
    const broker = await startTestBroker();
    const kafka = kafkaFor(broker.bootstrap);
    const topic = uniqueName('franz-group');
    const admin = await connected(kafka.admin());
    await admin.createTopics({ topics: [{ topic, numPartitions: 4 }] });
    const producer = await connected(kafka.producer());
    await producer.send({ topic, messages: Array.from({ length: 40 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })) });

    const lines = Object.fromEntries(await franz('group', [broker.bootstrap, topic, uniqueName('franz-group'), '40']));
    expect(lines['first-alone']).toBe('[0 1 2 3]');
    const shared = [...lines['first-shared']!.slice(1, -1).split(' '), ...lines['second-shared']!.slice(1, -1).split(' ')].filter((p) => p !== '');
    expect(shared.sort()).toEqual(['0', '1', '2', '3']);
    expect(lines).toMatchObject({ members: '2', state: 'Stable', protocol: 'cooperative-sticky', 'first-after-leave': '[0 1 2 3]', keys: '40' });
  });

  it('administers topics, configs, offsets, records, groups and lag through kadm', async () => {
    const broker = await startTestBroker();
    const topic = uniqueName('franz-admin');
    expect(Object.fromEntries(await franz('admin', [broker.bootstrap, topic]))).toEqual({
      brokers: '1',
      created: topic,
      'create-again': 'TOPIC_ALREADY_EXISTS',
      partitions: '2',
      'retention.ms': '3600000',
      'altered.retention.ms': '7200000',
      'altered.max.message.bytes': '500000',
      grown: '3',
      earliest: '0',
      latest: '10',
      'for-timestamp': '5',
      'after-delete-earliest': '3',
      'group-listed': 'true',
      'group-state': 'Empty',
      'group-offset-p0': '10',
      'group-lag': '0',
      'group-deleted': 'true',
      deleted: topic,
    });
  });

  describe('with the consumer group protocol (ServerSideBalancer, KIP-848)', () => {
    const consumerProtocol = { FRANZ_GROUP_PROTOCOL: 'consumer' };
    // Members learn of a new target assignment on their next heartbeat: a short interval keeps the test short.
    const startBroker = () => startTestBroker({ consumerHeartbeatIntervalMs: 300 });
    const apisOf = (broker: Awaited<ReturnType<typeof startBroker>>) => new Set(broker.requestCounts().map((c) => c.api));

    it('consumes as one member, commits with its member epoch, and a new member resumes after the commit', async () => {
      const broker = await startBroker();
      const kafka = kafkaFor(broker.bootstrap);
      const topic = uniqueName('franz848-consume');
      const groupId = uniqueName('franz848-consume');
      const admin = await connected(kafka.admin());
      await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
      const producer = await connected(kafka.producer({ idempotent: true, maxInFlightRequests: 1 }));
      await producer.send({ topic, acks: -1, messages: Array.from({ length: 10 }, (_, i) => ({ partition: i % 2, key: `k${i}`, value: `js-${i}` })) });

      const consumed = await franz('consume', [broker.bootstrap, topic, groupId, '10'], consumerProtocol);
      expect(values(consumed, 'record')).toHaveLength(10);
      expect(values(consumed, 'committed')).toEqual(['0:5', '1:5']);
      const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
      expect(offsets[0]!.partitions.map((p) => `${p.partition}:${p.offset}`).sort()).toEqual(['0:5', '1:5']);

      await producer.send({ topic, acks: -1, messages: [{ partition: 0, key: 'k10', value: 'js-10' }] });
      expect(values(await franz('consume', [broker.bootstrap, topic, groupId, '1'], consumerProtocol), 'record')).toEqual(['0:5 k10 js-10 []']);
      expect(apisOf(broker)).toContain('ConsumerGroupHeartbeat');
      expect(apisOf(broker)).not.toContain('JoinGroup');
    });

    it('assigns on the broker: two members split the partitions on join, the first takes them all back on leave', async () => {
      const broker = await startBroker();
      const kafka = kafkaFor(broker.bootstrap);
      const topic = uniqueName('franz848-group');
      const admin = await connected(kafka.admin());
      await admin.createTopics({ topics: [{ topic, numPartitions: 4 }] });
      const producer = await connected(kafka.producer());
      await producer.send({ topic, messages: Array.from({ length: 40 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })) });

      const lines = Object.fromEntries(await franz('group', [broker.bootstrap, topic, uniqueName('franz848-group'), '40'], consumerProtocol));
      expect(lines['first-alone']).toBe('[0 1 2 3]');
      const first = lines['first-shared']!.slice(1, -1).split(' ').filter((p) => p !== '');
      const second = lines['second-shared']!.slice(1, -1).split(' ').filter((p) => p !== '');
      expect([first.length, second.length]).toEqual([2, 2]);
      expect([...first, ...second].sort()).toEqual(['0', '1', '2', '3']);
      // kadm describes the group through the classic DescribeGroups: protocol type consumer, the assignor as protocol.
      expect(lines).toMatchObject({ members: '2', state: 'Stable', protocol: 'uniform', 'first-after-leave': '[0 1 2 3]', keys: '40' });
      expect(apisOf(broker)).toContain('ConsumerGroupHeartbeat');
      expect(apisOf(broker)).not.toContain('JoinGroup');
    });
  });
});
