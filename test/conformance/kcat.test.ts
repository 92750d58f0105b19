/**
 * Conformance of the broker with kcat (librdkafka 2.x), a client nobody here wrote: metadata listing,
 * bulk produce/consume round trips (text and binary, every compression codec), the balanced consumer
 * (-G) with committed-offset resume, and offsets relative to the end and by timestamp.
 *
 * Each test starts its own broker; each kcat run has a hard time bound so a broken broker fails the test.
 */
import { startTestBroker } from '@shoal/broker/testing';
import { tempDir, uniqueName } from '@shoal/testing';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KCAT, kcatMissingReason, librdkafkaComplaints, processReport, runProcessOk, watchProcess } from './client-processes.js';

const missing = kcatMissingReason();
if (missing) console.warn(`skipping kcat conformance tests: ${missing}`);

/** Bound on one kcat run. Generous: it only matters when the broker is broken. */
const KCAT_TIMEOUT_MS = 30_000;

/** `-m 10`: metadata waits are bounded; `-F /dev/null`: no user config file changes what runs. */
async function kcat(bootstrap: string, args: string[], input?: string | Buffer) {
  const result = await runProcessOk(KCAT, ['-b', bootstrap, '-m', '10', '-F', '/dev/null', ...args], { input, timeoutMs: KCAT_TIMEOUT_MS });
  expect(librdkafkaComplaints(result.stderr), processReport(result)).toEqual([]);
  return result;
}

interface ConsumedLine {
  partition: number;
  offset: number;
  rest: string;
}

/** Parses lines printed with `-f '%p %o <rest>\n'`. */
function parsePartitionOffsetLines(stdout: Buffer): ConsumedLine[] {
  return stdout
    .toString('utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const match = /^(\d+) (\d+) (.*)$/s.exec(line);
      if (!match) throw new Error(`unexpected kcat output line: ${JSON.stringify(line)}`);
      return { partition: Number(match[1]), offset: Number(match[2]), rest: match[3] ?? '' };
    });
}

/** Every partition's offsets run 0, 1, 2, ... with no gap or repeat, in the order they were printed. */
function expectContiguousOffsets(lines: ConsumedLine[]): Map<number, ConsumedLine[]> {
  const byPartition = new Map<number, ConsumedLine[]>();
  for (const line of lines) {
    const list = byPartition.get(line.partition) ?? [];
    list.push(line);
    byPartition.set(line.partition, list);
  }
  for (const [partition, list] of byPartition) {
    expect(
      list.map((l) => l.offset),
      `offsets of partition ${partition}`,
    ).toEqual(list.map((_, i) => i));
  }
  return byPartition;
}

/** Text values with multi-byte UTF-8, the key delimiter and varied lengths, but no newline. */
function textValue(i: number): string {
  return `value-${i}:ünïcødé-€-🐟-${'x'.repeat(i % 97)}-end`;
}

describe.skipIf(missing !== null)('kcat (librdkafka) against the Shoal broker', () => {
  it('lists the broker and topics with -L and -L -J', async () => {
    const broker = await startTestBroker();
    const topic = uniqueName('kcat-metadata');
    // Producing auto-creates the topic with the broker's default of 3 partitions.
    await kcat(broker.bootstrap, ['-P', '-t', topic], 'hello\n');

    const text = (await kcat(broker.bootstrap, ['-L'])).stdout.toString('utf8');
    expect(text).toContain(' 1 brokers:');
    expect(text).toContain(`broker 0 at ${broker.bootstrap} (controller)`);
    expect(text).toContain(`topic "${topic}" with 3 partitions:`);
    for (const p of [0, 1, 2]) expect(text).toContain(`partition ${p}, leader 0, replicas: 0, isrs: 0`);

    const json = JSON.parse((await kcat(broker.bootstrap, ['-L', '-J', '-t', topic])).stdout.toString('utf8')) as {
      controllerid: number;
      brokers: { id: number; name: string }[];
      topics: { topic: string; error?: string; partitions: { partition: number; leader: number; replicas: { id: number }[]; isrs: { id: number }[] }[] }[];
    };
    expect(json.controllerid).toBe(0);
    expect(json.brokers).toEqual([{ id: 0, name: broker.bootstrap }]);
    expect(json.topics).toHaveLength(1);
    const [listed] = json.topics;
    expect(listed?.topic).toBe(topic);
    expect(listed?.error).toBeUndefined();
    expect(listed?.partitions.map((p) => ({ partition: p.partition, leader: p.leader, replicas: p.replicas, isrs: p.isrs })).sort((a, b) => a.partition - b.partition)).toEqual(
      [0, 1, 2].map((partition) => ({ partition, leader: 0, replicas: [{ id: 0 }], isrs: [{ id: 0 }] })),
    );
  });

  it('produces 10,000 keyed messages with a header from a file (-l -K:) and reads them all back byte-identical', async () => {
    const broker = await startTestBroker();
    const dir = await tempDir('kcat-bulk');
    const topic = uniqueName('kcat-bulk');
    const count = 10_000;
    const lines = Array.from({ length: count }, (_, i) => `key-${i}:${textValue(i)}`);
    const inputFile = join(dir, 'messages.txt');
    await writeFile(inputFile, lines.join('\n') + '\n');

    await kcat(broker.bootstrap, ['-P', '-t', topic, '-K:', '-H', 'origin=kcat-bulk', '-l', inputFile]);
    const consumed = await kcat(broker.bootstrap, ['-C', '-t', topic, '-o', 'beginning', '-e', '-f', '%p %o %h|%k:%s\n']);

    const records = parsePartitionOffsetLines(consumed.stdout);
    expect(records).toHaveLength(count);
    // Keys are hashed to partitions, so the check is per partition: contiguous offsets, producer order kept.
    const byPartition = expectContiguousOffsets(records);
    expect(byPartition.size, 'keys spread over every partition').toBe(3);
    for (const [partition, list] of byPartition) {
      const indexes = list.map((l) => Number(/^origin=kcat-bulk\|key-(\d+):/.exec(l.rest)?.[1]));
      expect(indexes, `producer order within partition ${partition}`).toEqual([...indexes].sort((a, b) => a - b));
    }
    const roundTripped = records.map((r) => r.rest).sort();
    expect(roundTripped).toEqual(lines.map((l) => `origin=kcat-bulk|${l}`).sort());
  });

  it.each(['none', 'gzip', 'snappy', 'lz4', 'zstd'])('round-trips binary payloads byte for byte (compression %s)', async (codec) => {
    const broker = await startTestBroker();
    const dir = await tempDir('kcat-binary');
    const topic = uniqueName(`kcat-binary-${codec}`);
    const everyByte = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const pseudoRandom = Buffer.alloc(200_000);
    let x = 0x9e3779b9;
    for (let i = 0; i < pseudoRandom.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      pseudoRandom[i] = x & 0xff;
    }
    const payloads = [
      everyByte,
      Buffer.from([0]),
      Buffer.from('\n\r\n\0:\t'),
      Buffer.from([0xff, 0xfe, 0x00, 0x80, 0xc3, 0x28]), // invalid UTF-8
      pseudoRandom,
      Buffer.concat(Array.from({ length: 50 }, () => everyByte)),
    ];
    const files: string[] = [];
    for (const [i, payload] of payloads.entries()) {
      const file = join(dir, `payload-${i}.bin`);
      await writeFile(file, payload);
      files.push(file);
    }

    // Without -l every file is one message; -p 0 keeps them in one ordered partition.
    await kcat(broker.bootstrap, ['-P', '-t', topic, '-p', '0', '-z', codec, ...files]);
    // %R: payload length as a big-endian int32, then the raw payload: binary-safe framing.
    const consumed = await kcat(broker.bootstrap, ['-C', '-t', topic, '-p', '0', '-o', 'beginning', '-e', '-f', '%R%s']);

    const received: Buffer[] = [];
    const out = consumed.stdout;
    let at = 0;
    while (at < out.length) {
      const length = out.readInt32BE(at);
      received.push(out.subarray(at + 4, at + 4 + length));
      at += 4 + length;
    }
    expect(received.length, processReport(consumed)).toBe(payloads.length);
    received.forEach((payload, i) => {
      expect(payload.equals(payloads[i]!), `payload ${i} (${payloads[i]!.length} bytes) came back as ${payload.length} bytes`).toBe(true);
    });
  });

  it('delivers every message exactly once to a balanced consumer (-G), which resumes from its committed offsets', async () => {
    const broker = await startTestBroker();
    const topic = uniqueName('kcat-group');
    const group = uniqueName('kcat-group');
    const firstCount = 3_000;
    const secondCount = 300;
    const message = (i: number) => `k${i}:v${i}`;
    const produce = (from: number, to: number) =>
      kcat(
        broker.bootstrap,
        ['-P', '-t', topic, '-K:'],
        Array.from({ length: to - from }, (_, i) => message(from + i)).join('\n') + '\n',
      );
    const consumeInGroup = (expected: number) =>
      watchProcess(
        KCAT,
        // -u: unbuffered, so every message is on the pipe when it is consumed.
        ['-b', broker.bootstrap, '-F', '/dev/null', '-u', '-G', group, '-X', 'auto.offset.reset=earliest', '-f', '%p %o %k:%s\n', topic],
        { until: (stdout) => stdout.toString('utf8').split('\n').length - 1 >= expected, timeoutMs: KCAT_TIMEOUT_MS },
      );

    await produce(0, firstCount);
    const first = await consumeInGroup(firstCount);
    expect(first.satisfied, processReport(first)).toBe(true);
    // It stopped on SIGTERM by itself (closing the consumer commits its offsets and leaves the group).
    expect(first.timedOut, processReport(first)).toBe(false);
    expect(librdkafkaComplaints(first.stderr), processReport(first)).toEqual([]);
    const firstRecords = parsePartitionOffsetLines(first.stdout);
    expect(firstRecords.map((r) => r.rest).sort()).toEqual(Array.from({ length: firstCount }, (_, i) => message(i)).sort());
    expectContiguousOffsets(firstRecords);

    // Same group again: only what was produced since; a re-delivery from an uncommitted partition would
    // arrive before the new messages of that partition, so waiting for all new ones would see it.
    await produce(firstCount, firstCount + secondCount);
    const second = await consumeInGroup(secondCount);
    expect(second.satisfied, processReport(second)).toBe(true);
    expect(second.timedOut, processReport(second)).toBe(false);
    expect(librdkafkaComplaints(second.stderr), processReport(second)).toEqual([]);
    const secondRecords = parsePartitionOffsetLines(second.stdout);
    expect(secondRecords.map((r) => r.rest).sort()).toEqual(Array.from({ length: secondCount }, (_, i) => message(firstCount + i)).sort());
    const endOfFirst = new Map<number, number>();
    for (const r of firstRecords) endOfFirst.set(r.partition, Math.max(endOfFirst.get(r.partition) ?? -1, r.offset));
    for (const r of secondRecords) expect(r.offset, `partition ${r.partition} resumed after its committed offset`).toBeGreaterThan(endOfFirst.get(r.partition) ?? -1);
  });

  it('starts at an offset relative to the end (-o -N) and at a timestamp (-o s@ts, -Q)', async () => {
    const broker = await startTestBroker();
    const topic = uniqueName('kcat-offsets');
    const produce = (values: string[]) => kcat(broker.bootstrap, ['-P', '-t', topic, '-p', '0'], values.join('\n') + '\n');
    // Two separate producer runs, so the second batch carries later CreateTimes than the first.
    await produce(Array.from({ length: 10 }, (_, i) => `a${i}`));
    await produce(Array.from({ length: 10 }, (_, i) => `b${i}`));

    const tail = await kcat(broker.bootstrap, ['-C', '-t', topic, '-p', '0', '-o', '-3', '-e', '-f', '%o %s\n']);
    expect(tail.stdout.toString('utf8')).toBe('17 b7\n18 b8\n19 b9\n');

    const all = await kcat(broker.bootstrap, ['-C', '-t', topic, '-p', '0', '-o', 'beginning', '-e', '-f', '%o %T %s\n']);
    const records = all.stdout
      .toString('utf8')
      .trim()
      .split('\n')
      .map((line) => {
        const [offset, timestamp, value] = line.split(' ');
        return { offset: Number(offset), timestamp: Number(timestamp), value: value ?? '' };
      });
    expect(records.map((r) => r.value)).toEqual([...Array.from({ length: 10 }, (_, i) => `a${i}`), ...Array.from({ length: 10 }, (_, i) => `b${i}`)]);

    // Expected answers come from the timestamps the broker handed back, not from the clock: the first
    // offset whose timestamp is at or after the target.
    const firstBatchMax = Math.max(...records.slice(0, 10).map((r) => r.timestamp));
    const lastTimestamp = Math.max(...records.map((r) => r.timestamp));
    // Start of the log, start of the second batch, and past every record (Kafka answers offset -1).
    for (const target of [records[0]!.timestamp, firstBatchMax + 1, lastTimestamp + 1]) {
      const expected = records.filter((r) => r.timestamp >= target);
      const fromTimestamp = await kcat(broker.bootstrap, ['-C', '-t', topic, '-p', '0', '-o', `s@${target}`, '-e', '-f', '%o %s\n']);
      expect(fromTimestamp.stdout.toString('utf8'), `-o s@${target}`).toBe(expected.map((r) => `${r.offset} ${r.value}\n`).join(''));

      const query = await kcat(broker.bootstrap, ['-Q', '-t', `${topic}:0:${target}`]);
      const expectedOffset = expected[0]?.offset ?? -1;
      expect(query.stdout.toString('utf8'), `-Q at ${target}`).toContain(`${topic} [0] offset ${expectedOffset}`);
    }
  });
});
