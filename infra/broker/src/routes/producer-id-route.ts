import { route, type ApiRoute } from '../protocol/api.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { InitProducerId } from '../protocol/messages/init-producer-id.js';
import type { LogManager } from '../log/log-manager.js';

/**
 * InitProducerId for idempotent producers: a fresh, durable producer id with epoch 0. Transactional ids
 * are refused (transactions are out of scope and their APIs are not advertised).
 */
export function producerIdRoute(logs: LogManager): ApiRoute {
  return route(InitProducerId, (request) => {
    if (request.transactionalId !== null) return { errorCode: ErrorCode.INVALID_REQUEST, producerId: -1, producerEpoch: -1 };
    return { errorCode: ErrorCode.NONE, producerId: logs.allocateProducerId(), producerEpoch: 0 };
  });
}
