import { setTimeout as sleep } from 'node:timers/promises';
import { CompressionTypes, Partitioners, type Kafka } from 'kafkajs';
import type { BrokerProcess } from './broker-process.js';
import { startSpan, type Span, type SpanTimer } from './span.js';

/** kafkajs as a consumer: throughput over a pre-filled topic, and produce→consume latency. */

export interface ConsumeResult {
  messages: number;
  span: Span;
  complete: boolean;
}

/**
 * Reads `topic` from the beginning with a new group until `expected` records have arrived. The clock
 * starts when the consumer has joined its group, so the group's initial rebalance delay is not counted.
 */
export async function consumeWithKafkajs(
  kafka: Kafka,
  broker: BrokerProcess,
  options: { topic: string; groupId: string; expected: number; timeLimitMs: number },
): Promise<ConsumeResult> {
  const consumer = kafka.consumer({ groupId: options.groupId });
  let timer: SpanTimer | undefined;
  let received = 0;
  let allArrived!: () => void;
  const arrived = new Promise<void>((resolve) => (allArrived = resolve));
  if (options.expected <= 0) allArrived();
  consumer.on(consumer.events.GROUP_JOIN, () => {
    timer ??= startSpan(broker, 'this-process');
  });
  try {
    await consumer.connect();
    await consumer.subscribe({ topic: options.topic, fromBeginning: true });
    const started = startSpan(broker, 'this-process');
    await consumer.run({
      eachBatch: async ({ batch }) => {
        received += batch.messages.length;
        if (received >= options.expected) allArrived();
      },
    });
    const complete = await settlesWithin(arrived, options.timeLimitMs);
    // Without a GROUP_JOIN (it cannot be missed, but the figures must not be NaN if it is) count from run().
    const span = await (timer ?? started).stop();
    return { messages: received, span, complete };
  } finally {
    await consumer.disconnect();
  }
}

export interface LatencyOptions {
  topic: string;
  groupId: string;
  valueBytes: number;
  ratePerSecond: number;
  warmupMs: number;
  measureMs: number;
  /** The consumer's long-poll wait; the broker answers as soon as an append lands, so this is an upper bound. */
  maxWaitTimeInMs: number;
  /** How long to wait for the last measured messages after the last send. */
  drainTimeoutMs: number;
}

export interface LatencyResult {
  /** Send to receive, ms, measured messages only, ascending. */
  endToEndMs: number[];
  /** producer.send call to its acknowledgement, ms, measured messages only, ascending. */
  ackMs: number[];
  sent: number;
}

const WARMUP = 0;
const MEASURED = 1;

/**
 * One message per producer.send at a steady rate, consumed by a kafkajs consumer in this process; the
 * value carries its phase, sequence number and send time:
 *
 *   value => phase:INT8 sequence:INT32 sent_at_ns:INT64 (process.hrtime.bigint) padding
 */
export async function measureLatencyWithKafkajs(kafka: Kafka, options: LatencyOptions): Promise<LatencyResult> {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  const consumer = kafka.consumer({ groupId: options.groupId, maxWaitTimeInMs: options.maxWaitTimeInMs });
  const measuredCount = Math.floor((options.ratePerSecond * options.measureMs) / 1000);
  // Lowered to the number actually sent if the send loop hits its deadline.
  let expected = measuredCount;
  const endToEndMs: number[] = [];
  const ackMs: number[] = [];
  const seen = new Set<number>();
  let allArrived!: () => void;
  const arrived = new Promise<void>((resolve) => (allArrived = resolve));

  try {
    await Promise.all([producer.connect(), consumer.connect()]);
    await consumer.subscribe({ topic: options.topic, fromBeginning: true });
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    await consumer.run({
      eachMessage: async ({ message }) => {
        const receivedAt = process.hrtime.bigint();
        const value = message.value;
        if (value === null || value.length < 13 || value[0] !== MEASURED) return;
        const sequence = value.readInt32BE(1);
        if (seen.has(sequence)) return;
        seen.add(sequence);
        endToEndMs.push(Number(receivedAt - value.readBigInt64BE(5)) / 1e6);
        if (seen.size >= expected) allArrived();
      },
    });
    if (!(await settlesWithin(joined, 30_000))) throw new Error('latency consumer did not join its group within 30 s');

    const sendAtRate = async (phase: number, count: number): Promise<number> => {
      const intervalMs = 1000 / options.ratePerSecond;
      const start = performance.now();
      // A broker that answers slowly shortens the run instead of stretching it without bound.
      const deadline = start + 2 * count * intervalMs + options.drainTimeoutMs;
      let sequence = 0;
      for (; sequence < count && performance.now() < deadline; sequence++) {
        const due = start + sequence * intervalMs;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
        const value = Buffer.alloc(Math.max(13, options.valueBytes), 'x');
        value[0] = phase;
        value.writeInt32BE(sequence, 1);
        const sentAt = process.hrtime.bigint();
        value.writeBigInt64BE(sentAt, 5);
        await producer.send({ topic: options.topic, acks: -1, compression: CompressionTypes.None, messages: [{ value }] });
        if (phase === MEASURED) ackMs.push(Number(process.hrtime.bigint() - sentAt) / 1e6);
      }
      return sequence;
    };
    await sendAtRate(WARMUP, Math.floor((options.ratePerSecond * options.warmupMs) / 1000));
    expected = await sendAtRate(MEASURED, measuredCount);
    if (seen.size >= expected) allArrived();
    await settlesWithin(arrived, options.drainTimeoutMs);
    return { endToEndMs: endToEndMs.sort((a, b) => a - b), ackMs: ackMs.sort((a, b) => a - b), sent: expected };
  } finally {
    await Promise.all([producer.disconnect(), consumer.disconnect()]);
  }
}

/** Whether `promise` settled within `ms` (the benchmark's bound on every wait). */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  const ac = new AbortController();
  try {
    return await Promise.race([promise.then(() => true), sleep(ms, false, { signal: ac.signal })]);
  } finally {
    ac.abort();
  }
}
