import { describe, expect, it } from 'vitest';
import { kafkaFor, startTestBroker } from '@shoal/broker/testing';
import { uniqueName, connected } from '@shoal/testing';
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

    // Sizes of 1 KiB and more print in KiB with one decimal: read them back and compare with the bytes the JSON gives.
    const kib = (text: string, bytes: number, what: string) => {
      expect(text, what).toMatch(/^\d+\.\d KiB$/);
      expect(Math.abs(Number(text.slice(0, -4)) * 1024 - bytes), `${what}: ${text} for ${bytes} bytes`).toBeLessThanOrEqual(0.05 * 1024);
    };
    const table = await shoal(['topics', 'list', ...brokers]);
    expect(table.out.split('\n')[0]).toMatch(/^TOPIC\s+PARTITIONS\s+MESSAGES\s+SIZE$/);
    const listed = new RegExp(`^${escaped(topic)}\\s+2\\s+3\\s+(\\S+ KiB)$`, 'm').exec(table.out);
    expect(listed, table.out).not.toBeNull();
    kib(listed![1]!, p0 + p1, 'listed size');

    const text = await shoal(['topics', 'describe', topic, ...brokers]);
    const summary = new RegExp(`^topic ${escaped(topic)}: 2 partition\\(s\\), 3 message\\(s\\), size (\\S+ KiB)\n`, 'm').exec(text.out);
    expect(summary, text.out).not.toBeNull();
    kib(summary![1]!, p0 + p1, 'described size');
    expect(text.out).toMatch(/^PARTITION\s+LOW\s+HIGH\s+MESSAGES\s+SIZE$/m);
    expect(text.out).toMatch(new RegExp(`^\\s*0\\s+0\\s+1\\s+1\\s+${p0} B$`, 'm'));
    const partition1 = /^\s*1\s+0\s+2\s+2\s+(\S+ KiB)$/m.exec(text.out);
    expect(partition1, text.out).not.toBeNull();
    kib(partition1![1]!, p1, 'partition 1 size');
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
