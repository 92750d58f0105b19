import { createRequire } from 'node:module';
import { CompressionTypes, Partitioners, type Kafka, type Message } from 'kafkajs';
import type { BrokerProcess } from './broker-process.js';
import { CLIENT_ID } from './kafkajs-client.js';
import { startSpan, type Span } from './span.js';

/**
 * kafkajs as a producer, and kafkajs's own ceiling: the same Produce requests encoded with kafkajs's
 * internal encoders and never sent. produce msg/s ÷ encode-only msg/s is the share of the client's
 * encoding speed that survives the trip through the broker.
 */
export interface ProduceWorkload {
  topic: string;
  partitions: number;
  valueBytes: number;
  recordsPerSend: number;
  /** Timed sends; each carries `recordsPerSend` records. */
  sends: number;
  /** Untimed sends before the clock starts, so V8 has compiled the hot paths on both sides. */
  warmupSends: number;
  /** producer.send calls in flight at once. */
  concurrency: number;
  /** No send is started after this much time; the figures then cover the sends that ran. */
  timeLimitMs: number;
}

export interface ProduceResult {
  messages: number;
  span: Span;
}

export function benchMessages(recordsPerSend: number, valueBytes: number): Message[] {
  const value = Buffer.alloc(valueBytes, 'x');
  return Array.from({ length: recordsPerSend }, () => ({ value }));
}

export async function produceWithKafkajs(kafka: Kafka, broker: BrokerProcess, workload: ProduceWorkload): Promise<ProduceResult> {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  await producer.connect();
  try {
    const messages = benchMessages(workload.recordsPerSend, workload.valueBytes);
    const send = async () => {
      await producer.send({ topic: workload.topic, acks: -1, compression: CompressionTypes.None, messages });
    };
    await runBounded(workload.warmupSends, workload.concurrency, workload.timeLimitMs, send);
    const timer = startSpan(broker, 'this-process');
    const sends = await runBounded(workload.sends, workload.concurrency, workload.timeLimitMs, send);
    return { messages: sends * workload.recordsPerSend, span: await timer.stop() };
  } finally {
    await producer.disconnect();
  }
}

// kafkajs internals (kafkajs 2.2.4): Produce v7 is what kafkajs negotiates with this broker, and
// protocol/request wraps a request body in the frame the connection writes (size, header, body).
interface KafkajsRequest {
  apiKey: number;
  apiVersion: number;
  encode(): Promise<unknown>;
}
interface TopicData {
  topic: string;
  partitions: { partition: number; messages: Message[] }[];
}
type ProduceRequestV7 = (args: { acks: number; timeout: number; compression: number; topicData: TopicData[] }) => KafkajsRequest;
type EncodeRequestFrame = (args: { correlationId: number; clientId: string; request: KafkajsRequest }) => Promise<{ size(): number }>;

const require = createRequire(import.meta.url);
const produceRequestV7 = require('kafkajs/src/protocol/requests/produce/v7/request') as ProduceRequestV7;
const encodeRequestFrame = require('kafkajs/src/protocol/request') as EncodeRequestFrame;

/**
 * Encodes the same Produce requests `produceWithKafkajs` sends: `recordsPerSend` records spread
 * round-robin over the partitions, as kafkajs's DefaultPartitioner does with keyless messages. Only the
 * encoding is timed (record batches, CRC, request frame), not partitioning or grouping, so this is a
 * ceiling for kafkajs, not an estimate of it.
 */
export async function encodeOnlyWithKafkajs(workload: ProduceWorkload): Promise<{ messages: number; seconds: number; clientCpu: number }> {
  const messages = benchMessages(workload.recordsPerSend, workload.valueBytes);
  const topicData: TopicData[] = [
    {
      topic: workload.topic,
      partitions: Array.from({ length: workload.partitions }, (_, partition) => ({
        partition,
        messages: messages.filter((_, i) => i % workload.partitions === partition),
      })),
    },
  ];
  let correlationId = 0;
  let frameBytes = 0;
  const encode = async () => {
    const request = produceRequestV7({ acks: -1, timeout: 30_000, compression: CompressionTypes.None, topicData });
    const frame = await encodeRequestFrame({ correlationId: correlationId++, clientId: CLIENT_ID, request });
    frameBytes += frame.size();
  };
  await runBounded(workload.warmupSends, 1, workload.timeLimitMs, encode);
  const cpuStart = process.cpuUsage();
  const start = process.hrtime.bigint();
  const sends = await runBounded(workload.sends, 1, workload.timeLimitMs, encode);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpuStart);
  if (frameBytes < sends * workload.recordsPerSend * workload.valueBytes) throw new Error('kafkajs encoded less than the record values: encode-only is not measuring what it claims');
  return { messages: sends * workload.recordsPerSend, seconds, clientCpu: (cpu.user + cpu.system) / 1e6 / seconds };
}

/**
 * Runs `task` `count` times with up to `concurrency` calls in flight; starts no call once `timeLimitMs`
 * has passed. Returns how many calls ran.
 */
export async function runBounded(count: number, concurrency: number, timeLimitMs: number, task: () => Promise<void>): Promise<number> {
  const deadline = performance.now() + timeLimitMs;
  let started = 0;
  const worker = async () => {
    while (started < count && performance.now() < deadline) {
      started++;
      await task();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return started;
}
