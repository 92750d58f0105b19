import { connect, type Socket } from 'node:net';
import { ApiKey } from '../protocol/api-keys.js';
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

  /** Metadata v4 for one topic with auto-creation allowed: makes sure the topic exists. */
  async ensureTopic(topic: string): Promise<void> {
    await this.request(ApiKey.Metadata, 4, (w) => void w.array([topic], (w, t) => void w.string(t)).bool(true));
  }

  /** Produce (v3 by default) of one batch to one partition; resolves with that partition's result. */
  async produce(topic: string, partition: number, batch: Buffer, options: { acks?: number; version?: number } = {}): Promise<{ errorCode: number; baseOffset: number }> {
    const response = await this.request(ApiKey.Produce, options.version ?? 3, (w) => {
      w.nullableString(null).int16(options.acks ?? -1).int32(5000);
      w.array([topic], (w, name) => void w.string(name).array([batch], (w, records) => void w.int32(partition).nullableBytes(records)));
    });
    response.int32(); // topics
    response.string();
    response.int32(); // partitions
    response.int32(); // index
    return { errorCode: response.int16(), baseOffset: response.int64() };
  }

  /** ListOffsets v1 for one partition (timestamp -1 = log end, -2 = log start). */
  async listOffset(topic: string, partition: number, timestamp: number): Promise<{ errorCode: number; offset: number }> {
    const response = await this.request(ApiKey.ListOffsets, 1, (w) => {
      w.int32(-1);
      w.array([topic], (w, name) => void w.string(name).array([partition], (w, p) => void w.int32(p).int64(timestamp)));
    });
    response.int32(); // topics
    response.string();
    response.int32(); // partitions
    response.int32(); // index
    const errorCode = response.int16();
    response.int64(); // timestamp
    return { errorCode, offset: response.int64() };
  }

  close(): void {
    this.socket.destroy();
  }
}
