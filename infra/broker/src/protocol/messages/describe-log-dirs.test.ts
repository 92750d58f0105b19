import { describe, expect, it } from 'vitest';
import { ProtocolDecodeError, Reader } from '../reader.js';
import { Writer } from '../writer.js';
import { decodeDescribeLogDirsResponse, DescribeLogDirs, encodeDescribeLogDirsRequest, type DescribeLogDirsResponse } from './describe-log-dirs.js';

/**
 * DescribeLogDirs against bytes written out by hand from the layout in the Kafka protocol guide (kafkajs,
 * the usual independent check, has no DescribeLogDirs). Both directions: the broker's request decoder and
 * response encoder, and the client's request encoder and response decoder.
 */
const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex');

const requestForTwoTopics = hex(`
  00000002
    0001 61         00000002 00000000 00000002
    0002 6263       00000000
`);
const requestForEverything = hex('ffffffff');

const response: DescribeLogDirsResponse = {
  results: [
    {
      errorCode: 0,
      logDir: '/d',
      topics: [
        {
          name: 'a',
          partitions: [
            { partitionIndex: 0, partitionSize: 1234, offsetLag: 0, isFutureKey: false },
            // Above 2^32, so both halves of the INT64 are checked.
            { partitionIndex: 2, partitionSize: 2 ** 40 + 5, offsetLag: 7, isFutureKey: true },
          ],
        },
      ],
    },
    { errorCode: 56, logDir: '/e', topics: [] },
  ],
};
const responseBytes = hex(`
  00000000
  00000002
    0000 0002 2f64
      00000001
        0001 61
        00000002
          00000000 00000000000004d2 0000000000000000 00
          00000002 0000010000000005 0000000000000007 01
    0038 0002 2f65
      00000000
`);

function decodeRequest(bytes: Buffer, version: number) {
  const reader = new Reader(bytes);
  const request = DescribeLogDirs.decodeRequest(reader, version);
  expect(reader.remaining).toBe(0);
  return request;
}

describe('DescribeLogDirs codec', () => {
  it('is served at versions 0-1 under api key 35, with no flexible version', () => {
    expect([DescribeLogDirs.apiKey, DescribeLogDirs.minVersion, DescribeLogDirs.maxVersion, DescribeLogDirs.firstFlexibleVersion]).toEqual([35, 0, 1, undefined]);
  });

  it.each([0, 1])('decodes a v%i request naming topics and partitions, and one asking for everything', (version) => {
    expect(decodeRequest(requestForTwoTopics, version)).toEqual({ topics: [{ topic: 'a', partitions: [0, 2] }, { topic: 'bc', partitions: [] }] });
    expect(decodeRequest(requestForEverything, version)).toEqual({ topics: null });
  });

  it('encodes requests to the same bytes a broker decodes', () => {
    const named = new Writer();
    encodeDescribeLogDirsRequest(named, { topics: [{ topic: 'a', partitions: [0, 2] }, { topic: 'bc', partitions: [] }] });
    expect(named.toBuffer().toString('hex')).toBe(requestForTwoTopics.toString('hex'));
    const everything = new Writer();
    encodeDescribeLogDirsRequest(everything, { topics: null });
    expect(everything.toBuffer().toString('hex')).toBe(requestForEverything.toString('hex'));
  });

  it.each([0, 1])('encodes a v%i response byte for byte, and the client decodes it back', (version) => {
    const writer = new Writer();
    DescribeLogDirs.encodeResponse(writer, version, response);
    expect(writer.toBuffer().toString('hex')).toBe(responseBytes.toString('hex'));
    const reader = new Reader(responseBytes);
    expect(decodeDescribeLogDirsResponse(reader)).toEqual({ throttleTimeMs: 0, ...response });
    expect(reader.remaining).toBe(0);
  });

  it('refuses a response cut short anywhere, and a null where the layout has none', () => {
    for (let cut = 0; cut < responseBytes.length; cut++) {
      expect(() => decodeDescribeLogDirsResponse(new Reader(responseBytes.subarray(0, cut))), `cut at ${cut}`).toThrow(ProtocolDecodeError);
    }
    expect(() => decodeDescribeLogDirsResponse(new Reader(hex('00000000 ffffffff')))).toThrow(/null where a non-nullable array/);
    // An array count larger than the bytes left is refused before anything is allocated for it.
    expect(() => decodeDescribeLogDirsResponse(new Reader(hex('00000000 7fffffff 00')))).toThrow(/exceeds/);
  });

  it('refuses truncated requests', () => {
    for (let cut = 0; cut < requestForTwoTopics.length; cut++) {
      expect(() => DescribeLogDirs.decodeRequest(new Reader(requestForTwoTopics.subarray(0, cut)), 1), `cut at ${cut}`).toThrow(ProtocolDecodeError);
    }
  });
});
