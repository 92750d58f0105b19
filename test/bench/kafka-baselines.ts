/**
 * The e2e benchmark's baselines, measured on the same broker in the same run, so its figures can be read as
 * ratios whatever else the machine is doing. Both use plain kafkajs in this process on scratch topics, with
 * producers configured as Shoal's Publisher is (idempotent, acks -1, one request in flight), and the last
 * hop is timed by the very code that times OrderConfirmed (ArrivalWatch).
 *
 *   hop latency    one small record at a time at the offered rate, produce -> arrival at a consumer. An order
 *                  reaches CONFIRMED after four such hops (OrderPlaced, StockReserved, PaymentAuthorized,
 *                  OrderConfirmed), so four times this is the floor of place -> confirmed on this broker.
 *   relay chain    the choreography's shape with nothing in it: N "orders" produced as an outbox relay would
 *                  send rows that piled up (batches of up to 500, one send at a time), then three consume ->
 *                  produce relays (each a consumer group and an idempotent producer forwarding every batch in
 *                  one send, as a service's outbox relay would) over four topics, timed from the first send to
 *                  the last record's arrival on the fourth topic. The floor of the choreography's throughput:
 *                  the same records and hops, with no HTTP, no database and no decoding.
 */
import { Partitioners, type Admin, type Kafka, type Producer } from 'kafkajs';
import { runUntilFetching, startArrivalWatch } from './arrival-watch.js';

const PARTITIONS = 3;
/** About the size of an Avro OrderPlaced with its CloudEvent headers. */
const VALUE = Buffer.alloc(220, 'x');
const HEADERS = { ce_type: 'bench.e2e.Hop' };
/** The outbox relay's default batch: what orders' relay sends at most at once when POSTs pile up. */
const SEND_BATCH = 500;
const WARMUP_RECORDS = 500;

export interface HopLatencyRun {
  /** Produce -> arrival, ms ascending; a record that never arrived counts as Infinity. */
  latenciesMs: number[];
  missing: number;
}

export interface RelayChainRun {
  orders: number;
  /** From the first send to the last record's arrival on the last topic. */
  seconds: number;
  missing: number;
}

export class KafkaBaselines {
  private runs = 0;

  constructor(
    private readonly kafka: Kafka,
    private readonly timeoutMs: number,
  ) {}

  /**
   * Records sent one at a time at `ratePerSecond` for `seconds` (open loop), each timed to its arrival, after
   * a first second whose records are not counted (connections, JIT, the topic's first segments).
   */
  async hopLatency(ratePerSecond: number, seconds: number): Promise<HopLatencyRun> {
    const [topic] = await this.scratchTopics('hop', 1);
    const watch = await startArrivalWatch({ kafka: this.kafka, topics: [topic!], groupId: `${topic}-watch` });
    const producer = await this.producer();
    try {
      const warmup = Math.round(ratePerSecond);
      const count = warmup + Math.round(ratePerSecond * seconds);
      const intervalMs = 1000 / ratePerSecond;
      const dueAt = new Map<string, number>();
      const sends: Array<Promise<unknown>> = [];
      const start = performance.now();
      for (let i = 0; i < count; i++) {
        const due = start + i * intervalMs;
        const wait = due - performance.now();
        if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
        const key = `hop-${i}`;
        if (i >= warmup) dueAt.set(key, due);
        sends.push(producer.send({ topic: topic!, acks: -1, messages: [{ key, value: VALUE, headers: HEADERS }] }));
      }
      await Promise.all(sends);
      await watch.waitFor(dueAt.keys(), this.timeoutMs);
      const latenciesMs = [...dueAt].map(([key, due]) => (watch.arrivalsOf().get(key) ?? Number.POSITIVE_INFINITY) - due).sort((a, b) => a - b);
      return { latenciesMs, missing: latenciesMs.filter((ms) => ms === Number.POSITIVE_INFINITY).length };
    } finally {
      await producer.disconnect();
      await watch.stop();
    }
  }

  /** `orders` records through a batching producer and three relays, after WARMUP_RECORDS that are not timed. */
  async relayChain(orders: number): Promise<RelayChainRun> {
    const topics = await this.scratchTopics('chain', 4);
    const relays: Array<{ stop(): Promise<void> }> = [];
    let watch: Awaited<ReturnType<typeof startArrivalWatch>> | undefined;
    const producer = await this.producer();
    const send = async (keys: readonly string[]) => {
      for (let from = 0; from < keys.length; from += SEND_BATCH) {
        const messages = keys.slice(from, from + SEND_BATCH).map((key) => ({ key, value: VALUE, headers: HEADERS }));
        await producer.send({ topic: topics[0]!, acks: -1, messages });
      }
    };
    try {
      for (let hop = 0; hop < 3; hop++) relays.push(await this.relay(topics[hop]!, topics[hop + 1]!));
      watch = await startArrivalWatch({ kafka: this.kafka, topics: [topics[3]!], groupId: `${topics[3]}-watch` });
      const warmup = Array.from({ length: WARMUP_RECORDS }, (_, i) => `warmup-${i}`);
      await send(warmup);
      await watch.waitFor(warmup, this.timeoutMs);
      const keys = Array.from({ length: orders }, (_, i) => `order-${i}`);
      const start = performance.now();
      await send(keys);
      await watch.waitFor(keys, this.timeoutMs);
      const arrived = keys.map((key) => watch!.arrivalsOf().get(key)).filter((at): at is number => at !== undefined);
      return { orders, seconds: (Math.max(...arrived) - start) / 1000, missing: orders - arrived.length };
    } finally {
      await watch?.stop();
      for (const relay of relays) await relay.stop();
      await producer.disconnect();
    }
  }

  /** A consumer of `from` that forwards each batch, keys and values as they are, to `to` in one send. */
  private async relay(from: string, to: string): Promise<{ stop(): Promise<void> }> {
    const producer = await this.producer();
    const consumer = this.kafka.consumer({ groupId: `${from}-relay`, maxWaitTimeInMs: 500 });
    try {
      // Committing as the services' consumers do (kafkajs's default: after every batch).
      await runUntilFetching(consumer, { topics: [from], fromBeginning: true, autoCommit: true }, async ({ batch }) => {
        await producer.send({ topic: to, acks: -1, messages: batch.messages.map((m) => ({ key: m.key, value: m.value, headers: HEADERS })) });
      });
    } catch (error) {
      await producer.disconnect();
      throw error;
    }
    return {
      async stop() {
        await consumer.disconnect();
        await producer.disconnect();
      },
    };
  }

  /** A producer as Shoal's Publisher configures one. */
  private async producer(): Promise<Producer> {
    const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    return producer;
  }

  private async scratchTopics(name: string, count: number): Promise<string[]> {
    const run = ++this.runs;
    const topics = Array.from({ length: count }, (_, i) => `bench.e2e-${name}-${run}-${i + 1}`);
    await withAdmin(this.kafka, (admin) => admin.createTopics({ topics: topics.map((topic) => ({ topic, numPartitions: PARTITIONS })), waitForLeaders: true }));
    return topics;
  }
}

export async function withAdmin<T>(kafka: Kafka, work: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.disconnect();
  }
}
