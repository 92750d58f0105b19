import { createRequire } from 'node:module';
import { afterAll, describe, expect, it } from 'vitest';
import type { ApiDefinition } from '../api.js';
import { Reader } from '../reader.js';
import { Writer } from '../writer.js';
import { DeleteGroups } from './delete-groups.js';
import { DescribeGroups } from './describe-groups.js';
import { FindCoordinator } from './find-coordinator.js';
import { Heartbeat } from './heartbeat.js';
import { JoinGroup } from './join-group.js';
import { LeaveGroup } from './leave-group.js';
import { ListGroups } from './list-groups.js';
import { OffsetCommit } from './offset-commit.js';
import { OffsetFetch, offsetFetchError } from './offset-fetch.js';
import { SyncGroup } from './sync-group.js';

/**
 * The group APIs checked against an independent implementation: kafkajs's own request encoders and
 * response decoders, for every version kafkajs has. Versions it lacks are checked byte by byte.
 * Requests must be consumed to the last byte; responses must be read by kafkajs to the last byte.
 */
const require = createRequire(import.meta.url);

interface KafkajsDecoder {
  buffer: Buffer;
  offset: number;
}

// Record which kafkajs Decoder read last, to check that it consumed our whole response.
const decoderPrototype = (require('kafkajs/src/protocol/decoder') as { prototype: Record<string, unknown> }).prototype;
const originals = new Map<string, (...args: unknown[]) => unknown>();
let lastDecoder: KafkajsDecoder | null = null;
for (const name of Object.getOwnPropertyNames(decoderPrototype)) {
  const method = decoderPrototype[name];
  if (!name.startsWith('read') || typeof method !== 'function') continue;
  originals.set(name, method as (...args: unknown[]) => unknown);
  decoderPrototype[name] = function (this: KafkajsDecoder, ...args: unknown[]) {
    lastDecoder = this;
    return (method as (...a: unknown[]) => unknown).apply(this, args);
  };
}
afterAll(() => {
  for (const [name, method] of originals) decoderPrototype[name] = method;
});

async function kafkajsRequestBody(api: string, version: number, args: unknown): Promise<Buffer> {
  const build = require(`kafkajs/src/protocol/requests/${api}/v${version}/request`) as (a: unknown) => { encode(): Promise<{ buffer: Buffer }> };
  return (await build(args).encode()).buffer;
}

function decodeRequest<Req>(definition: ApiDefinition<Req, unknown>, version: number, body: Buffer): Req {
  const reader = new Reader(body);
  const request = definition.decodeRequest(reader, version);
  expect(reader.remaining).toBe(0);
  return request;
}

function encodeResponse<Res>(definition: ApiDefinition<unknown, Res>, version: number, response: Res): Buffer {
  const writer = new Writer();
  definition.encodeResponse(writer, version, response);
  return writer.toBuffer();
}

async function kafkajsDecode<Res>(api: string, definition: ApiDefinition<unknown, Res>, version: number, response: Res): Promise<Record<string, unknown>> {
  const body = encodeResponse(definition, version, response);
  const { decode } = require(`kafkajs/src/protocol/requests/${api}/v${version}/response`) as {
    decode(raw: Buffer): Promise<Record<string, unknown>>;
  };
  lastDecoder = null;
  const decoded = await decode(body);
  expect(lastDecoder).not.toBeNull();
  expect(lastDecoder!.offset).toBe(body.length);
  return decoded;
}

const versions = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('FindCoordinator', () => {
  it.each(versions(0, 2))('v%i matches kafkajs', async (version) => {
    const args = version === 0 ? { groupId: 'g' } : { coordinatorKey: 'g', coordinatorType: 0 };
    expect(decodeRequest(FindCoordinator, version, await kafkajsRequestBody('findCoordinator', version, args))).toEqual({ key: 'g', keyType: 0 });
    const decoded = await kafkajsDecode('findCoordinator', FindCoordinator, version, {
      errorCode: 0,
      errorMessage: null,
      nodeId: 0,
      host: '127.0.0.1',
      port: 9092,
    });
    expect(decoded).toMatchObject({ errorCode: 0, coordinator: { nodeId: 0, host: '127.0.0.1', port: 9092 } });
  });
});

describe('JoinGroup', () => {
  it.each(versions(0, 5))('v%i matches kafkajs', async (version) => {
    const body = await kafkajsRequestBody('joinGroup', version, {
      groupId: 'g',
      sessionTimeout: 6000,
      rebalanceTimeout: 10_000,
      memberId: 'm-1',
      protocolType: 'consumer',
      groupProtocols: [{ name: 'RoundRobinAssigner', metadata: Buffer.from([1, 2, 3]) }],
    });
    expect(decodeRequest(JoinGroup, version, body)).toEqual({
      groupId: 'g',
      sessionTimeoutMs: 6000,
      // v0 has no rebalance timeout: the session timeout stands in for it.
      rebalanceTimeoutMs: version === 0 ? 6000 : 10_000,
      memberId: 'm-1',
      groupInstanceId: null,
      protocolType: 'consumer',
      protocols: [{ name: 'RoundRobinAssigner', metadata: Buffer.from([1, 2, 3]) }],
    });

    const decoded = await kafkajsDecode('joinGroup', JoinGroup, version, {
      errorCode: 0,
      generationId: 7,
      protocolName: 'RoundRobinAssigner',
      leader: 'm-1',
      memberId: 'm-1',
      members: [{ memberId: 'm-1', groupInstanceId: version >= 5 ? 'instance-1' : null, metadata: Buffer.from([9]) }],
    });
    expect(decoded).toMatchObject({ errorCode: 0, generationId: 7, groupProtocol: 'RoundRobinAssigner', leaderId: 'm-1', memberId: 'm-1' });
    expect(decoded.members).toEqual([
      version >= 5 ? { memberId: 'm-1', groupInstanceId: 'instance-1', memberMetadata: Buffer.from([9]) } : { memberId: 'm-1', memberMetadata: Buffer.from([9]) },
    ]);
  });
});

describe('SyncGroup', () => {
  it.each(versions(0, 3))('v%i matches kafkajs', async (version) => {
    const body = await kafkajsRequestBody('syncGroup', version, {
      groupId: 'g',
      generationId: 3,
      memberId: 'm-1',
      groupAssignment: [{ memberId: 'm-1', memberAssignment: Buffer.from([4, 5]) }],
    });
    expect(decodeRequest(SyncGroup, version, body)).toEqual({
      groupId: 'g',
      generationId: 3,
      memberId: 'm-1',
      groupInstanceId: null,
      assignments: [{ memberId: 'm-1', assignment: Buffer.from([4, 5]) }],
    });
    const decoded = await kafkajsDecode('syncGroup', SyncGroup, version, { errorCode: 0, assignment: Buffer.from([6]) });
    expect(decoded).toMatchObject({ errorCode: 0, memberAssignment: Buffer.from([6]) });
  });
});

describe('Heartbeat', () => {
  it.each(versions(0, 3))('v%i matches kafkajs', async (version) => {
    const body = await kafkajsRequestBody('heartbeat', version, { groupId: 'g', groupGenerationId: 2, memberId: 'm-1' });
    expect(decodeRequest(Heartbeat, version, body)).toEqual({ groupId: 'g', generationId: 2, memberId: 'm-1', groupInstanceId: null });
    expect(await kafkajsDecode('heartbeat', Heartbeat, version, { errorCode: 0 })).toMatchObject({ errorCode: 0 });
  });
});

describe('LeaveGroup', () => {
  it.each(versions(0, 2))('v%i matches kafkajs and reports the first member error at the top level', async (version) => {
    const body = await kafkajsRequestBody('leaveGroup', version, { groupId: 'g', memberId: 'm-1' });
    expect(decodeRequest(LeaveGroup, version, body)).toEqual({ groupId: 'g', members: [{ memberId: 'm-1', groupInstanceId: null }] });
    const decoded = await kafkajsDecode('leaveGroup', LeaveGroup, version, {
      errorCode: 0,
      members: [{ memberId: 'm-1', groupInstanceId: null, errorCode: 25 }],
    });
    expect(decoded).toMatchObject({ errorCode: 25 });
  });

  it('v3 matches kafkajs', async () => {
    const body = await kafkajsRequestBody('leaveGroup', 3, {
      groupId: 'g',
      members: [{ memberId: 'm-1' }, { memberId: 'm-2', groupInstanceId: 'i-2' }],
    });
    expect(decodeRequest(LeaveGroup, 3, body)).toEqual({
      groupId: 'g',
      members: [
        { memberId: 'm-1', groupInstanceId: null },
        { memberId: 'm-2', groupInstanceId: 'i-2' },
      ],
    });
    const decoded = await kafkajsDecode('leaveGroup', LeaveGroup, 3, {
      errorCode: 0,
      members: [{ memberId: 'm-1', groupInstanceId: null, errorCode: 0 }, { memberId: 'm-2', groupInstanceId: 'i-2', errorCode: 25 }],
    });
    expect(decoded).toMatchObject({
      errorCode: 0,
      members: [{ memberId: 'm-1', groupInstanceId: null, errorCode: 0 }, { memberId: 'm-2', groupInstanceId: 'i-2', errorCode: 25 }],
    });
  });
});

describe('OffsetCommit', () => {
  it.each(versions(0, 5))('v%i matches kafkajs', async (version) => {
    const body = await kafkajsRequestBody('offsetCommit', version, {
      groupId: 'g',
      groupGenerationId: 4,
      memberId: 'm-1',
      retentionTime: 1000,
      topics: [{ topic: 't', partitions: [{ partition: 1, offset: '12345678901', timestamp: 55, metadata: 'meta' }] }],
    });
    expect(decodeRequest(OffsetCommit, version, body)).toEqual({
      groupId: 'g',
      generationId: version >= 1 ? 4 : -1,
      memberId: version >= 1 ? 'm-1' : '',
      groupInstanceId: null,
      retentionTimeMs: version >= 2 && version <= 4 ? 1000 : -1,
      topics: [
        {
          name: 't',
          partitions: [{ partitionIndex: 1, committedOffset: 12345678901, committedLeaderEpoch: -1, commitTimestamp: version === 1 ? 55 : -1, committedMetadata: 'meta' }],
        },
      ],
    });
    const decoded = await kafkajsDecode('offsetCommit', OffsetCommit, version, {
      topics: [{ name: 't', partitions: [{ partitionIndex: 1, errorCode: 22 }] }],
    });
    expect(decoded).toMatchObject({ responses: [{ topic: 't', partitions: [{ partition: 1, errorCode: 22 }] }] });
  });

  it.each([6, 7])('v%i carries the leader epoch (and v7 the group instance id)', (version) => {
    const w = new Writer().string('g').int32(4).string('m-1');
    if (version >= 7) w.nullableString('instance-1');
    w.array([0], (t) => {
      t.string('t').array([0], (p) => {
        p.int32(2).int64(99).int32(5).nullableString(null);
      });
    });
    expect(decodeRequest(OffsetCommit, version, w.toBuffer())).toEqual({
      groupId: 'g',
      generationId: 4,
      memberId: 'm-1',
      groupInstanceId: version >= 7 ? 'instance-1' : null,
      retentionTimeMs: -1,
      topics: [{ name: 't', partitions: [{ partitionIndex: 2, committedOffset: 99, committedLeaderEpoch: 5, commitTimestamp: -1, committedMetadata: null }] }],
    });
    const expected = new Writer().int32(0).array([0], (t) => {
      t.string('t').array([0], (p) => {
        p.int32(2).int16(0);
      });
    });
    expect(encodeResponse(OffsetCommit, version, { topics: [{ name: 't', partitions: [{ partitionIndex: 2, errorCode: 0 }] }] })).toEqual(expected.toBuffer());
  });
});

describe('OffsetFetch', () => {
  const partition = { partitionIndex: 0, committedOffset: 12345678901, committedLeaderEpoch: 3, metadata: 'meta', errorCode: 0 };

  it.each(versions(1, 4))('v%i matches kafkajs', async (version) => {
    const body = await kafkajsRequestBody('offsetFetch', version, { groupId: 'g', topics: [{ topic: 't', partitions: [{ partition: 0 }, { partition: 2 }] }] });
    expect(decodeRequest(OffsetFetch, version, body)).toEqual({ groups: [{ groupId: 'g', memberId: null, memberEpoch: -1, topics: [{ name: 't', partitionIndexes: [0, 2] }] }] });
    const decoded = await kafkajsDecode('offsetFetch', OffsetFetch, version, { groups: [{ groupId: 'g', errorCode: 0, topics: [{ name: 't', partitions: [partition] }] }] });
    expect(decoded).toMatchObject({ responses: [{ topic: 't', partitions: [{ partition: 0, offset: '12345678901', metadata: 'meta', errorCode: 0 }] }] });
  });

  it('v2+ accepts null topics; v0-1 do not', () => {
    expect(decodeRequest(OffsetFetch, 2, new Writer().string('g').int32(-1).toBuffer())).toEqual({ groups: [{ groupId: 'g', memberId: null, memberEpoch: -1, topics: null }] });
    expect(() => OffsetFetch.decodeRequest(new Reader(new Writer().string('g').int32(-1).toBuffer()), 1)).toThrow(/null/);
  });

  it('v0 has the v1 layout and v5 adds the leader epoch', () => {
    const v0 = new Writer().array([0], (t) => {
      t.string('t').array([0], (p) => {
        p.int32(0).int64(12345678901).nullableString('meta').int16(0);
      });
    });
    expect(encodeResponse(OffsetFetch, 0, { groups: [{ groupId: 'g', errorCode: 0, topics: [{ name: 't', partitions: [partition] }] }] })).toEqual(v0.toBuffer());
    const v5 = new Writer().int32(0).array([0], (t) => {
      t.string('t').array([0], (p) => {
        p.int32(0).int64(12345678901).int32(3).nullableString('meta').int16(0);
      });
    });
    v5.int16(0);
    expect(encodeResponse(OffsetFetch, 5, { groups: [{ groupId: 'g', errorCode: 0, topics: [{ name: 't', partitions: [partition] }] }] })).toEqual(v5.toBuffer());
  });

  it('repeats a group-level error on every partition where the version has no top-level error', () => {
    const request = { groups: [{ groupId: 'g', memberId: null, memberEpoch: -1, topics: [{ name: 't', partitionIndexes: [0, 1] }] }] };
    expect(offsetFetchError(request, 1, 15).groups[0]!.topics[0]!.partitions.map((p) => p.errorCode)).toEqual([15, 15]);
    expect(offsetFetchError(request, 2, 15)).toEqual({ groups: [{ groupId: 'g', errorCode: 15, topics: [] }] });
  });
});

describe('DescribeGroups', () => {
  it.each(versions(0, 2))('v%i matches kafkajs', async (version) => {
    const body = await kafkajsRequestBody('describeGroups', version, { groupIds: ['a', 'b'] });
    expect(decodeRequest(DescribeGroups, version, body)).toEqual({ groups: ['a', 'b'] });
    const decoded = await kafkajsDecode('describeGroups', DescribeGroups, version, {
      groups: [
        {
          errorCode: 0,
          groupId: 'a',
          groupState: 'Stable',
          protocolType: 'consumer',
          protocolData: 'RoundRobinAssigner',
          members: [{ memberId: 'm-1', clientId: 'c', clientHost: '/127.0.0.1', memberMetadata: Buffer.from([1]), memberAssignment: Buffer.from([2]) }],
        },
      ],
    });
    expect(decoded).toMatchObject({
      groups: [
        {
          errorCode: 0,
          groupId: 'a',
          state: 'Stable',
          protocolType: 'consumer',
          protocol: 'RoundRobinAssigner',
          members: [{ memberId: 'm-1', clientId: 'c', clientHost: '/127.0.0.1', memberMetadata: Buffer.from([1]), memberAssignment: Buffer.from([2]) }],
        },
      ],
    });
  });
});

describe('ListGroups', () => {
  it.each(versions(0, 2))('v%i matches kafkajs', async (version) => {
    expect(decodeRequest(ListGroups, version, await kafkajsRequestBody('listGroups', version, undefined))).toEqual({ statesFilter: [], typesFilter: [] });
    const decoded = await kafkajsDecode('listGroups', ListGroups, version, { errorCode: 0, groups: [{ groupId: 'a', protocolType: 'consumer', groupState: 'Stable', groupType: 'classic' }] });
    expect(decoded).toMatchObject({ errorCode: 0, groups: [{ groupId: 'a', protocolType: 'consumer' }] });
  });
});

describe('DeleteGroups', () => {
  it.each(versions(0, 1))('v%i matches kafkajs', async (version) => {
    expect(decodeRequest(DeleteGroups, version, await kafkajsRequestBody('deleteGroups', version, ['a', 'b']))).toEqual({ groupsNames: ['a', 'b'] });
    const decoded = await kafkajsDecode('deleteGroups', DeleteGroups, version, {
      results: [
        { groupId: 'a', errorCode: 0 },
        { groupId: 'b', errorCode: 69 },
      ],
    });
    expect(decoded).toMatchObject({ results: [{ groupId: 'a', errorCode: 0 }, { groupId: 'b', errorCode: 69 }] });
  });
});
