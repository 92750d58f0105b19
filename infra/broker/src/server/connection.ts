import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { ApiKey } from '../protocol/api-keys.js';
import { NO_RESPONSE, type ApiRoute, type RequestContext } from '../protocol/api.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { ApiVersions } from '../protocol/messages/api-versions.js';
import { ProtocolDecodeError, Reader } from '../protocol/reader.js';
import { ProtocolEncodeError, Writer } from '../protocol/writer.js';
import type { RequestCounts } from '../metrics/request-counts.js';
import { FrameDecoder } from './frame-decoder.js';

/**
 * One client connection. Requests are decoded and handled as they arrive, but responses leave strictly
 * in request order: each request takes a slot in a queue, and the queue is flushed from its head. So a
 * parked long-poll Fetch holds back the responses queued behind it, as Kafka does (kafka-python rejects
 * out-of-order correlation ids).
 *
 *   Request header v1  => api_key:INT16 api_version:INT16 correlation_id:INT32 client_id:NULLABLE_STRING
 *   Request header v2  => header v1 + TAGGED_FIELDS                 (flexible versions)
 *   Response header v0 => correlation_id:INT32
 *   Response header v1 => correlation_id:INT32 TAGGED_FIELDS         (flexible versions, not ApiVersions)
 *
 * Anything a client sends that cannot be understood closes this connection (after one log line) and
 * nothing else: the broker and other connections carry on.
 */
interface ResponseSlot {
  done: boolean;
  chunks: Buffer[] | null;
}

/** Pause reading from a client that does not read its responses, instead of buffering without bound. */
const MAX_PENDING_WRITE_BYTES = 64 * 1024 * 1024;

export interface ConnectionOptions {
  id: number;
  socket: Socket;
  routes: ReadonlyMap<number, ApiRoute>;
  maxRequestBytes: number;
  logger: Logger;
  /** Where each routed request is counted. */
  requests: RequestCounts;
  onClose: () => void;
}

export class Connection {
  private readonly decoder: FrameDecoder;
  private readonly queue: ResponseSlot[] = [];
  private readonly abort = new AbortController();
  private readonly context: { connectionId: number; clientId: string | null; clientHost: string; closed: AbortSignal };
  private readonly logger: Logger;
  private closed = false;

  constructor(private readonly options: ConnectionOptions) {
    this.decoder = new FrameDecoder(options.maxRequestBytes);
    this.logger = options.logger.child({ connection: options.id, remote: `${options.socket.remoteAddress}:${options.socket.remotePort}` });
    this.context = { connectionId: options.id, clientId: null, clientHost: clientHostOf(options.socket.remoteAddress), closed: this.abort.signal };
    const socket = options.socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => socket.resume());
    socket.on('error', (error) => this.logger.debug({ err: error }, 'socket error'));
    socket.on('close', () => this.onClosed());
  }

  /** Closes the connection; parked requests are abandoned. */
  close(): void {
    this.options.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    const { frames, invalid } = this.decoder.push(chunk);
    for (const frame of frames) {
      if (this.closed) return;
      this.handleFrame(frame);
    }
    if (invalid) this.reject(invalid.message);
  }

  private handleFrame(frame: Buffer): void {
    const reader = new Reader(frame);
    let apiKey = -1;
    let version = -1;
    try {
      apiKey = reader.int16();
      version = reader.int16();
      const correlationId = reader.int32();
      const clientId = reader.nullableString();
      this.context.clientId = clientId;
      const route = this.options.routes.get(apiKey);
      if (!route) return this.reject(`unknown api key ${apiKey}`);
      const definition = route.definition;
      this.options.requests.count(clientId, apiKey, definition.name);
      if (version < definition.minVersion || version > definition.maxVersion) {
        if (apiKey === ApiKey.ApiVersions) return this.respondUnsupportedApiVersions(correlationId, route);
        return this.reject(`${definition.name} v${version} is not supported (supported: v${definition.minVersion}-v${definition.maxVersion})`);
      }
      const flexible = definition.firstFlexibleVersion !== undefined && version >= definition.firstFlexibleVersion;
      if (flexible) reader.skipTaggedFields();
      const request = definition.decodeRequest(reader, version);
      const slot: ResponseSlot = { done: false, chunks: null };
      this.queue.push(slot);
      const encode = (response: unknown) => {
        if (response === NO_RESPONSE) return null;
        const body = new Writer();
        definition.encodeResponse(body, version, response);
        // ApiVersions always answers with header v0, so clients can read it before they know our versions.
        const taggedHeader = flexible && apiKey !== ApiKey.ApiVersions;
        return this.frame(correlationId, body, taggedHeader);
      };
      const result = route.handle(request, version, this.context as RequestContext);
      if (result instanceof Promise) {
        result
          .then((response) => this.complete(slot, encode(response)))
          .catch((error: unknown) => this.fail(definition.name, error));
      } else {
        this.complete(slot, encode(result));
      }
    } catch (error) {
      if (error instanceof ProtocolDecodeError) return this.reject(`malformed request (api key ${apiKey} v${version}): ${error.message}`);
      this.fail(`api key ${apiKey} v${version}`, error);
    }
  }

  private respondUnsupportedApiVersions(correlationId: number, route: ApiRoute): void {
    // Kafka answers an ApiVersions version it does not know with a v0 body and UNSUPPORTED_VERSION, so the
    // client can retry with a version from the list.
    const body = new Writer();
    route.definition.encodeResponse(body, 0, { errorCode: ErrorCode.UNSUPPORTED_VERSION, apiKeys: [{ apiKey: ApiKey.ApiVersions, minVersion: ApiVersions.minVersion, maxVersion: ApiVersions.maxVersion }] });
    const slot: ResponseSlot = { done: false, chunks: null };
    this.queue.push(slot);
    this.complete(slot, this.frame(correlationId, body, false));
  }

  private frame(correlationId: number, body: Writer, taggedHeader: boolean): Buffer[] {
    const chunks = body.toChunks();
    const headerSize = taggedHeader ? 9 : 8;
    const header = Buffer.allocUnsafe(headerSize);
    header.writeInt32BE(headerSize - 4 + body.length, 0);
    header.writeInt32BE(correlationId, 4);
    if (taggedHeader) header[8] = 0;
    return [header, ...chunks];
  }

  private complete(slot: ResponseSlot, chunks: Buffer[] | null): void {
    slot.done = true;
    slot.chunks = chunks;
    if (this.closed) return;
    const socket = this.options.socket;
    let head = this.queue[0];
    if (head === undefined || !head.done) return;
    socket.cork();
    while (head !== undefined && head.done) {
      this.queue.shift();
      for (const chunk of head.chunks ?? []) socket.write(chunk);
      head = this.queue[0];
    }
    socket.uncork();
    if (socket.writableLength > MAX_PENDING_WRITE_BYTES) socket.pause();
  }

  private reject(reason: string): void {
    if (this.closed) return;
    this.logger.warn({ clientId: this.context.clientId }, `closing connection: ${reason}`);
    this.closed = true;
    this.options.socket.destroy();
  }

  private fail(what: string, error: unknown): void {
    if (error instanceof ProtocolEncodeError) return this.reject(`cannot answer ${what}: ${error.message}`);
    if (this.closed) return;
    this.logger.error({ err: error, clientId: this.context.clientId }, `internal error while handling ${what}; closing connection`);
    this.closed = true;
    this.options.socket.destroy();
  }

  private onClosed(): void {
    this.closed = true;
    this.abort.abort();
    this.queue.length = 0;
    this.options.onClose();
  }
}

/**
 * A client's host as Kafka reports it (DescribeGroups' client_host): Java's InetAddress.toString() of the
 * peer, "/127.0.0.1", with an IPv4 peer shown as IPv4 even on a dual-stack socket.
 */
function clientHostOf(remoteAddress: string | undefined): string {
  if (remoteAddress === undefined) return '';
  return `/${remoteAddress.startsWith('::ffff:') ? remoteAddress.slice('::ffff:'.length) : remoteAddress}`;
}
