import { describe, expect, it } from 'vitest';
import { connected, kafkaFor, startTestBroker } from '@shoal/broker/testing';
import { uniqueName } from '@shoal/testing';
import { formatBytes } from '../../infra/cli/src/commands/topics.js';
import { shoal } from './helpers.js';

const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('shoal topics', () => {
  it('creates, lists and describes topics with their offsets, sizes and configs', async () => {
    const broker = await startTestBroker();
    const topic = uniqueName('cli-topic');
    const brokers = ['--brokers', broker.bootstrap];

    const created = await shoal(['topics', 'create', topic, '--partitions', '2', '--config', 'retention.ms=60000', ...brokers]);
    expect(created.code, created.stderr).toBe(0);
    expect(created.out).toBe(`created topic ${topic} with 2 partition(s)\n`);
    expect((await shoal(['topics', 'create', topic, ...brokers])).out).toBe(`topic ${topic} already exists\n`);

    // Before any data: every partition is known and empty.
    const empty = JSON.parse((await shoal(['topics', 'describe', topic, '--json', ...brokers])).out);
    expect(empty.partitions.map((p: { bytes: number }) => p.bytes)).toEqual([0, 0]);
    expect(empty.bytes).toBe(0);

    const producer = await connected(kafkaFor(broker.bootstrap).producer());
    // Partition 1 gets more than 1 KiB, so its size prints in KiB; partition 0 stays below and prints in bytes.
    await producer.send({ topic, messages: [{ partition: 1, value: 'a' }, { partition: 1, value: 'b'.repeat(2000) }, { partition: 0, value: 'c' }] });

    const described = JSON.parse((await shoal(['topics', 'describe', topic, '--json', ...brokers])).out);
    expect(described.partitions).toEqual([
      { partition: 0, low: 0, high: 1, messages: 1, bytes: expect.any(Number) },
      { partition: 1, low: 0, high: 2, messages: 2, bytes: expect.any(Number) },
    ]);
    const [p0, p1] = described.partitions.map((p: { bytes: number }) => p.bytes) as [number, number];
    expect(p0).toBeGreaterThan(0);
    expect(p0).toBeLessThan(1024);
    expect(p1).toBeGreaterThan(p0 + 2000);
    expect(described.bytes).toBe(p0 + p1);
    expect(described.configs['retention.ms']).toBe('60000');

    const list = await shoal(['topics', 'list', '--json', ...brokers]);
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.out)).toContainEqual({ topic, partitions: 2, messages: 3, bytes: p0 + p1 });

    const table = await shoal(['topics', 'list', ...brokers]);
    expect(table.out.split('\n')[0]).toMatch(/^TOPIC\s+PARTITIONS\s+MESSAGES\s+SIZE$/);
    expect(table.out).toMatch(new RegExp(`^${topic}\\s+2\\s+3\\s+${escaped(formatBytes(p0 + p1))}$`, 'm'));
    expect(formatBytes(p0 + p1)).toMatch(/^\d+\.\d KiB$/);

    const text = await shoal(['topics', 'describe', topic, ...brokers]);
    expect(text.out).toContain(`topic ${topic}: 2 partition(s), 3 message(s), size ${formatBytes(p0 + p1)}\n`);
    expect(text.out).toMatch(/^PARTITION\s+LOW\s+HIGH\s+MESSAGES\s+SIZE$/m);
    expect(text.out).toMatch(new RegExp(`^\\s*0\\s+0\\s+1\\s+1\\s+${p0} B$`, 'm'));
    expect(text.out).toMatch(new RegExp(`^\\s*1\\s+0\\s+2\\s+2\\s+${escaped(formatBytes(p1))}$`, 'm'));
  });

  it('gives one clear line for a missing topic, a bad flag and an unreachable broker', async () => {
    const broker = await startTestBroker();
    const missing = await shoal(['topics', 'describe', 'no-such-topic', '--brokers', broker.bootstrap]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe("shoal topics: topic 'no-such-topic' does not exist (see 'shoal topics list')\n");

    const badConfig = await shoal(['topics', 'create', 'x', '--config', 'retention', '--brokers', broker.bootstrap]);
    expect(badConfig.code).toBe(2);
    expect(badConfig.stderr).toContain("--config expects key=value, got 'retention'");

    // Port 1 is never a Kafka broker: the connection is refused at once.
    const unreachable = await shoal(['topics', 'list'], { env: { KAFKA_BROKERS: '127.0.0.1:1' } });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr.trim().split('\n')).toHaveLength(1);
    expect(unreachable.stderr).toContain('cannot reach the Kafka broker at 127.0.0.1:1');
    expect(unreachable.stderr).toContain('KAFKA_BROKERS');
  });
});
