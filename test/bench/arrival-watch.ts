/**
 * When records arrive in the benchmark process: a kafkajs consumer that notes, per record key, the moment its
 * batch was handed over (`performance.now()`, the clock the traffic generators schedule with). The e2e
 * benchmark watches the order flow's topics for OrderPlaced, StockReserved, PaymentAuthorized and
 * OrderConfirmed (the last one ends an order's latency; the others say which hop the time went to); its Kafka
 * baselines watch their scratch topics with the same code, so both sides of a ratio include the same consumer
 * and the same fetch path.
 *
 * Nothing is decoded: the CloudEvent type is the `ce_type` header (peekEventType) and the order id is the
 * Kafka key (the manifest keys every order-flow event by its order). The group is new and starts from the end
 * of each partition; `startArrivalWatch` resolves only once the member has joined AND completed a fetch, by
 * when kafkajs has resolved "the end" to offsets, so no record produced afterwards can be skipped. It never
 * commits offsets (see ConsumerStart.autoCommit): a member that joins again would start from the end again,
 * which a single member of a group of its own does not do.
 */
import type { Consumer, EachBatchHandler, Kafka, KafkaMessage } from 'kafkajs';
import { peekEventType } from '@shoal/contract';
import { waitForGroupJoin } from '@shoal/transport';
import { settlesWithin } from '../../libs/outbox/bench/bench-platform.js';

/** The "type" of every record of a watch that filters on none. */
export const ANY_RECORD = '*';

export interface ArrivalWatchOptions {
  kafka: Kafka;
  topics: readonly string[];
  groupId: string;
  /** CloudEvent types (ce_type header) to note, each apart; absent: every record, as ANY_RECORD. */
  eventTypes?: readonly string[];
}

export interface ArrivalWatch {
  /** Arrival time (performance.now(), ms) of the first record of `type` of each key. */
  arrivalsOf(type?: string): ReadonlyMap<string, number>;
  /**
   * The `ce_time` of those records (ms since the epoch): when the emitting service created the event, by the
   * same system clock as `performance.timeOrigin + performance.now()` here. Keys without one are absent.
   */
  createdAtOf(type?: string): ReadonlyMap<string, number>;
  /** Resolves true once a record of `type` arrived for every key of `keys`; false when `timeoutMs` passed first. */
  waitFor(keys: Iterable<string>, timeoutMs: number, type?: string): Promise<boolean>;
  stop(): Promise<void>;
}

const JOIN_TIMEOUT_MS = 60_000;

interface Waiter {
  type: string;
  missing: Set<string>;
  done: () => void;
}

export async function startArrivalWatch(options: ArrivalWatchOptions): Promise<ArrivalWatch> {
  const consumer: Consumer = options.kafka.consumer({ groupId: options.groupId, maxWaitTimeInMs: 500 });
  const types = options.eventTypes ?? [ANY_RECORD];
  const arrivals = new Map<string, Map<string, number>>(types.map((type) => [type, new Map()]));
  const created = new Map<string, Map<string, number>>(types.map((type) => [type, new Map()]));
  // Who waits for which keys: checked at every record, so a waiter wakes with the batch that completes it.
  const waiters = new Set<Waiter>();

  const typeOf = (message: KafkaMessage): string | undefined => (options.eventTypes === undefined ? ANY_RECORD : peekEventType(message));

  await runUntilFetching(consumer, { topics: options.topics, fromBeginning: false, autoCommit: false }, async ({ batch }) => {
    const now = performance.now();
    for (const message of batch.messages) {
      const type = typeOf(message);
      const seen = type === undefined ? undefined : arrivals.get(type);
      const key = message.key?.toString('utf8');
      if (type === undefined || seen === undefined || key === undefined || seen.has(key)) continue;
      seen.set(key, now);
      const time = Date.parse(message.headers?.ce_time?.toString() ?? '');
      if (Number.isFinite(time)) created.get(type)!.set(key, time);
      for (const waiter of waiters) {
        if (waiter.type !== type) continue;
        waiter.missing.delete(key);
        if (waiter.missing.size === 0) waiter.done();
      }
    }
  });

  const notesOf = (notes: Map<string, Map<string, number>>, type: string) => {
    const found = notes.get(type);
    if (found === undefined) throw new Error(`this watch does not note ${type}`);
    return found;
  };
  const arrivalsOf = (type = types[0]!) => notesOf(arrivals, type);
  return {
    arrivalsOf,
    createdAtOf: (type = types[0]!) => notesOf(created, type),
    async waitFor(keys, timeoutMs, type = types[0]!) {
      const seen = arrivalsOf(type);
      const missing = new Set([...keys].filter((key) => !seen.has(key)));
      if (missing.size === 0) return true;
      let waiter!: Waiter;
      const complete = new Promise<void>((resolve) => {
        waiter = { type, missing, done: resolve };
        waiters.add(waiter);
      });
      try {
        return await settlesWithin(complete, timeoutMs);
      } finally {
        waiters.delete(waiter);
      }
    },
    stop: () => consumer.disconnect(),
  };
}

export interface ConsumerStart {
  topics: readonly string[];
  fromBeginning: boolean;
  /**
   * kafkajs's autoCommit, which commits after EVERY batch and waits for the answer before handing over the
   * next one, even of another partition. A watch must not commit: with several partitions in a fetch, the
   * later batches would be stamped a commit round trip late each.
   */
  autoCommit: boolean;
}

/**
 * Connects, subscribes and runs `consumer` with `eachBatch`; resolves once the member has joined its group and
 * completed a first fetch (so "from the end" is resolved to offsets), or disconnects and throws.
 */
export async function runUntilFetching(consumer: Consumer, start: ConsumerStart, eachBatch: EachBatchHandler): Promise<void> {
  const { topics, fromBeginning, autoCommit } = start;
  const { joined } = waitForGroupJoin(consumer);
  let fetched!: () => void;
  const firstFetch = new Promise<void>((resolve) => (fetched = resolve));
  const removeFetch = consumer.on(consumer.events.FETCH, () => {
    removeFetch();
    fetched();
  });
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [...topics], fromBeginning });
    await consumer.run({ eachBatch, autoCommit });
    if (!(await settlesWithin(Promise.all([joined, firstFetch]), JOIN_TIMEOUT_MS))) {
      throw new Error(`a consumer of ${topics.join(', ')} did not join its group and fetch within ${JOIN_TIMEOUT_MS / 1000} s`);
    }
  } catch (error) {
    removeFetch();
    await consumer.disconnect();
    throw error;
  }
}
