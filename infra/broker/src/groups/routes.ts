import { route, type ApiDefinition, type ApiHandler, type ApiRoute } from '../protocol/api.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { DeleteGroups } from '../protocol/messages/delete-groups.js';
import { DescribeGroups } from '../protocol/messages/describe-groups.js';
import { FindCoordinator, type FindCoordinatorRequest, type FindCoordinatorResponse } from '../protocol/messages/find-coordinator.js';
import { Heartbeat } from '../protocol/messages/heartbeat.js';
import { JoinGroup } from '../protocol/messages/join-group.js';
import { LeaveGroup } from '../protocol/messages/leave-group.js';
import { ListGroups } from '../protocol/messages/list-groups.js';
import { OffsetCommit } from '../protocol/messages/offset-commit.js';
import { OffsetFetch, offsetFetchError } from '../protocol/messages/offset-fetch.js';
import { SyncGroup } from '../protocol/messages/sync-group.js';
import { ConsumerGroupDescribe } from '../protocol/messages/consumer-group-describe.js';
import { ConsumerGroupHeartbeat } from '../protocol/messages/consumer-group-heartbeat.js';
import type { GroupCoordinator } from './group-coordinator.js';

/** Where clients find this broker: the answer to FindCoordinator for groups. */
export interface CoordinatorAddress {
  nodeId: number;
  host: string;
  port: number;
}

const KEY_TYPE_GROUP = 0;
const KEY_TYPE_TRANSACTION = 1;

/**
 * The group APIs as broker routes. Each handler is guarded: a failure inside the coordinator (a bug, or
 * SQLite refusing a write) is logged and answered with UNKNOWN_SERVER_ERROR in the API's own shape,
 * instead of escaping to the connection.
 */
export function groupRoutes(coordinator: GroupCoordinator, self: () => CoordinatorAddress): ApiRoute[] {
  const guarded = <Req, Res>(
    definition: ApiDefinition<Req, Res>,
    handle: ApiHandler<Req, Res>,
    failed: (request: Req, version: number, errorCode: number) => Res,
  ): ApiRoute =>
    route(definition, (request, version, context) => {
      const fail = (error: unknown): Res => {
        coordinator.logger.error({ err: error, api: definition.name, version }, 'group coordinator failed on a request');
        return failed(request, version, ErrorCode.UNKNOWN_SERVER_ERROR);
      };
      try {
        const result = handle(request, version, context);
        return result instanceof Promise ? result.catch(fail) : result;
      } catch (error) {
        return fail(error);
      }
    });

  return [
    guarded(FindCoordinator, (request) => findCoordinator(request, self()), (_request, _version, errorCode) => ({
      errorCode,
      errorMessage: null,
      nodeId: -1,
      host: '',
      port: -1,
    })),
    guarded(
      JoinGroup,
      (request, version, context) => coordinator.joinGroup(request, version >= 4, context),
      (request, _version, errorCode) => ({ errorCode, generationId: -1, protocolName: '', leader: '', memberId: request.memberId, members: [] }),
    ),
    guarded(
      SyncGroup,
      (request, _version, context) => coordinator.syncGroup(request, context),
      (_request, _version, errorCode) => ({ errorCode, assignment: Buffer.alloc(0) }),
    ),
    guarded(Heartbeat, (request) => coordinator.heartbeat(request), (_request, _version, errorCode) => ({ errorCode })),
    guarded(LeaveGroup, (request) => coordinator.leaveGroup(request), (_request, _version, errorCode) => ({ errorCode, members: [] })),
    guarded(OffsetCommit, (request, version) => coordinator.commitOffsets(request, version), (request, _version, errorCode) => ({
      topics: request.topics.map((topic) => ({
        name: topic.name,
        partitions: topic.partitions.map((partition) => ({ partitionIndex: partition.partitionIndex, errorCode })),
      })),
    })),
    guarded(OffsetFetch, (request, version) => ({ groups: request.groups.map((group) => coordinator.fetchOffsets(group, version)) }), offsetFetchError),
    guarded(DescribeGroups, (request) => coordinator.describeGroups(request), (request, _version, errorCode) => ({
      groups: request.groups.map((groupId) => ({ errorCode, groupId, groupState: '', protocolType: '', protocolData: '', members: [] })),
    })),
    guarded(ListGroups, (request) => coordinator.listGroups(request), (_request, _version, errorCode) => ({ errorCode, groups: [] })),
    guarded(
      ConsumerGroupHeartbeat,
      (request, version, context) => coordinator.consumerGroupHeartbeat(request, version, context),
      (_request, _version, errorCode) => ({ errorCode, errorMessage: null, memberId: null, memberEpoch: 0, heartbeatIntervalMs: 0, assignment: null }),
    ),
    guarded(ConsumerGroupDescribe, (request) => coordinator.consumerGroupDescribe(request), (request, _version, errorCode) => ({
      groups: request.groupIds.map((groupId) => ({ errorCode, errorMessage: null, groupId, groupState: '', groupEpoch: 0, assignmentEpoch: 0, assignorName: '', members: [] })),
    })),
    guarded(DeleteGroups, (request) => coordinator.deleteGroups(request), (request, _version, errorCode) => ({
      results: request.groupsNames.map((groupId) => ({ groupId, errorCode })),
    })),
  ];
}

/** Every group is coordinated by this (only) broker; transactions are not implemented. */
export function findCoordinator(request: FindCoordinatorRequest, self: CoordinatorAddress): FindCoordinatorResponse {
  if (request.keyType === KEY_TYPE_GROUP) {
    return { errorCode: ErrorCode.NONE, errorMessage: null, nodeId: self.nodeId, host: self.host, port: self.port };
  }
  const errorMessage =
    request.keyType === KEY_TYPE_TRANSACTION ? 'transactions are not supported by this broker' : `unknown coordinator key type ${request.keyType}`;
  return {
    errorCode: request.keyType === KEY_TYPE_TRANSACTION ? ErrorCode.COORDINATOR_NOT_AVAILABLE : ErrorCode.INVALID_REQUEST,
    errorMessage,
    nodeId: -1,
    host: '',
    port: -1,
  };
}
