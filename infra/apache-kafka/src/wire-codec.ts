/**
 * Kafka's own request and response codecs, through ../java/WireCodec.java in one long-running JVM: a
 * request written as JSON (the field names of Kafka's message specs, camelCase) is encoded for a version
 * as Kafka's clients send it, and a response body is decoded as they read it. The differential
 * conformance suite sends the same bytes to two brokers and compares what Kafka's decoder makes of each.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { PACKAGE_DIR, kafkaClasspath } from './classpath.js';

export interface EncodedRequest {
  body: Buffer;
  /** 1 = client id only, 2 = client id and tagged fields (flexible versions). */
  requestHeaderVersion: number;
  /** 0 = correlation id only, 1 = with tagged fields. */
  responseHeaderVersion: number;
}

export class WireCodec {
  private readonly pending: Array<{ resolve: (answer: Record<string, unknown>) => void; reject: (error: Error) => void }> = [];
  private stderr = '';

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const waiter = this.pending.shift();
      if (waiter === undefined) return;
      try {
        waiter.resolve(JSON.parse(line) as Record<string, unknown>);
      } catch (error) {
        waiter.reject(error as Error);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString('utf8')).slice(-20_000)));
    child.once('exit', (code) => {
      for (const waiter of this.pending.splice(0)) waiter.reject(new Error(`WireCodec exited (${code}):\n${this.stderr}`));
    });
  }

  static async start(): Promise<WireCodec> {
    const source = join(PACKAGE_DIR, 'java', 'WireCodec.java');
    const child = spawn('java', ['-Xmx256m', '-XX:+UseSerialGC', '-cp', kafkaClasspath(), source], { stdio: ['pipe', 'pipe', 'pipe'] });
    const codec = new WireCodec(child);
    // The first answer means the source compiled and the service runs.
    await codec.range(18);
    return codec;
  }

  private call(request: Record<string, unknown>): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.child.stdin.write(`${JSON.stringify(request)}\n`);
    });
  }

  private async answer(request: Record<string, unknown>): Promise<Record<string, unknown>> {
    const answer = await this.call(request);
    if (typeof answer.error === 'string') throw new Error(`WireCodec ${JSON.stringify(request).slice(0, 300)}: ${answer.error}`);
    return answer;
  }

  /** The versions of `apiKey` this Kafka release knows (what its broker would serve). */
  async range(apiKey: number): Promise<{ min: number; max: number }> {
    const answer = await this.answer({ op: 'range', apiKey });
    return { min: answer.min as number, max: answer.max as number };
  }

  async encode(apiKey: number, version: number, data: unknown): Promise<EncodedRequest> {
    const answer = await this.answer({ op: 'encode', apiKey, version, data });
    return {
      body: Buffer.from(answer.body as string, 'base64'),
      requestHeaderVersion: answer.requestHeaderVersion as number,
      responseHeaderVersion: answer.responseHeaderVersion as number,
    };
  }

  /** The response as Kafka's client reads it; `trailing` counts bytes after the message (should be 0). */
  async decode(apiKey: number, version: number, body: Buffer): Promise<{ data: Record<string, unknown>; trailing: number }> {
    const answer = await this.answer({ op: 'decode', apiKey, version, body: body.toString('base64') });
    return { data: answer.data as Record<string, unknown>, trailing: answer.trailing as number };
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin.end();
    await exited;
  }
}
