import { connect, type Socket } from 'node:net';
import { FrameDecoder } from '../server/frame-decoder.js';
import { Reader } from '../protocol/reader.js';
import { Writer } from '../protocol/writer.js';

/**
 * A bare Kafka-protocol client for tests that need to send exactly the bytes they choose (a retried
 * batch, a broken frame). Responses are matched by correlation id.
 */
export class RawKafkaClient {
  private nextCorrelationId = 1;
  private readonly pending = new Map<number, (body: Reader) => void>();
  private readonly decoder = new FrameDecoder(256 * 1024 * 1024);

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const frame of this.decoder.push(chunk).frames) {
        const reader = new Reader(frame);
        const correlationId = reader.int32();
        this.pending.get(correlationId)?.(reader);
        this.pending.delete(correlationId);
      }
    });
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawKafkaClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, host, () => resolve(new RawKafkaClient(socket)));
      socket.once('error', reject);
    });
  }

  /** Sends one request (header v1) and resolves with a reader positioned at the response body. */
  request(apiKey: number, version: number, writeBody: (w: Writer) => void): Promise<Reader> {
    const correlationId = this.nextCorrelationId++;
    const body = new Writer().int16(apiKey).int16(version).int32(correlationId).nullableString('raw-test');
    writeBody(body);
    const payload = body.toBuffer();
    const size = Buffer.alloc(4);
    size.writeInt32BE(payload.length);
    return new Promise((resolve, reject) => {
      this.pending.set(correlationId, resolve);
      this.socket.once('close', () => reject(new Error('connection closed by the broker')));
      this.socket.write(Buffer.concat([size, payload]));
    });
  }

  close(): void {
    this.socket.destroy();
  }
}
