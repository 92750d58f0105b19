import { createRequire } from 'node:module';
import { CompressionTypes, Partitioners, type Kafka, type Message } from 'kafkajs';
import type { BrokerProcess } from './broker-process.js';
import { CLIENT_ID } from './kafkajs-client.js';
import { startSpan } from './span.js';

/**
 * kafkajs as a producer, and kafkajs's own ceiling: the same Produce requests encoded with kafkajs's
 * internal encoders and never sent. produce msg/s ÷ encode-only msg/s is the share of the client's
 * encoding speed that survives the trip through the broker.
 *
 * The two alternate in rounds, so that load from elsewhere on the machine (which comes and goes)
 * weighs on both sides of the ratio alike.
 */
export interface ProduceWorkload {
  topic: string;
  partitions: number;
  valueBytes: number;
  recordsPerSend: number;
  /** Timed sends (and as many timed encodes); each carries `recordsPerSend` records. */
  sends: number;
  /** Untimed sends and encodes before the clock starts, so V8 has compiled the hot paths. */
  warmupSends: number;
  /** producer.send calls in flight at once. */
  concurrency: number;
  /** Produce and encode-only alternate this many times. */
  rounds: number;
  /** Nothing is started after this much time; the figures then cover what ran. */
  timeLimitMs: number;
}

/** Totals over all rounds; CPU figures are shares of one core over `seconds`. */
export interface Measured {
  messages: number;
  seconds: number;
  clientCpu: number;
  brokerCpu?: number;
}

export interface ProduceComparison {
  produced: Measured;
  encoded: Measured;
  /** Records the warm-up sent; the topic holds these plus `produced.messages`. */
  warmupMessages: number;
}

export async function produceAndEncodeWithKafkajs(kafka: Kafka, broker: BrokerProcess, workload: ProduceWorkload): Promise<ProduceComparison> {
  const deadline = performance.now() + workload.timeLimitMs;
  const messages = Array.from({ length: workload.recordsPerSend }, (): Message => ({ value: Buffer.alloc(workload.valueBytes, 'x') }));
  const encode = produceRequestEncoder(workload, messages);
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  await producer.connect();
  try {
    const send = async () => {
      await producer.send({ topic: workload.topic, acks: -1, compression: CompressionTypes.None, messages });
    };
    const warmupSends = await runBounded(workload.warmupSends, workload.concurrency, deadline, send);
    await runBounded(workload.warmupSends, 1, deadline, encode);

    const produced = { messages: 0, seconds: 0, clientCpuSeconds: 0, brokerCpuSeconds: 0 };
    const encoded = { messages: 0, seconds: 0, clientCpuSeconds: 0 };
    for (let round = 0; round < workload.rounds; round++) {
      const sendsThisRound = Math.floor(workload.sends / workload.rounds) + (round < workload.sends % workload.rounds ? 1 : 0);

      const timer = startSpan(broker, 'this-process');
      const sent = await runBounded(sendsThisRound, workload.concurrency, deadline, send);
      const span = await timer.stop();
      produced.messages += sent * workload.recordsPerSend;
      produced.seconds += span.seconds;
      produced.clientCpuSeconds += (span.clientCpu ?? 0) * span.seconds;
      produced.brokerCpuSeconds += span.brokerCpu * span.seconds;

      const cpuStart = process.cpuUsage();
      const start = process.hrtime.bigint();
      const done = await runBounded(sendsThisRound, 1, deadline, encode);
      const cpu = process.cpuUsage(cpuStart);
      encoded.messages += done * workload.recordsPerSend;
      encoded.seconds += Number(process.hrtime.bigint() - start) / 1e9;
      encoded.clientCpuSeconds += (cpu.user + cpu.system) / 1e6;
    }
    return {
      produced: { messages: produced.messages, seconds: produced.seconds, clientCpu: produced.clientCpuSeconds / produced.seconds, brokerCpu: produced.brokerCpuSeconds / produced.seconds },
      encoded: { messages: encoded.messages, seconds: encoded.seconds, clientCpu: encoded.clientCpuSeconds / encoded.seconds },
      warmupMessages: warmupSends * workload.recordsPerSend,
    };
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
 * Returns a function that encodes one Produce request like those `producer.send` makes of `messages`:
 * the records spread round-robin over the partitions, as kafkajs's DefaultPartitioner does with keyless
 * messages. Only encoding runs (record batches, CRC, request frame), not partitioning or grouping, so
 * this is a ceiling for kafkajs, not an estimate of it.
 */
function produceRequestEncoder(workload: ProduceWorkload, messages: Message[]): () => Promise<void> {
  const topicData: TopicData[] = [
    {
      topic: workload.topic,
      partitions: Array.from({ length: workload.partitions }, (_, partition) => ({
        partition,
        messages: messages.filter((_, i) => i % workload.partitions === partition),
      })),
    },
  ];
  const valueBytes = messages.length * workload.valueBytes;
  let correlationId = 0;
  return async () => {
    const request = produceRequestV7({ acks: -1, timeout: 30_000, compression: CompressionTypes.None, topicData });
    const frame = await encodeRequestFrame({ correlationId: correlationId++, clientId: CLIENT_ID, request });
    // Guards the ceiling against a lazy encoder: the request must really have been serialized.
    if (frame.size() < valueBytes) throw new Error(`encode-only produced a ${frame.size()}-byte request for ${valueBytes} bytes of values`);
  };
}

/**
 * Runs `task` `count` times with up to `concurrency` calls in flight; starts no call after `deadline`
 * (a performance.now() time). Returns how many calls ran.
 */
async function runBounded(count: number, concurrency: number, deadline: number, task: () => Promise<void>): Promise<number> {
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
