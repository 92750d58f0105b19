/**
 * A bare Kafka-protocol connection for the differential suite: sends a request body exactly as given, with
 * the request header version the API version calls for, and hands back the response body with its header
 * removed. Kafka and the embedded broker both answer an unparseable request by closing the connection; that
 * is a result here (`closed`), not an error. Responses are matched by correlation id, so requests that
 * park on the broker (a JoinGroup waiting for a rebalance) can be left in flight while others go out.
 */
import { connect, type Socket } from 'node:net';

export type WireResult = { closed: false; body: Buffer } | { closed: true };

export class WireConnection {
  private nextCorrelationId = 1;
  private buffered = Buffer.alloc(0);
  private readonly pending = new Map<number, { responseHeaderVersion: number; resolve: (result: WireResult) => void }>();
  private isClosed = false;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      while (this.buffered.length >= 4 && this.buffered.length >= 4 + this.buffered.readInt32BE(0)) {
        const size = this.buffered.readInt32BE(0);
        const frame = this.buffered.subarray(4, 4 + size);
        this.buffered = this.buffered.subarray(4 + size);
        const correlationId = frame.readInt32BE(0);
        const waiter = this.pending.get(correlationId);
        if (waiter === undefined) continue;
        this.pending.delete(correlationId);
        let at = 4;
        // Header v1 ends with tagged fields; these tests never receive any, so the count is one byte (0).
        if (waiter.responseHeaderVersion >= 1) at += 1 + skipTaggedFields(frame, at);
        waiter.resolve({ closed: false, body: Buffer.from(frame.subarray(at)) });
      }
    });
    const onClose = () => {
      this.isClosed = true;
      for (const waiter of this.pending.values()) waiter.resolve({ closed: true });
      this.pending.clear();
    };
    socket.on('close', onClose);
    socket.on('error', () => undefined);
  }

  static open(host: string, port: number): Promise<WireConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, host, () => resolve(new WireConnection(socket)));
      socket.once('error', reject);
    });
  }

  get closed(): boolean {
    return this.isClosed;
  }

  send(apiKey: number, version: number, body: Buffer, headers: { requestHeaderVersion: number; responseHeaderVersion: number }, clientId = 'shoal-differential'): Promise<WireResult> {
    if (this.isClosed) return Promise.resolve({ closed: true });
    const correlationId = this.nextCorrelationId++;
    const client = Buffer.from(clientId, 'utf8');
    const header = Buffer.alloc(10 + client.length + (headers.requestHeaderVersion >= 2 ? 1 : 0));
    header.writeInt16BE(apiKey, 0);
    header.writeInt16BE(version, 2);
    header.writeInt32BE(correlationId, 4);
    header.writeInt16BE(client.length, 8);
    client.copy(header, 10);
    // Header v2: no tagged fields (a zero count).
    if (headers.requestHeaderVersion >= 2) header.writeUInt8(0, 10 + client.length);
    const size = Buffer.alloc(4);
    size.writeInt32BE(header.length + body.length);
    return new Promise((resolve) => {
      this.pending.set(correlationId, { responseHeaderVersion: headers.responseHeaderVersion, resolve });
      this.socket.write(Buffer.concat([size, header, body]));
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Bytes taken by the tagged fields after the count byte at `at` (whose own byte the caller counts). */
function skipTaggedFields(frame: Buffer, at: number): number {
  const count = frame.readUInt8(at);
  if (count === 0) return 0;
  throw new Error(`response header with ${count} tagged fields: not expected from either broker`);
}
