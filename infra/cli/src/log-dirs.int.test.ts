import { createServer, type Socket } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { isShoalError } from '@shoal/core';
import { Writer } from '@shoal/broker/protocol';
import { connected, kafkaFor, startTestBroker } from '@shoal/broker/testing';
import { uniqueName } from '@shoal/testing';
import { describeBrokerLogDirs, describeLogDirs } from './log-dirs.js';

/**
 * The DescribeLogDirs client against a real Shoal broker, and against TCP peers that misbehave the ways a
 * broker can: refuse, hang up on the request (Apache Kafka's answer to a version it does not serve), stay
 * silent, answer an error, or answer bytes that are not a DescribeLogDirs response.
 */

/** A TCP peer that hands every request it receives to `onRequest`; closed when the test finishes. */
async function peer(onRequest: (socket: Socket, request: Buffer) => void): Promise<{ host: string; port: number }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('data', (request) => onRequest(socket, request));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { host: '127.0.0.1', port: (server.address() as { port: number }).port };
}

/** A response frame: size prefix, then whatever `write` puts after it. */
function frame(write: (w: Writer) => void): Buffer {
  const w = new Writer().int32(0);
  write(w);
  const bytes = w.toBuffer();
  bytes.writeInt32BE(bytes.length - 4, 0);
  return bytes;
}

const answering = (response: Buffer) => peer((socket) => socket.write(response));

describe('describeLogDirs', () => {
  it('gives every partition its bytes, asking the brokers the cluster names, filtered by topic', async () => {
    const broker = await startTestBroker();
    const topic = uniqueName('sizes');
    const other = uniqueName('sizes-other');
    const admin = await connected(kafkaFor(broker.bootstrap).admin());
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }, { topic: other, numPartitions: 1 }] });
    const producer = await connected(kafkaFor(broker.bootstrap).producer());
    await producer.send({ topic, messages: [{ partition: 0, value: 'x' }, ...Array.from({ length: 10 }, () => ({ partition: 1, value: 'y'.repeat(100) }))] });

    const sizes = await describeLogDirs([broker.bootstrap], [topic]);
    expect([...sizes.keys()]).toEqual([topic]);
    const partitions = sizes.get(topic)!;
    expect([...partitions.keys()].sort()).toEqual([0, 1]);
    expect(partitions.get(0)).toBeGreaterThan(0);
    expect(partitions.get(1)).toBeGreaterThan(partitions.get(0)! + 1000);

    // Without a filter every topic comes back (an empty one with 0 bytes), and the figures agree.
    const everything = await describeLogDirs([broker.bootstrap], undefined, { admin });
    expect(everything.get(topic)).toEqual(partitions);
    expect(everything.get(other)).toEqual(new Map([[0, 0]]));

    const direct = await describeBrokerLogDirs({ host: '127.0.0.1', port: broker.port });
    expect(direct?.results.map((r) => [r.errorCode, r.logDir])).toEqual([[0, broker.dataDir]]);
    expect(await describeLogDirs([broker.bootstrap], [uniqueName('never-created')], { admin })).toEqual(new Map());
  });

  it('resolves undefined for a broker that refuses, hangs up, goes silent or drops a half-sent answer', async () => {
    // Port 1 is never a Kafka broker: the connection is refused at once.
    expect(await describeBrokerLogDirs({ host: '127.0.0.1', port: 1 })).toBeUndefined();

    const hangingUp = await peer((socket) => socket.destroy());
    expect(await describeBrokerLogDirs(hangingUp)).toBeUndefined();

    const silent = await peer(() => undefined);
    expect(await describeBrokerLogDirs(silent, { timeoutMs: 200 })).toBeUndefined();

    const halfSent = await peer((socket) => socket.end(frame((w) => void w.int32(1).int32(0).int32(1)).subarray(0, 10)));
    expect(await describeBrokerLogDirs(halfSent)).toBeUndefined();
  });

  it('reads a log dir answering an error as a broker without sizes', async () => {
    const unsupported = await answering(frame((w) => void w.int32(1).int32(0).array([35], (w, code) => void w.int16(code).string('').array([], () => undefined))));
    const response = await describeBrokerLogDirs(unsupported);
    expect(response?.results).toEqual([{ errorCode: 35, logDir: '', topics: [] }]);
  });

  it.each([
    ['a frame size too small for a correlation id', Buffer.from([0, 0, 0, 2, 0, 1]), /frame size 2/],
    ['a negative frame size', Buffer.from([0xff, 0xff, 0xff, 0xff]), /frame size -1/],
    ['another correlation id', frame((w) => void w.int32(9).int32(0).int32(0)), /correlation id 9, expected 1/],
    ['a body cut short', frame((w) => void w.int32(1).int32(0).int32(1).int16(0)), /truncated frame/],
    ['an array count beyond the bytes sent', frame((w) => void w.int32(1).int32(0).int32(1_000_000)), /exceeds/],
    ['bytes after the last field', frame((w) => void w.int32(1).int32(0).int32(0).int8(7)), /1 byte\(s\) left after the last field/],
  ])('fails with SHOAL_BROKER_PROTOCOL on %s', async (_what, response, reason) => {
    const broken = await answering(response);
    const error = await describeBrokerLogDirs(broken).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isShoalError(error, 'SHOAL_BROKER_PROTOCOL'), String(error)).toBe(true);
    expect((error as Error).message).toContain(`broker 127.0.0.1:${broken.port} sent a malformed DescribeLogDirs response`);
    expect((error as Error).message).toMatch(reason);
  });

  it('sends DescribeLogDirs v1 with a v1 header asking for every topic', async () => {
    let request: Buffer | undefined;
    const recording = await peer((socket, bytes) => {
      request = bytes;
      socket.destroy();
    });
    await describeBrokerLogDirs(recording, { clientId: 'sizes' });
    // size, api key 35, version 1, correlation id 1, client id "sizes", topics null
    expect(request?.toString('hex')).toBe('00000013' + '0023' + '0001' + '00000001' + '0005' + Buffer.from('sizes').toString('hex') + 'ffffffff');
  });
});
