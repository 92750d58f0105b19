import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

/**
 * One Kafka API as this broker serves it: the version range it advertises, how a request body of a
 * given version is decoded and how a response body is encoded. Wire layouts are in each message file.
 */
export interface ApiDefinition<Request, Response> {
  readonly apiKey: number;
  readonly name: string;
  readonly minVersion: number;
  readonly maxVersion: number;
  /** First version using flexible encoding (request header v2, compact types, tagged fields), if any is served. */
  readonly firstFlexibleVersion?: number;
  decodeRequest(reader: Reader, version: number): Request;
  encodeResponse(writer: Writer, version: number, response: Response): void;
}

/** What a handler knows about the connection a request came in on. */
export interface RequestContext {
  readonly connectionId: number;
  readonly clientId: string | null;
  readonly clientHost: string;
  /** Aborted when the connection closes, so parked requests (long-poll fetches, joins) can let go. */
  readonly closed: AbortSignal;
}

/** Returned by a handler when the protocol says no response is sent (Produce with acks=0). */
export const NO_RESPONSE = Symbol('NO_RESPONSE');

export type ApiHandler<Request, Response> = (
  request: Request,
  version: number,
  context: RequestContext,
) => Response | typeof NO_RESPONSE | Promise<Response | typeof NO_RESPONSE>;

export interface ApiRoute {
  readonly definition: ApiDefinition<any, any>;
  readonly handle: ApiHandler<any, any>;
}

export function route<Request, Response>(
  definition: ApiDefinition<Request, Response>,
  handle: ApiHandler<Request, Response>,
): ApiRoute {
  return { definition, handle };
}
