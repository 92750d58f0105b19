import Database from 'better-sqlite3';
import pino from 'pino';
import { describe, expect, it, onTestFinished } from 'vitest';
import { NO_RESPONSE, type ApiRoute, type RequestContext } from '../protocol/api.js';
import { ApiKey } from '../protocol/api-keys.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { Writer } from '../protocol/writer.js';
import { topicDirectory } from '../testing/topic-directory.js';
import { GroupCoordinator } from './group-coordinator.js';
import { findCoordinator, groupRoutes } from './routes.js';

const self = { nodeId: 0, host: '127.0.0.1', port: 9092 };

function setup() {
  const db = new Database(':memory:');
  const coordinator = new GroupCoordinator({
    db,
    logger: pino({ level: 'silent' }),
    initialRebalanceDelayMs: 0,
    topicPartitionExists: (topic, partition) => topic === 't' && partition === 0,
    topics: topicDirectory(new Map([['t', 1]])),
  });
  onTestFinished(() => {
    coordinator.close();
    if (db.open) db.close();
  });
  const routes = new Map(groupRoutes(coordinator, () => self).map((r) => [r.definition.apiKey, r]));
  return { db, coordinator, routes };
}

function context(clientId: string | null = 'client'): RequestContext {
  return { connectionId: 1, clientId, clientHost: '/127.0.0.1', closed: new AbortController().signal };
}

/** Handles a request and encodes the answer, as the connection would; returns the encoded bytes. */
async function handle(route: ApiRoute, version: number, request: unknown, ctx = context()): Promise<{ response: any; bytes: Buffer }> {
  const response = await route.handle(request, version, ctx);
  expect(response).not.toBe(NO_RESPONSE);
  const writer = new Writer();
  route.definition.encodeResponse(writer, version, response);
  return { response, bytes: writer.toBuffer() };
}

describe('FindCoordinator', () => {
  it('points groups at this broker and refuses transactional ids', () => {
    expect(findCoordinator({ key: 'g', keyType: 0 }, self)).toEqual({ errorCode: 0, errorMessage: null, ...self });
    expect(findCoordinator({ key: 'tx', keyType: 1 }, self)).toEqual({
      errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE,
      errorMessage: 'transactions are not supported by this broker',
      nodeId: -1,
      host: '',
      port: -1,
    });
    expect(findCoordinator({ key: 'x', keyType: 7 }, self).errorCode).toBe(ErrorCode.INVALID_REQUEST);
  });
});

describe('groupRoutes', () => {
  it('serves every group API, each over the versions Kafka clients use', () => {
    const { routes } = setup();
    const served = [...routes.values()].map((r) => [r.definition.name, r.definition.minVersion, r.definition.maxVersion]);
    expect(served).toEqual([
      ['FindCoordinator', 0, 2],
      ['JoinGroup', 0, 5],
      ['SyncGroup', 0, 3],
      ['Heartbeat', 0, 3],
      ['LeaveGroup', 0, 3],
      ['OffsetCommit', 0, 9],
      ['OffsetFetch', 0, 9],
      ['DescribeGroups', 0, 2],
      ['ListGroups', 0, 5],
      ['ConsumerGroupHeartbeat', 0, 1],
      ['ConsumerGroupDescribe', 0, 0],
      ['DeleteGroups', 0, 1],
    ]);
  });

  it('answers a storage failure with UNKNOWN_SERVER_ERROR in the API shape instead of throwing', async () => {
    const { db, routes } = setup();
    db.close();
    const commit = {
      groupId: 'g',
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      retentionTimeMs: -1,
      topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: 1, committedLeaderEpoch: -1, commitTimestamp: -1, committedMetadata: null }] }],
    };
    const { response } = await handle(routes.get(ApiKey.OffsetCommit)!, 7, commit);
    expect(response).toEqual({ topics: [{ name: 't', partitions: [{ partitionIndex: 0, errorCode: ErrorCode.UNKNOWN_SERVER_ERROR }] }] });
    const fetchOne = { groups: [{ groupId: 'g', memberId: null, memberEpoch: -1, topics: [{ name: 't', partitionIndexes: [0] }] }] };
    expect((await handle(routes.get(ApiKey.OffsetFetch)!, 1, fetchOne)).response).toMatchObject({
      groups: [{ topics: [{ name: 't', partitions: [{ partitionIndex: 0, errorCode: ErrorCode.UNKNOWN_SERVER_ERROR }] }] }],
    });
    expect((await handle(routes.get(ApiKey.ListGroups)!, 2, { statesFilter: [], typesFilter: [] })).response).toEqual({ errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, groups: [] });
  });

  it('keeps answers encodable whatever the client sent: huge client ids, extreme offsets', async () => {
    const { routes } = setup();
    const join = routes.get(ApiKey.JoinGroup)!;
    const request = {
      groupId: 'g',
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: -5,
      memberId: '',
      groupInstanceId: null,
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: Buffer.alloc(0) }],
    };
    const { response } = await handle(join, 5, request, context('é'.repeat(16_000)));
    expect(response.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
    expect(Buffer.byteLength(response.memberId)).toBeLessThan(32_767);
    const joined = await handle(join, 5, { ...request, memberId: response.memberId }, context('é'.repeat(16_000)));
    expect(joined.response).toMatchObject({ errorCode: 0, generationId: 1, memberId: response.memberId });

    const commit = {
      groupId: 'admin',
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      retentionTimeMs: -1,
      topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: 2 ** 63, committedLeaderEpoch: -1, commitTimestamp: -1, committedMetadata: null }] }],
    };
    // Offsets are JS numbers in this broker: one beyond 2^53 would come back changed, so it is refused.
    expect((await handle(routes.get(ApiKey.OffsetCommit)!, 2, commit)).response.topics[0].partitions[0].errorCode).toBe(ErrorCode.INVALID_COMMIT_OFFSET_SIZE);
    const fetched = await handle(routes.get(ApiKey.OffsetFetch)!, 5, { groups: [{ groupId: 'admin', memberId: null, memberEpoch: -1, topics: null }] });
    expect(fetched.response.groups[0].topics).toEqual([]);
  });
});
