/**
 * Robustness of the broker's protocol layer against hostile and broken input: random bytes, frames with
 * random api keys and versions, mutations of well-formed requests of every API the broker advertises,
 * oversized frames, record batches that must be refused with Kafka's specific error codes, unknown topics
 * and an unsupported ApiVersions version.
 *
 * The broker runs as a child process through the CLI (see helpers.ts): a crash, including an unhandled
 * promise rejection, is then a process exit that fails the test with the broker's own stack trace, and
 * cannot take the vitest worker down with it. Between and after the fuzz rounds a kafkajs producer and
 * consumer prove that ordinary clients of the same broker still produce and consume.
 *
 * Every random choice comes from a seeded PRNG. The seed is printed; replay a run with
 *   SHOAL_FUZZ_SEED=<seed> npx vitest run test/chaos/fuzz.test.ts
 *
 * Requests are built with the broker's own Writer and api key table; expected error codes are written as
 * numbers from the Kafka protocol guide instead of taken from the broker's table, so a wrong entry there
 * cannot make these tests agree with it.
 */
import { kafkaFor } from '@shoal/broker/testing';
import { connected, fuzzSeed, seededRandom, tempDir, uniqueName, type Random } from '@shoal/testing';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ApiKey } from '../../infra/broker/src/protocol/api-keys.js';
import { Reader } from '../../infra/broker/src/protocol/reader.js';
import { Writer } from '../../infra/broker/src/protocol/writer.js';
import { assertRunning, collect, producerConfig, startCliBroker, whileRunning, type CliBroker } from './cli-broker.js';

const SEED = fuzzSeed();

/** Every fuzz broker refuses frames above 1 MiB, so random sizes often cross the limit. */
const MAX_REQUEST_BYTES = 1024 * 1024;
/** Connections fuzzed at the same time. */
const CONCURRENCY = 8;
/** Bounds of the seeded rounds: together they run in a few seconds on two cores. */
const RANDOM_BYTE_STREAMS = 1500;
const RANDOM_HEADER_FRAMES = 1500;
const BIT_FLIP_MUTATIONS = 10;
/** Session (and rebalance) timeout of fuzzed JoinGroups: the broker's minimum. */
const SESSION_TIMEOUT_MS = 1000;

const KafkaError = {
  NONE: 0,
  CORRUPT_MESSAGE: 2,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  MESSAGE_TOO_LARGE: 10,
  INVALID_REQUIRED_ACKS: 21,
  UNSUPPORTED_VERSION: 35,
  UNSUPPORTED_FOR_MESSAGE_FORMAT: 43,
  UNSUPPORTED_COMPRESSION_TYPE: 76,
  INVALID_RECORD: 87,
} as const;

// ---------------------------------------------------------------------------------------------------
// Seeded randomness

// ---------------------------------------------------------------------------------------------------
// Building requests

/**
 * Where a length or count sits in an encoded request, so mutations can make exactly that field lie.
 *
 *   int16   STRING / NULLABLE_STRING length
 *   int32   BYTES / NULLABLE_BYTES length, ARRAY count
 *   uvarint COMPACT_STRING length + 1 (one byte for the short strings used here)
 */
interface LengthField {
  at: number;
  kind: 'int16' | 'int32' | 'uvarint';
  /** Whether -1 (or compact 0) is a legal null here, as the broker's decoder reads the field. */
  nullable: boolean;
}

/** The broker's own Writer, plus a record of every length field written. */
class RequestBuilder {
  readonly writer = new Writer();
  readonly lengthFields: LengthField[] = [];

  private mark(kind: LengthField['kind'], nullable: boolean): void {
    this.lengthFields.push({ at: this.writer.length, kind, nullable });
  }

  int8(value: number): this {
    this.writer.int8(value);
    return this;
  }

  bool(value: boolean): this {
    this.writer.bool(value);
    return this;
  }

  int16(value: number): this {
    this.writer.int16(value);
    return this;
  }

  int32(value: number): this {
    this.writer.int32(value);
    return this;
  }

  int64(value: number): this {
    this.writer.int64(value);
    return this;
  }

  string(value: string): this {
    this.mark('int16', false);
    this.writer.string(value);
    return this;
  }

  nullableString(value: string | null): this {
    this.mark('int16', true);
    this.writer.nullableString(value);
    return this;
  }

  /** An INT64 beyond 2^53, which Writer.int64 (a JS number) cannot express. */
  bigInt64(value: bigint): this {
    const bytes = Buffer.alloc(8);
    bytes.writeBigInt64BE(value);
    this.writer.raw(bytes);
    return this;
  }

  /** A STRING whose bytes are given as they are (e.g. invalid UTF-8), which Writer.string cannot express. */
  stringBytes(bytes: Buffer): this {
    this.mark('int16', false);
    this.writer.int16(bytes.length).raw(bytes);
    return this;
  }

  bytes(value: Buffer): this {
    this.mark('int32', false);
    this.writer.bytes(value);
    return this;
  }

  nullableBytes(value: Buffer | null): this {
    this.mark('int32', true);
    this.writer.nullableBytes(value);
    return this;
  }

  array<T>(items: readonly T[], writeItem: (builder: this, item: T) => void): this {
    this.mark('int32', false);
    this.writer.int32(items.length);
    for (const item of items) writeItem(this, item);
    return this;
  }

  nullableArray<T>(items: readonly T[] | null, writeItem: (builder: this, item: T) => void): this {
    this.mark('int32', true);
    this.writer.int32(items === null ? -1 : items.length);
    for (const item of items ?? []) writeItem(this, item);
    return this;
  }

  compactString(value: string): this {
    this.mark('uvarint', false);
    this.writer.compactString(value);
    return this;
  }

  compactArray<T>(items: readonly T[], writeItem: (builder: this, item: T) => void): this {
    this.mark('uvarint', false);
    this.writer.uvarint(items.length + 1);
    for (const item of items) writeItem(this, item);
    return this;
  }

  compactNullableString(value: string | null): this {
    this.mark('uvarint', true);
    this.writer.compactNullableString(value);
    return this;
  }

  compactNullableArray<T>(items: readonly T[] | null, writeItem: (builder: this, item: T) => void): this {
    this.mark('uvarint', true);
    this.writer.uvarint(items === null ? 0 : items.length + 1);
    for (const item of items ?? []) writeItem(this, item);
    return this;
  }

  uuid(hex: string): this {
    this.writer.uuid(hex);
    return this;
  }

  taggedFields(): this {
    this.writer.emptyTaggedFields();
    return this;
  }
}

/** Offset of the correlation id in a request payload (after api_key and api_version). */
const CORRELATION_ID_OFFSET = 4;

interface EncodedRequest {
  /** The request without its size prefix. */
  payload: Buffer;
  lengthFields: LengthField[];
}

/**
 *   Request header v1 => api_key:INT16 api_version:INT16 correlation_id:INT32 client_id:NULLABLE_STRING
 *   Request header v2 => header v1 + TAGGED_FIELDS (flexible versions)
 */
function encodeRequest(
  apiKey: number,
  version: number,
  correlationId: number,
  writeBody: (builder: RequestBuilder) => void,
  options: { flexible?: boolean; clientId?: string | null } = {},
): EncodedRequest {
  const builder = new RequestBuilder();
  builder.int16(apiKey).int16(version).int32(correlationId).nullableString(options.clientId === undefined ? 'shoal-chaos' : options.clientId);
  if (options.flexible) builder.taggedFields();
  writeBody(builder);
  return { payload: Buffer.from(builder.writer.toBuffer()), lengthFields: builder.lengthFields };
}

/**   Frame => size:INT32 payload (size may lie when `size` is given) */
function frame(payload: Buffer, size = payload.length): Buffer {
  const prefix = Buffer.allocUnsafe(4);
  prefix.writeInt32BE(size, 0);
  return Buffer.concat([prefix, payload]);
}

function sizeOnly(size: number): Buffer {
  const prefix = Buffer.allocUnsafe(4);
  prefix.writeInt32BE(size, 0);
  return prefix;
}

// ---------------------------------------------------------------------------------------------------
// Record batches, built by kafkajs (bytes a real client sends, with kafkajs's own CRC-32C)

const require = createRequire(import.meta.url);
const Long = require('kafkajs/src/utils/long') as { fromValue(value: number): unknown };
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as { RecordBatch: (options: Record<string, unknown>) => Promise<{ buffer: Buffer }> };
const KafkajsRecord = require('kafkajs/src/protocol/recordBatch/record/v0') as (options: Record<string, unknown>) => unknown;
const MessageSet = require('kafkajs/src/protocol/messageSet') as (options: Record<string, unknown>) => { buffer: Buffer };
const crc32c = require('kafkajs/src/protocol/recordBatch/crc32C') as (bytes: Buffer) => number;

interface TestRecord {
  key: string | null;
  value: string;
  headers?: Record<string, string>;
}

/** One magic-v2 record batch as a producer puts it in a Produce request (base offset 0). */
async function recordBatch(records: TestRecord[]): Promise<Buffer> {
  const now = Date.now();
  const encoded = await RecordBatch({
    firstTimestamp: now,
    maxTimestamp: now,
    lastOffsetDelta: records.length - 1,
    producerId: Long.fromValue(-1),
    records: records.map((r, i) =>
      KafkajsRecord({ offsetDelta: i, timestampDelta: 0, key: r.key === null ? null : Buffer.from(r.key), value: Buffer.from(r.value), headers: r.headers ?? {} }),
    ),
  });
  return Buffer.from(encoded.buffer);
}

/**
 * RecordBatch v2 offsets (Kafka's DefaultRecordBatch):
 *   0 base_offset:INT64  8 batch_length:INT32  12 partition_leader_epoch:INT32  16 magic:INT8  17 crc:UINT32
 *   21 attributes:INT16  23 last_offset_delta:INT32  ...  57 record_count:INT32  61 records
 * The CRC-32C covers everything from attributes to the end.
 */
const BATCH = { magic: 16, crc: 17, attributes: 21, lastOffsetDelta: 23, recordCount: 57, crcFrom: 21 } as const;

/** A copy of `batch` edited inside the CRC-covered part, with the CRC recomputed so only the edit is wrong. */
function resealed(batch: Buffer, edit: (copy: Buffer) => void): Buffer {
  const copy = Buffer.from(batch);
  edit(copy);
  copy.writeUInt32BE(crc32c(copy.subarray(BATCH.crcFrom)), BATCH.crc);
  return copy;
}

// ---------------------------------------------------------------------------------------------------
// Raw connections

interface Conversation {
  /** Complete response frames (without the size prefix), in arrival order. */
  responses: Buffer[];
  /** True when the broker closed the connection (with halfClose, after our FIN). */
  closedByBroker: boolean;
}

/**
 * Connects, writes `chunks` and collects response frames until the broker closes the connection or
 * `stopWhen` is satisfied. With `halfClose` the client sends FIN after its bytes, so a broker waiting for
 * the rest of a frame (or holding a parked request) ends the connection too: the conversation always ends.
 * `thenAfterResponses` writes more bytes once that many responses arrived (never in the same TCP read).
 */
function converse(
  port: number,
  chunks: Buffer[],
  options: { halfClose: boolean; stopWhen?: (responses: Buffer[]) => boolean; thenAfterResponses?: { count: number; chunks: Buffer[] } },
): Promise<Conversation> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const responses: Buffer[] = [];
    let pending = Buffer.alloc(0);
    let stopped = false;
    let followedUp = false;
    socket.on('error', () => {
      // ECONNRESET/EPIPE when the broker refuses a frame mid-write; 'close' follows and tells the outcome.
    });
    socket.on('connect', () => {
      for (const chunk of chunks) socket.write(chunk);
      if (options.halfClose) socket.end();
    });
    socket.on('data', (data: Buffer) => {
      pending = Buffer.concat([pending, data]);
      while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
        const size = pending.readInt32BE(0);
        if (size < 4) {
          // No room for a correlation id: record it as a response with id -1, which no caller expects.
          responses.push(Buffer.from([0xff, 0xff, 0xff, 0xff]));
          socket.destroy();
          return;
        }
        responses.push(pending.subarray(4, 4 + size));
        pending = pending.subarray(4 + size);
      }
      const followUp = options.thenAfterResponses;
      if (followUp !== undefined && !followedUp && responses.length >= followUp.count) {
        followedUp = true;
        for (const chunk of followUp.chunks) socket.write(chunk);
      }
      if (!stopped && options.stopWhen?.(responses)) {
        stopped = true;
        socket.destroy();
      }
    });
    socket.on('close', () => resolve({ responses, closedByBroker: !stopped }));
  });
}

function correlationIdOf(response: Buffer): number {
  return response.readInt32BE(0);
}

/** A reader positioned after the response header v0 (correlation id). */
function responseBody(response: Buffer): Reader {
  return new Reader(response, 4);
}

/** A correlation id no fuzz case uses, for the ApiVersions probe that follows a frame on the same connection. */
const PROBE_CORRELATION_ID = 0x7ffffff0;
const probeFrame = frame(encodeRequest(ApiKey.ApiVersions, 0, PROBE_CORRELATION_ID, () => undefined).payload);

/**
 * Sends `bytes` followed by an ApiVersions probe on the same connection, and expects the broker to close
 * the connection without answering either: had it accepted the frame, the probe would be answered.
 * Deterministic without any timeout: the conversation ends with the close or with the first response.
 */
async function expectRefused(port: number, bytes: Buffer, what: string): Promise<void> {
  const { responses, closedByBroker } = await converse(port, [bytes, probeFrame], { halfClose: false, stopWhen: (r) => r.length > 0 });
  expect(
    { responses: responses.map(correlationIdOf), closedByBroker },
    `${what}: the broker must close the connection without a response (seed ${SEED})`,
  ).toEqual({ responses: [], closedByBroker: true });
}

/** The ranges advertised by ApiVersions v0. */
async function advertisedApis(port: number): Promise<Map<number, { minVersion: number; maxVersion: number }>> {
  const { responses } = await converse(port, [probeFrame], { halfClose: false, stopWhen: (r) => r.length === 1 });
  expect(responses.map(correlationIdOf), 'ApiVersions v0 must be answered').toEqual([PROBE_CORRELATION_ID]);
  const body = responseBody(responses[0]!);
  expect(body.int16()).toBe(KafkaError.NONE);
  const apis = new Map<number, { minVersion: number; maxVersion: number }>();
  for (const api of body.array((r) => ({ apiKey: r.int16(), minVersion: r.int16(), maxVersion: r.int16() }))) {
    apis.set(api.apiKey, { minVersion: api.minVersion, maxVersion: api.maxVersion });
  }
  return apis;
}

/** A fresh connection gets an ApiVersions answer: the broker is up and serving. */
async function expectServing(broker: CliBroker, when: string): Promise<void> {
  const { responses } = await converse(broker.port, [probeFrame], { halfClose: false, stopWhen: (r) => r.length === 1 });
  assertRunning(broker, when);
  expect(responses.map(correlationIdOf), `a fresh connection must be served ${when}`).toEqual([PROBE_CORRELATION_ID]);
}

/**
 * The error code of the first partition of the first topic, from a reader at the topics array of a
 * Produce, Fetch or ListOffsets response: [name:STRING [partition_index:INT32 error_code:INT16 ...]].
 */
function firstPartitionError(body: Reader): number {
  expect(body.int32(), 'topics in the response').toBe(1);
  body.string();
  expect(body.int32(), 'partitions in the response').toBe(1);
  body.int32();
  return body.int16();
}

/**
 * Polls DescribeGroups v0 until the group is in one of `states`; the test timeout bounds the wait.
 *   Response v0 => [error_code group_id group_state protocol_type protocol_data [members]]
 */
async function waitForGroupState(port: number, group: string, states: string[]): Promise<void> {
  for (;;) {
    const { payload } = encodeRequest(ApiKey.DescribeGroups, 0, 1, (b) => void b.array([group], (b, id) => b.string(id)));
    const { responses } = await converse(port, [frame(payload)], { halfClose: false, stopWhen: (r) => r.length === 1 });
    expect(responses.map(correlationIdOf), `DescribeGroups ${group}`).toEqual([1]);
    const body = responseBody(responses[0]!);
    expect(body.int32(), 'groups in the DescribeGroups response').toBe(1);
    expect(body.int16(), `DescribeGroups ${group}: error code`).toBe(KafkaError.NONE);
    body.string();
    if (states.includes(body.string())) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Runs `work` over `cases`, `CONCURRENCY` at a time. */
async function forEachConcurrently<T>(cases: readonly T[], work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const index = next++;
      await work(cases[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

// ---------------------------------------------------------------------------------------------------
// The fuzz broker and its ordinary clients

async function startFuzzBroker(): Promise<CliBroker> {
  return startCliBroker({
    dataDir: await tempDir('fuzz'),
    // No initial rebalance delay: fuzzed JoinGroups on fresh groups complete at once instead of parking.
    args: ['--max-request-bytes', String(MAX_REQUEST_BYTES), '--group-initial-rebalance-delay-ms', '0'],
  });
}

/**
 * A kafkajs producer and a consumer (in a group) on the fuzzed broker. `check` produces one message to each
 * partition of the probe topic and waits until the consumer received both.
 */
async function startClientProbe(broker: CliBroker) {
  const kafka = kafkaFor(broker.bootstrap);
  const topic = uniqueName('probe');
  const admin = await connected(kafka.admin());
  await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
  const producer = await connected(kafka.producer(producerConfig()));
  const consumer = await connected(kafka.consumer({ groupId: uniqueName('probe'), maxWaitTimeInMs: 100 }));
  await consumer.subscribe({ topic, fromBeginning: true });
  const received = collect(consumer);
  return {
    kafka,
    admin,
    async check(when: string): Promise<void> {
      assertRunning(broker, when);
      const values = [0, 1].map((partition) => `${when} / partition ${partition}`);
      await whileRunning(
        broker,
        `the kafkajs round trip ${when}`,
        (async () => {
          await producer.send({ topic, acks: -1, messages: values.map((value, partition) => ({ partition, key: `k${partition}`, value })) });
          await received.until((messages) => values.every((value) => messages.some((m) => m.value?.toString() === value)));
        })(),
      );
    },
  };
}

/**
 * Malformed input must end as a refused request (a warn line and a closed connection), never as an
 * internal error: the broker logs those at error level, and each one is a code path nobody meant to take.
 */
function expectNoInternalErrors(broker: CliBroker, when: string): void {
  expect(broker.errorLines(), `the broker logged internal errors ${when} (seed ${SEED})`).toEqual([]);
}

// ---------------------------------------------------------------------------------------------------
// Well-formed requests of every served API (layouts from the broker's message files / the Kafka guide)

interface TemplateContext {
  /** Topic the Produce/Fetch/ListOffsets/DeleteRecords/DescribeConfigs templates use. */
  topic: string;
  /** Topic CreatePartitions targets, so a fuzzed partition count cannot blow up `topic`. */
  partitionsTopic: string;
  /** A fresh group per request, so fuzzed joins never wait for members of another case. */
  group: string;
  batch: Buffer;
}

interface Template {
  /** First flexible version (request header v2), if the broker serves one. */
  flexibleFrom?: number;
  body(b: RequestBuilder, version: number, ctx: TemplateContext): void;
}

/** The protocol's "no topic id". */
const NO_TOPIC_ID = '0'.repeat(32);

const templates: Record<number, Template> = {
  [ApiKey.Produce]: {
    body(b, v, ctx) {
      if (v >= 3) b.nullableString(null);
      b.int16(-1).int32(5000);
      b.array([ctx.topic], (b, name) => b.string(name).array([0], (b, p) => b.int32(p).nullableBytes(ctx.batch)));
    },
  },
  [ApiKey.Fetch]: {
    body(b, v, ctx) {
      b.int32(-1).int32(0).int32(1); // replica_id, max_wait_ms 0 (never parks), min_bytes
      if (v >= 3) b.int32(1024 * 1024);
      if (v >= 4) b.int8(0);
      if (v >= 7) b.int32(0).int32(-1);
      b.array([ctx.topic], (b, name) =>
        b.string(name).array([0, 1], (b, p) => {
          b.int32(p);
          if (v >= 9) b.int32(-1);
          b.int64(0);
          if (v >= 5) b.int64(-1);
          b.int32(1024 * 1024);
        }),
      );
      if (v >= 7) b.array([] as string[], (b, name) => b.string(name));
      if (v >= 11) b.string('');
    },
  },
  [ApiKey.ListOffsets]: {
    flexibleFrom: 6,
    body(b, v, ctx) {
      b.int32(-1);
      if (v >= 2) b.int8(0);
      if (v >= 6) {
        b.compactArray([ctx.topic], (b, name) =>
          b
            .compactString(name)
            .compactArray([-1, -2, -3], (b, timestamp) => b.int32(0).int32(-1).int64(timestamp).taggedFields())
            .taggedFields(),
        );
        b.taggedFields();
        return;
      }
      b.array([ctx.topic], (b, name) =>
        b.string(name).array([-1, -2], (b, timestamp) => {
          b.int32(0);
          if (v >= 4) b.int32(-1);
          b.int64(timestamp);
          if (v === 0) b.int32(1);
        }),
      );
    },
  },
  [ApiKey.Metadata]: {
    flexibleFrom: 9,
    body(b, v, ctx) {
      // The broker reads topics as a nullable array at every version (v0 null = all topics, harmless leniency).
      if (v >= 9) {
        b.compactNullableArray([ctx.topic], (b, name) => {
          if (v >= 10) b.uuid(NO_TOPIC_ID);
          b.compactString(name).taggedFields();
        });
      } else {
        b.nullableArray([ctx.topic], (b, name) => b.string(name));
      }
      if (v >= 4) b.bool(false);
      if (v >= 8 && v <= 10) b.bool(false);
      if (v >= 8) b.bool(false);
      if (v >= 9) b.taggedFields();
    },
  },
  [ApiKey.OffsetCommit]: {
    flexibleFrom: 8,
    body(b, v, ctx) {
      if (v >= 8) {
        b.compactString(ctx.group).int32(-1).compactString('').compactNullableString(null);
        b.compactArray([ctx.topic], (b, name) =>
          b
            .compactString(name)
            .compactArray([0], (b, p) => b.int32(p).int64(1).int32(-1).compactNullableString('fuzz').taggedFields())
            .taggedFields(),
        );
        b.taggedFields();
        return;
      }
      b.string(ctx.group);
      if (v >= 1) b.int32(-1).string('');
      if (v >= 7) b.nullableString(null);
      if (v >= 2 && v <= 4) b.int64(-1);
      b.array([ctx.topic], (b, name) =>
        b.string(name).array([0], (b, p) => {
          b.int32(p).int64(1);
          if (v >= 6) b.int32(-1);
          if (v === 1) b.int64(-1);
          b.nullableString('fuzz');
        }),
      );
    },
  },
  [ApiKey.OffsetFetch]: {
    flexibleFrom: 6,
    body(b, v, ctx) {
      if (v >= 6) {
        const topic = (b: RequestBuilder, name: string) => b.compactString(name).compactArray([0, 1], (b, p) => b.int32(p)).taggedFields();
        if (v >= 8) {
          b.compactArray([ctx.group], (b, group) => {
            b.compactString(group);
            if (v >= 9) b.compactNullableString('member').int32(3);
            b.compactNullableArray([ctx.topic], topic).taggedFields();
          });
        } else {
          b.compactString(ctx.group).compactNullableArray([ctx.topic], topic);
        }
        if (v >= 7) b.bool(true);
        b.taggedFields();
        return;
      }
      b.string(ctx.group);
      const topic = (b: RequestBuilder, name: string) => b.string(name).array([0, 1], (b, p) => b.int32(p));
      if (v >= 2) b.nullableArray([ctx.topic], topic);
      else b.array([ctx.topic], topic);
    },
  },
  [ApiKey.FindCoordinator]: {
    body(b, v, ctx) {
      b.string(ctx.group);
      if (v >= 1) b.int8(0);
    },
  },
  [ApiKey.JoinGroup]: {
    body(b, v, ctx) {
      // The smallest session timeout the broker accepts: members of these groups expire while the fuzz runs.
      b.string(ctx.group).int32(SESSION_TIMEOUT_MS);
      if (v >= 1) b.int32(SESSION_TIMEOUT_MS);
      b.string('');
      if (v >= 5) b.nullableString(null);
      b.string('consumer').array(['range'], (b, name) => b.string(name).bytes(Buffer.from([0, 1, 0, 0, 0, 0])));
    },
  },
  [ApiKey.Heartbeat]: {
    body(b, v, ctx) {
      b.string(ctx.group).int32(1).string('member');
      if (v >= 3) b.nullableString(null);
    },
  },
  [ApiKey.LeaveGroup]: {
    body(b, v, ctx) {
      b.string(ctx.group);
      if (v < 3) b.string('member');
      else b.array(['member'], (b, id) => b.string(id).nullableString(null));
    },
  },
  [ApiKey.SyncGroup]: {
    body(b, v, ctx) {
      b.string(ctx.group).int32(1).string('member');
      if (v >= 3) b.nullableString(null);
      b.array(['member'], (b, id) => b.string(id).bytes(Buffer.from([0, 1])));
    },
  },
  [ApiKey.DescribeGroups]: {
    body(b, _v, ctx) {
      b.array([ctx.group], (b, id) => b.string(id));
    },
  },
  [ApiKey.ListGroups]: {
    flexibleFrom: 3,
    body(b, v) {
      if (v >= 4) b.compactArray(['Stable'], (b, state) => b.compactString(state));
      if (v >= 5) b.compactArray(['consumer'], (b, type) => b.compactString(type));
      if (v >= 3) b.taggedFields();
    },
  },
  [ApiKey.ConsumerGroupHeartbeat]: {
    flexibleFrom: 0,
    body(b, v, ctx) {
      b.compactString(ctx.group).compactString(`${ctx.group}-member`).int32(0);
      b.compactNullableString(null).compactNullableString(null).int32(SESSION_TIMEOUT_MS);
      b.compactNullableArray([ctx.topic], (b, name) => b.compactString(name));
      if (v >= 1) b.compactNullableString(null);
      b.compactNullableString('uniform');
      b.compactNullableArray([NO_TOPIC_ID], (b, id) => b.uuid(id).compactArray([0], (b, p) => b.int32(p)).taggedFields());
      b.taggedFields();
    },
  },
  [ApiKey.ConsumerGroupDescribe]: {
    flexibleFrom: 0,
    body(b, _v, ctx) {
      b.compactArray([ctx.group], (b, id) => b.compactString(id)).bool(false).taggedFields();
    },
  },
  [ApiKey.ApiVersions]: {
    flexibleFrom: 3,
    body(b, v) {
      if (v >= 3) b.compactString('shoal-chaos').compactString('1.0').taggedFields();
    },
  },
  [ApiKey.CreateTopics]: {
    body(b, v, ctx) {
      b.array([`${ctx.group}-created`], (b, name) =>
        b
          .string(name)
          .int32(1)
          .int16(1)
          .array([] as number[], (b, p) => b.int32(p).array([0], (b, id) => b.int32(id)))
          .array([['retention.ms', '60000']] as const, (b, [name, value]) => b.string(name).nullableString(value)),
      );
      b.int32(5000);
      if (v >= 1) b.bool(true); // validate_only
    },
  },
  [ApiKey.DeleteTopics]: {
    body(b, _v, ctx) {
      b.array([`${ctx.group}-never-created`], (b, name) => b.string(name)).int32(5000);
    },
  },
  [ApiKey.DeleteRecords]: {
    body(b, _v, ctx) {
      b.array([ctx.topic], (b, name) => b.string(name).array([0], (b, p) => b.int32(p).int64(0))).int32(5000);
    },
  },
  [ApiKey.InitProducerId]: {
    body(b) {
      b.nullableString(null).int32(60000);
    },
  },
  [ApiKey.DescribeConfigs]: {
    body(b, v, ctx) {
      b.array([ctx.topic], (b, name) => b.int8(2).string(name).nullableArray(['retention.ms'], (b, key) => b.string(key)));
      if (v >= 1) b.bool(false);
    },
  },
  [ApiKey.AlterConfigs]: {
    body(b, _v, ctx) {
      b.array([ctx.topic], (b, name) => b.int8(2).string(name).array([['retention.ms', '86400000']] as const, (b, [key, value]) => b.string(key).nullableString(value)));
      b.bool(true); // validate_only
    },
  },
  [ApiKey.IncrementalAlterConfigs]: {
    flexibleFrom: 1,
    body(b, v, ctx) {
      if (v >= 1) {
        b.compactArray([ctx.topic], (b, name) =>
          b
            .int8(2)
            .compactString(name)
            .compactArray(['retention.ms'], (b, key) => b.compactString(key).int8(0).compactString('86400000').taggedFields())
            .taggedFields(),
        );
        b.bool(true).taggedFields();
        return;
      }
      b.array([ctx.topic], (b, name) => b.int8(2).string(name).array(['retention.ms'], (b, key) => b.string(key).int8(0).nullableString('86400000')));
      b.bool(true); // validate_only
    },
  },
  [ApiKey.DescribeLogDirs]: {
    body(b, _v, ctx) {
      b.nullableArray([ctx.topic], (b, name) => b.string(name).array([0, 1], (b, p) => b.int32(p)));
    },
  },
  [ApiKey.CreatePartitions]: {
    body(b, _v, ctx) {
      b.array([ctx.partitionsTopic], (b, name) => b.string(name).int32(3).nullableArray(null, (b, ids: number[]) => b.array(ids, (b, id) => b.int32(id))));
      b.int32(5000).bool(true); // validate_only
    },
  },
  [ApiKey.DeleteGroups]: {
    body(b, _v, ctx) {
      b.array([ctx.group], (b, id) => b.string(id));
    },
  },
};

interface Mutation {
  kind: string;
  bytes: Buffer;
  /** Certain to be refused: the broker must close the connection without answering. */
  expectRefusal: boolean;
  /** 'kept': one frame with a truthful size prefix, so at most one response, carrying our correlation id. */
  framing: 'kept' | 'broken';
}

/**
 * Mutations of one well-formed request. Framing-preserving ones keep a correct size prefix; some are
 * certain to be refused (the broker must close the connection without answering), the rest only must
 * not hurt the broker.
 */
function mutationsOf(request: EncodedRequest, random: Random): Mutation[] {
  const { payload, lengthFields } = request;
  const mutations: Mutation[] = [];
  const edited = (edit: (copy: Buffer) => void) => {
    const copy = Buffer.from(payload);
    edit(copy);
    return frame(copy);
  };
  const writeLength = (copy: Buffer, field: LengthField, value: number) => {
    if (field.kind === 'int16') copy.writeInt16BE(value, field.at);
    else if (field.kind === 'int32') copy.writeInt32BE(value, field.at);
    else copy[field.at] = value;
  };
  const refused = (kind: string, bytes: Buffer) => mutations.push({ kind, bytes, expectRefusal: true, framing: 'kept' });
  const survived = (kind: string, bytes: Buffer, framing: Mutation['framing'] = 'kept') => mutations.push({ kind, bytes, expectRefusal: false, framing });

  // Every length field in turn: pointing past the end of the frame, and negative where null is not allowed.
  for (const field of lengthFields) {
    const overrun = field.kind === 'int16' ? 0x7fff : field.kind === 'int32' ? random.pick([0x7fffffff, 0x10000000, payload.length]) : 0x7f;
    refused(`${field.kind} length at ${field.at} -> ${overrun}`, edited((c) => writeLength(c, field, overrun)));
    if (!field.nullable) {
      const negative = field.kind === 'uvarint' ? 0 : random.pick([-1, -2, field.kind === 'int16' ? -32768 : -2147483648]);
      refused(`${field.kind} length at ${field.at} -> ${negative}`, edited((c) => writeLength(c, field, negative)));
    }
    if (field.kind !== 'uvarint') {
      const value = field.kind === 'int16' ? random.int(-32768, 32767) : random.int(-2147483648, 2147483647);
      survived(`${field.kind} length at ${field.at} -> random ${value}`, edited((c) => writeLength(c, field, value)));
    }
  }

  // Truncated, with the size prefix telling the truth about the shorter frame: a request missing its tail.
  for (const cut of [payload.length - 1, ...Array.from({ length: 3 }, () => random.int(0, payload.length - 1))]) {
    refused(`truncated to ${cut} bytes`, frame(payload.subarray(0, cut)));
  }

  for (let i = 0; i < BIT_FLIP_MUTATIONS; i++) {
    const flips = Array.from({ length: random.int(1, 4) }, () => ({ at: random.int(0, payload.length - 1), bit: random.int(0, 7) }));
    survived(
      `bits flipped at ${flips.map((f) => `${f.at}.${f.bit}`).join(',')}`,
      edited((c) => flips.forEach(({ at, bit }) => (c[at] = c[at]! ^ (1 << bit)))),
    );
  }
  for (let i = 0; i < 2; i++) {
    const at = random.int(0, payload.length - 1);
    const noise = random.bytes(random.int(1, 8));
    survived(`random bytes at ${at}`, edited((c) => noise.copy(c, at)));
  }
  // Size prefix lies: a frame that never completes, or one that ends early and leaves garbage as the next frame.
  survived('size prefix too large', frame(payload, payload.length + random.int(1, 64)), 'broken');
  survived('size prefix too small', frame(payload, random.int(0, payload.length - 1)), 'broken');
  // A payload cut short with the size prefix still claiming the whole request.
  survived('truncated, size unchanged', frame(payload).subarray(0, 4 + random.int(0, payload.length - 1)), 'broken');
  return mutations;
}

/** Invariants of any conversation over one frame whose size prefix is right: at most one response, ours. */
function expectAtMostOwnResponse(conversation: Conversation, mutated: Buffer, what: string): void {
  const payload = mutated.subarray(4);
  const ids = conversation.responses.map(correlationIdOf);
  expect(ids.length, `${what}: responses to a single request (seed ${SEED})`).toBeLessThanOrEqual(1);
  if (ids.length === 1) expect(ids[0], `${what}: correlation id of the response (seed ${SEED})`).toBe(payload.readInt32BE(CORRELATION_ID_OFFSET));
}

// ---------------------------------------------------------------------------------------------------

describe('protocol fuzzing against a broker process', () => {
  it('survives random bytes (seeded)', async () => {
    const random = seededRandom();
    const broker = await startFuzzBroker();
    const probe = await startClientProbe(broker);
    await probe.check('before random bytes');

    const cases = Array.from({ length: RANDOM_BYTE_STREAMS }, () => {
      const length = random.pick([random.int(0, 12), random.int(13, 300), random.int(301, 8192)]);
      const bytes = random.bytes(length);
      // Often make the size prefix consistent, so the broker reads a random header and body.
      if (length >= 4 && random.chance(0.4)) bytes.writeInt32BE(length - 4, 0);
      else if (length >= 4 && random.chance(0.2)) bytes.writeInt32BE(MAX_REQUEST_BYTES + random.int(-8, 8), 0);
      // Split into chunks, so frames and size prefixes straddle reads.
      const cuts = Array.from({ length: random.int(0, 3) }, () => random.int(0, length)).sort((a, b) => a - b);
      return [0, ...cuts, length].slice(1).map((end, i, ends) => bytes.subarray(i === 0 ? 0 : ends[i - 1], end));
    });
    let answered = 0;
    await forEachConcurrently(cases, async (chunks, i) => {
      const { responses } = await converse(broker.port, chunks, { halfClose: true });
      if (responses.length > 0) answered++;
      if (i % 500 === 499) await probe.check(`after ${i + 1} random byte streams`);
    });
    console.info(`random bytes (seed ${SEED}): ${cases.length} streams, ${answered} got an answer`);

    await expectServing(broker, 'after random bytes');
    await probe.check('after random bytes');
    expectNoInternalErrors(broker, 'after random bytes');
    expect(await broker.stop(), 'exit status after SIGTERM: a clean shutdown').toEqual({ code: 0, signal: null });
  });

  it('answers, refuses or closes frames with random api keys, versions and bodies (seeded)', async () => {
    const random = seededRandom();
    const broker = await startFuzzBroker();
    const probe = await startClientProbe(broker);
    const apis = await advertisedApis(broker.port);
    const servedKeys = [...apis.keys()];
    await probe.check('before random headers');

    const cases = Array.from({ length: RANDOM_HEADER_FRAMES }, (_, i) => {
      const apiKey = random.chance(0.75) ? random.pick(servedKeys) : random.pick([-1, 4, 5, 6, 7, 17, 23, 57, 32767, -32768, random.int(-32768, 32767)]);
      const range = apis.get(apiKey);
      const version = random.pick([
        random.int(-3, 20),
        random.int(-32768, 32767),
        ...(range ? [range.minVersion - 1, range.maxVersion + 1, random.int(range.minVersion, range.maxVersion), random.int(range.minVersion, range.maxVersion)] : []),
      ]);
      const correlationId = random.int(0, 1_000_000);
      const clientId = random.pick([null, '', 'fuzz', random.bytes(random.int(0, 40)).toString('latin1')]);
      const body = random.bytes(random.pick([0, random.int(1, 16), random.int(17, 300)]));
      const { payload } = encodeRequest(apiKey, version, correlationId, (b) => void b.writer.raw(body), { clientId, flexible: random.chance(0.3) });
      return { what: `api key ${apiKey} v${version} (case ${i})`, apiKey, version, range, correlationId, payload };
    });
    const outcomes = { refused: 0, unsupportedApiVersions: 0, answered: 0, closed: 0 };
    await forEachConcurrently(cases, async ({ what, apiKey, version, range, correlationId, payload }, i) => {
      const inRange = range !== undefined && version >= range.minVersion && version <= range.maxVersion;
      if (range === undefined || (!inRange && apiKey !== ApiKey.ApiVersions)) {
        await expectRefused(broker.port, frame(payload), `${what}: not served`);
        outcomes.refused++;
      } else if (!inRange) {
        // An ApiVersions version the broker does not speak: a v0 answer with UNSUPPORTED_VERSION, and the
        // connection stays usable (the probe behind it is answered too).
        const { responses } = await converse(broker.port, [frame(payload), probeFrame], { halfClose: false, stopWhen: (r) => r.length === 2 });
        expect(responses.map(correlationIdOf), `${what} (seed ${SEED})`).toEqual([correlationId, PROBE_CORRELATION_ID]);
        expect(responseBody(responses[0]!).int16(), what).toBe(KafkaError.UNSUPPORTED_VERSION);
        outcomes.unsupportedApiVersions++;
      } else {
        const request = frame(payload);
        const conversation = await converse(broker.port, [request], { halfClose: true });
        expectAtMostOwnResponse(conversation, request, what);
        outcomes[conversation.responses.length > 0 ? 'answered' : 'closed']++;
      }
      if (i % 500 === 499) await probe.check(`after ${i + 1} random headers`);
    });
    console.info(`random headers (seed ${SEED}): ${JSON.stringify(outcomes)}`);

    await expectServing(broker, 'after random headers');
    await probe.check('after random headers');
    expectNoInternalErrors(broker, 'after random headers');
    expect(await broker.stop(), 'exit status after SIGTERM: a clean shutdown').toEqual({ code: 0, signal: null });
  });

  it('refuses or survives mutations of well-formed requests of every served API and version (seeded)', async () => {
    const random = seededRandom();
    const broker = await startFuzzBroker();
    const probe = await startClientProbe(broker);
    const apis = await advertisedApis(broker.port);
    expect([...apis.keys()].filter((key) => templates[key] === undefined), 'served APIs without a fuzz template').toEqual([]);

    const topic = uniqueName('fuzz-target');
    const partitionsTopic = uniqueName('fuzz-partitions');
    await probe.admin.createTopics({ topics: [{ topic, numPartitions: 2 }, { topic: partitionsTopic, numPartitions: 2 }], waitForLeaders: true });
    const records: TestRecord[] = [
      { key: 'fuzz-key', value: 'fuzz-value-0', headers: { h: 'v' } },
      { key: null, value: 'fuzz-value-1' },
    ];
    const batch = await recordBatch(records);
    let groupCounter = 0;
    const context = (): TemplateContext => ({ topic, partitionsTopic, group: `fuzz-group-${SEED}-${groupCounter++}`, batch });
    await probe.check('before mutations');

    const outcomes = { refused: 0, answered: 0, closed: 0 };
    /** Groups that well-formed JoinGroups (v0-3, which admit the member at once) gave a member. */
    const joinedGroups: string[] = [];
    for (const [apiKey, range] of [...apis].sort(([a], [b]) => a - b)) {
      const template = templates[apiKey]!;
      for (let version = range.minVersion; version <= range.maxVersion; version++) {
        const flexible = template.flexibleFrom !== undefined && version >= template.flexibleFrom;
        const encode = (correlationId: number, ctx = context()) => encodeRequest(apiKey, version, correlationId, (b) => template.body(b, version, ctx), { flexible });
        const what = `api key ${apiKey} v${version}`;

        // The template itself is well-formed: three pipelined copies get three answers, in order.
        const contexts = [context(), context(), context()];
        if (apiKey === ApiKey.JoinGroup && version < 4) joinedGroups.push(...contexts.map((c) => c.group));
        const pipelined = contexts.map((ctx, i) => frame(encode(i + 1, ctx).payload));
        const { responses } = await converse(broker.port, pipelined, { halfClose: false, stopWhen: (r) => r.length === 3 });
        expect(responses.map(correlationIdOf), `${what}: three well-formed requests, answered in order\n${broker.output().split('\n').slice(-3).join('\n')}`).toEqual([1, 2, 3]);

        const mutations = mutationsOf(encode(random.int(0, 1_000_000)), random);
        await forEachConcurrently(mutations, async (mutation) => {
          const label = `${what}, ${mutation.kind}`;
          if (mutation.expectRefusal) {
            await expectRefused(broker.port, mutation.bytes, label);
            outcomes.refused++;
            return;
          }
          const conversation = await converse(broker.port, [mutation.bytes], { halfClose: true });
          outcomes[conversation.responses.length > 0 ? 'answered' : 'closed']++;
          if (mutation.framing === 'kept') expectAtMostOwnResponse(conversation, mutation.bytes, label);
        });
        assertRunning(broker, `after mutations of ${what}`);
      }
      await probe.check(`after mutations of api key ${apiKey}`);
    }
    console.info(`mutations (seed ${SEED}): ${JSON.stringify(outcomes)}`);

    // The members that joined (and never sent SyncGroup or a heartbeat) expire on the broker's session
    // timers: wait for it, so those code paths run under this test's watch too.
    expect(joinedGroups.length, 'groups joined by well-formed JoinGroups').toBeGreaterThan(0);
    for (const group of joinedGroups) {
      await whileRunning(broker, `the expiry of the members of ${group}`, waitForGroupState(broker.port, group, ['Empty', 'Dead']));
    }

    // Whatever the mutations did to the target topic, every record it holds is intact and readable.
    const offsets = await probe.admin.fetchTopicOffsets(topic);
    const expectedCount = offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
    const consumer = await connected(probe.kafka.consumer({ groupId: uniqueName('fuzz-reader'), maxWaitTimeInMs: 100 }));
    await consumer.subscribe({ topic, fromBeginning: true });
    const read = collect(consumer);
    await whileRunning(broker, 'reading the fuzzed topic', read.until((messages) => messages.length >= expectedCount));
    for (const p of offsets) {
      const inPartition = read.messages.filter((m) => m.partition === p.partition).map((m) => m.offset);
      expect(inPartition, `offsets of ${topic}-${p.partition}`).toEqual(Array.from({ length: Number(p.high) - Number(p.low) }, (_, i) => Number(p.low) + i));
    }
    for (const message of read.messages) {
      expect(records.map((r) => r.value), `a stored record of ${topic}-${message.partition}@${message.offset}`).toContain(message.value?.toString());
    }
    await expectServing(broker, 'after mutations');
    await probe.check('after mutations');
    expectNoInternalErrors(broker, 'after mutations');
    expect(await broker.stop(), 'exit status after SIGTERM: a clean shutdown').toEqual({ code: 0, signal: null });
  });

  it('closes a connection whose frame size exceeds --max-request-bytes, and accepts one of exactly that size', async () => {
    const broker = await startFuzzBroker();
    const probe = await startClientProbe(broker);

    // The size alone must be enough: the broker must not wait for (or buffer) the announced bytes.
    for (const size of [MAX_REQUEST_BYTES + 1, 2 * MAX_REQUEST_BYTES, 0x7fffffff, -1, -2147483648, 0, 7]) {
      const { responses, closedByBroker } = await converse(broker.port, [sizeOnly(size)], { halfClose: false });
      expect({ responses: responses.length, closedByBroker }, `frame size ${size}`).toEqual({ responses: 0, closedByBroker: true });
    }

    // A whole ApiVersions request padded to exactly the limit is accepted (trailing bytes are ignored)...
    const header = encodeRequest(ApiKey.ApiVersions, 0, 41, () => undefined).payload;
    const atLimit = Buffer.concat([header, Buffer.alloc(MAX_REQUEST_BYTES - header.length)]);
    const accepted = await converse(broker.port, [frame(atLimit)], { halfClose: false, stopWhen: (r) => r.length === 1 });
    expect(accepted.responses.map(correlationIdOf), 'a frame of exactly --max-request-bytes').toEqual([41]);
    // ...and one byte more is refused, although the client sends it all.
    const overLimit = Buffer.concat([header, Buffer.alloc(MAX_REQUEST_BYTES + 1 - header.length)]);
    const refused = await converse(broker.port, [frame(overLimit)], { halfClose: false });
    expect({ responses: refused.responses.length, closedByBroker: refused.closedByBroker }, 'a frame one byte over the limit').toEqual({ responses: 0, closedByBroker: true });

    // A client that was answered, then sends an oversized frame, is disconnected after its answer.
    const client = await converse(broker.port, [probeFrame], { halfClose: false, thenAfterResponses: { count: 1, chunks: [sizeOnly(MAX_REQUEST_BYTES + 1)] } });
    expect({ responses: client.responses.map(correlationIdOf), closedByBroker: client.closedByBroker }).toEqual({
      responses: [PROBE_CORRELATION_ID],
      closedByBroker: true,
    });

    await expectServing(broker, 'after oversized frames');
    await probe.check('after oversized frames');
  });

  it('refuses broken record batches with the specific Kafka error codes and stores none of them', async () => {
    const broker = await startFuzzBroker();
    const topic = uniqueName('batches');
    const smallTopic = uniqueName('small-batches');
    const admin = await connected(kafkaFor(broker.bootstrap).admin());
    await admin.createTopics({
      topics: [
        { topic, numPartitions: 2 },
        { topic: smallTopic, numPartitions: 1, configEntries: [{ name: 'max.message.bytes', value: '256' }] },
      ],
      waitForLeaders: true,
    });

    const valid = await recordBatch([
      { key: 'k', value: 'v0', headers: { h: '1' } },
      { key: null, value: 'v1' },
      { key: 'k', value: 'v2' },
    ]);
    let correlationId = 0;
    /** Produce of one `records` per partition; the decoded per-partition (error, base offset). */
    const produce = async (
      partitions: { index: number; records: Buffer | null }[],
      options: { version?: number; acks?: number; topic?: string } = {},
    ): Promise<{ index: number; errorCode: number; baseOffset: number }[]> => {
      const version = options.version ?? 7;
      const id = ++correlationId;
      const { payload } = encodeRequest(ApiKey.Produce, version, id, (b) => {
        if (version >= 3) b.nullableString(null);
        b.int16(options.acks ?? -1).int32(5000);
        b.array([options.topic ?? topic], (b, name) => b.string(name).array(partitions, (b, p) => b.int32(p.index).nullableBytes(p.records)));
      });
      const { responses } = await converse(broker.port, [frame(payload)], { halfClose: false, stopWhen: (r) => r.length === 1 });
      expect(responses.map(correlationIdOf), `produce v${version} must be answered`).toEqual([id]);
      // Response => [name [index error_code base_offset v2+ log_append_time_ms v5+ log_start_offset]] v1+ throttle_time_ms
      const body = responseBody(responses[0]!);
      const topics = body.array((r) => ({
        name: r.string(),
        partitions: r.array((r) => {
          const partition = { index: r.int32(), errorCode: r.int16(), baseOffset: r.int64() };
          if (version >= 2) r.int64();
          if (version >= 5) r.int64();
          return partition;
        }),
      }));
      if (version >= 1) body.int32();
      expect(body.remaining, 'bytes left after the produce response').toBe(0);
      expect(topics.map((t) => t.name)).toEqual([options.topic ?? topic]);
      return topics[0]!.partitions;
    };
    const errorOf = async (records: Buffer | null, options: { version?: number; acks?: number; topic?: string } = {}) => (await produce([{ index: 1, records }], options))[0]!.errorCode;

    expect(await produce([{ index: 0, records: valid }])).toEqual([{ index: 0, errorCode: KafkaError.NONE, baseOffset: 0 }]);

    const flippedRecordBit = Buffer.from(valid);
    flippedRecordBit[flippedRecordBit.length - 1]! ^= 0x01;
    expect.soft(await errorOf(flippedRecordBit), 'a bit flipped inside the records').toBe(KafkaError.CORRUPT_MESSAGE);
    const wrongCrc = Buffer.from(valid);
    wrongCrc.writeUInt32BE((wrongCrc.readUInt32BE(BATCH.crc) ^ 0x80000000) >>> 0, BATCH.crc);
    expect.soft(await errorOf(wrongCrc), 'a wrong CRC field').toBe(KafkaError.CORRUPT_MESSAGE);
    expect.soft(await errorOf(valid.subarray(0, 40)), 'shorter than a batch header').toBe(KafkaError.INVALID_RECORD);

    expect.soft(await errorOf(resealed(valid, (b) => b.writeInt32BE(5, BATCH.recordCount))), 'record_count 5 with last_offset_delta 2').toBe(KafkaError.INVALID_RECORD);
    expect.soft(await errorOf(resealed(valid, (b) => b.writeInt32BE(0, BATCH.lastOffsetDelta))), 'last_offset_delta 0 with 3 records').toBe(KafkaError.INVALID_RECORD);
    expect.soft(await errorOf(resealed(valid, (b) => b.writeInt32BE(0, BATCH.recordCount))), 'record_count 0').toBe(KafkaError.INVALID_RECORD);
    expect.soft(await errorOf(Buffer.concat([valid, valid])), 'two batches for one partition').toBe(KafkaError.INVALID_RECORD);
    expect.soft(await errorOf(resealed(valid, (b) => b.writeInt16BE(0x10, BATCH.attributes))), 'a transactional batch').toBe(KafkaError.INVALID_RECORD);
    expect.soft(await errorOf(null), 'null records').toBe(KafkaError.INVALID_RECORD);
    // A batch cut short (its batch_length claims more bytes than sent): Kafka finds no complete batch.
    expect.soft([KafkaError.CORRUPT_MESSAGE, KafkaError.INVALID_RECORD], 'a batch cut short').toContain(await errorOf(valid.subarray(0, valid.length - 5)));

    for (const magic of [0, 1, 3]) {
      const wrongMagic = Buffer.from(valid);
      wrongMagic.writeInt8(magic, BATCH.magic); // outside the CRC
      expect.soft(await errorOf(wrongMagic), `magic ${magic}`).toBe(KafkaError.UNSUPPORTED_FOR_MESSAGE_FORMAT);
    }
    // Legacy message sets (magic 0/1, as Produce v0-2 clients send them): a single short message is
    // smaller than a v2 batch header, and must be recognised by its magic byte all the same.
    for (const value of ['legacy', 'legacy'.repeat(20)]) {
      for (const messageVersion of [0, 1]) {
        const legacy = MessageSet({ messageVersion, compression: 0, entries: [{ key: Buffer.from('k'), value: Buffer.from(value), timestamp: Date.now() }] }).buffer;
        expect.soft(await errorOf(Buffer.from(legacy), { version: 2 }), `a magic-${messageVersion} message set of ${legacy.length} bytes in Produce v2`).toBe(
          KafkaError.UNSUPPORTED_FOR_MESSAGE_FORMAT,
        );
      }
    }
    expect.soft(await errorOf(resealed(valid, (b) => b.writeInt16BE(7, BATCH.attributes))), 'compression codec 7').toBe(KafkaError.UNSUPPORTED_COMPRESSION_TYPE);
    expect.soft(await errorOf(valid, { acks: 2 }), 'acks 2').toBe(KafkaError.INVALID_REQUIRED_ACKS);
    const large = await recordBatch([{ key: null, value: 'x'.repeat(1000) }]);
    expect.soft((await produce([{ index: 0, records: large }], { topic: smallTopic }))[0]!.errorCode, 'a batch over max.message.bytes').toBe(KafkaError.MESSAGE_TOO_LARGE);

    // Errors are per partition: a good batch next to a broken one is still appended.
    expect(await produce([{ index: 0, records: valid }, { index: 1, records: wrongCrc }])).toEqual([
      { index: 0, errorCode: KafkaError.NONE, baseOffset: 3 },
      { index: 1, errorCode: KafkaError.CORRUPT_MESSAGE, baseOffset: -1 },
    ]);

    // Only the two valid batches were stored: partition 1 is empty, and kafkajs reads partition 0 intact.
    const offsets = await admin.fetchTopicOffsets(topic);
    expect(offsets.map((p) => ({ partition: p.partition, high: p.high })).sort((a, b) => a.partition - b.partition)).toEqual([
      { partition: 0, high: '6' },
      { partition: 1, high: '0' },
    ]);
    const kafka = kafkaFor(broker.bootstrap);
    const consumer = await connected(kafka.consumer({ groupId: uniqueName('batches'), maxWaitTimeInMs: 100 }));
    await consumer.subscribe({ topic, fromBeginning: true });
    const read = collect(consumer);
    await whileRunning(broker, 'reading the valid batches', read.until((m) => m.length >= 6));
    expect(read.messages.map((m) => [m.partition, m.offset, m.key?.toString() ?? null, m.value?.toString()])).toEqual([
      [0, 0, 'k', 'v0'],
      [0, 1, null, 'v1'],
      [0, 2, 'k', 'v2'],
      [0, 3, 'k', 'v0'],
      [0, 4, null, 'v1'],
      [0, 5, 'k', 'v2'],
    ]);
    expect(read.messages[0]!.headers['h']?.toString()).toBe('1');
    assertRunning(broker, 'after broken batches');
  });

  it('answers UNKNOWN_TOPIC_OR_PARTITION for unknown topics and partitions in Produce, Fetch and ListOffsets', async () => {
    const broker = await startFuzzBroker();
    const known = uniqueName('known');
    const admin = await connected(kafkaFor(broker.bootstrap).admin());
    await admin.createTopics({ topics: [{ topic: known, numPartitions: 1 }], waitForLeaders: true });
    const unknown = uniqueName('never-created');
    const batch = await recordBatch([{ key: null, value: 'lost' }]);
    const targets = [
      { topic: unknown, partition: 0 },
      { topic: known, partition: 1 },
      { topic: known, partition: -1 },
    ];

    /** One request per target, each on its own connection; the error code of each target's partition. */
    const ask = async (apiKey: number, version: number, writeBody: (b: RequestBuilder, target: { topic: string; partition: number }) => void, readError: (body: Reader) => number) => {
      const codes: number[] = [];
      for (const [i, target] of targets.entries()) {
        const { payload } = encodeRequest(apiKey, version, i, (b) => writeBody(b, target));
        const { responses } = await converse(broker.port, [frame(payload)], { halfClose: false, stopWhen: (r) => r.length === 1 });
        expect(responses.map(correlationIdOf), `api key ${apiKey} v${version} for ${JSON.stringify(target)}`).toEqual([i]);
        codes.push(readError(responseBody(responses[0]!)));
      }
      return codes;
    };
    const allUnknown = targets.map(() => KafkaError.UNKNOWN_TOPIC_OR_PARTITION);

    for (const version of [0, 3, 7]) {
      const codes = await ask(
        ApiKey.Produce,
        version,
        (b, t) => {
          if (version >= 3) b.nullableString(null);
          b.int16(-1).int32(5000).array([t.topic], (b, name) => b.string(name).array([t.partition], (b, p) => b.int32(p).nullableBytes(batch)));
        },
        firstPartitionError,
      );
      expect(codes, `Produce v${version}`).toEqual(allUnknown);
    }

    for (const version of [0, 4, 11]) {
      // max_wait_ms at its largest: an unknown partition must be answered at once, not parked.
      const codes = await ask(
        ApiKey.Fetch,
        version,
        (b, t) => {
          b.int32(-1).int32(0x7fffffff).int32(1);
          if (version >= 3) b.int32(1024 * 1024);
          if (version >= 4) b.int8(0);
          if (version >= 7) b.int32(0).int32(-1);
          b.array([t.topic], (b, name) =>
            b.string(name).array([t.partition], (b, p) => {
              b.int32(p);
              if (version >= 9) b.int32(-1);
              b.int64(0);
              if (version >= 5) b.int64(-1);
              b.int32(1024 * 1024);
            }),
          );
          if (version >= 7) b.array([] as string[], (b, name) => b.string(name));
          if (version >= 11) b.string('');
        },
        (r) => {
          if (version >= 1) r.int32(); // throttle_time_ms
          if (version >= 7) {
            expect(r.int16(), 'top-level error_code').toBe(KafkaError.NONE);
            r.int32(); // session_id
          }
          return firstPartitionError(r);
        },
      );
      expect(codes, `Fetch v${version}`).toEqual(allUnknown);
    }

    for (const version of [0, 1, 3]) {
      const codes = await ask(
        ApiKey.ListOffsets,
        version,
        (b, t) => {
          b.int32(-1);
          if (version >= 2) b.int8(0);
          b.array([t.topic], (b, name) =>
            b.string(name).array([t.partition], (b, p) => {
              b.int32(p).int64(-1);
              if (version === 0) b.int32(1);
            }),
          );
        },
        (r) => {
          if (version >= 2) r.int32(); // throttle_time_ms
          return firstPartitionError(r);
        },
      );
      expect(codes, `ListOffsets v${version}`).toEqual(allUnknown);
    }

    // None of that created the unknown topic (only Metadata auto-creates, and this one asks it not to).
    const { payload } = encodeRequest(ApiKey.Metadata, 4, 99, (b) => void b.array([unknown], (b, name) => b.string(name)).bool(false));
    const { responses } = await converse(broker.port, [frame(payload)], { halfClose: false, stopWhen: (r) => r.length === 1 });
    // Response v4 => throttle_time_ms [node_id host port rack] cluster_id controller_id [error_code name ...]
    const metadata = responseBody(responses[0]!);
    metadata.int32();
    metadata.array((r) => ({ nodeId: r.int32(), host: r.string(), port: r.int32(), rack: r.nullableString() }));
    metadata.nullableString();
    metadata.int32();
    expect(metadata.int32(), 'topics in the Metadata response').toBe(1);
    expect(metadata.int16(), 'Metadata for the unknown topic after produce/fetch/list-offsets').toBe(KafkaError.UNKNOWN_TOPIC_OR_PARTITION);
    assertRunning(broker, 'after unknown topics');
  });

  it('answers an unsupported ApiVersions version with a v0 body carrying UNSUPPORTED_VERSION', async () => {
    const broker = await startFuzzBroker();
    for (const [version, flexible] of [
      [99, false],
      [99, true],
      [4, false],
      [-1, false],
      [32767, false],
    ] as const) {
      const { payload } = encodeRequest(ApiKey.ApiVersions, version, 7, (b) => void b.compactString('shoal-chaos').compactString('1.0').taggedFields(), { flexible });
      // The connection stays usable: a v3 request behind it is answered as v3 (header v0, flexible body).
      const v3 = encodeRequest(ApiKey.ApiVersions, 3, 8, (b) => void b.compactString('shoal-chaos').compactString('1.0').taggedFields(), { flexible: true }).payload;
      const { responses } = await converse(broker.port, [frame(payload), frame(v3)], { halfClose: false, stopWhen: (r) => r.length === 2 });
      const what = `ApiVersions v${version}${flexible ? ' (header v2)' : ''}`;
      expect(responses.map(correlationIdOf), what).toEqual([7, 8]);

      // Response v0 => error_code:INT16 [api_key:INT16 min_version:INT16 max_version:INT16], header v0
      const unsupported = responseBody(responses[0]!);
      expect(unsupported.int16(), what).toBe(KafkaError.UNSUPPORTED_VERSION);
      const ranges = unsupported.array((r) => ({ apiKey: r.int16(), minVersion: r.int16(), maxVersion: r.int16() }));
      expect(unsupported.remaining, `${what}: a v0 body has nothing after the array`).toBe(0);
      expect(ranges.find((r) => r.apiKey === ApiKey.ApiVersions), what).toEqual({ apiKey: ApiKey.ApiVersions, minVersion: 0, maxVersion: 3 });

      // Response v3 => error_code COMPACT_ARRAY[api_key min max TAGGED_FIELDS] throttle_time_ms TAGGED_FIELDS
      const supported = responseBody(responses[1]!);
      expect(supported.int16()).toBe(KafkaError.NONE);
      const count = supported.uvarint() - 1;
      const keys: number[] = [];
      for (let i = 0; i < count; i++) {
        keys.push(supported.int16());
        supported.int16();
        supported.int16();
        supported.skipTaggedFields();
      }
      supported.int32();
      supported.skipTaggedFields();
      expect(supported.remaining).toBe(0);
      expect(keys).toEqual(expect.arrayContaining(Object.values(ApiKey)));
    }
    assertRunning(broker, 'after unsupported ApiVersions');
  });

  it('returns committed INT64 offsets exactly or refuses them; an extreme one never makes the group unreadable', async () => {
    const broker = await startFuzzBroker();
    const topic = uniqueName('offsets');
    const admin = await connected(kafkaFor(broker.bootstrap).admin());
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
    const group = uniqueName('int64-group');
    const offsets = [12_345n, 2n ** 53n + 1n, 2n ** 63n - 1n]; // one per partition
    const ask = async (correlationId: number, apiKey: number, version: number, writeBody: (b: RequestBuilder) => void): Promise<Reader> => {
      const { payload } = encodeRequest(apiKey, version, correlationId, writeBody);
      const { responses } = await converse(broker.port, [frame(payload)], { halfClose: false, stopWhen: (r) => r.length === 1 });
      expect(responses.map(correlationIdOf), `api key ${apiKey} v${version} must be answered\n${broker.output().split('\n').slice(-2).join('\n')}`).toEqual([correlationId]);
      return responseBody(responses[0]!);
    };

    // OffsetCommit v2 => group_id generation_id member_id retention_time_ms [name [partition_index committed_offset metadata]]
    const committed = await ask(1, ApiKey.OffsetCommit, 2, (b) =>
      b
        .string(group)
        .int32(-1)
        .string('')
        .int64(-1)
        .array([topic], (b, name) => b.string(name).array([0, 1, 2], (b, p) => b.int32(p).bigInt64(offsets[p]!).nullableString(null))),
    );
    // Response v2 => [name [partition_index error_code]]
    const commitErrors = committed.array((r) => ({ name: r.string(), partitions: r.array((r) => ({ partition: r.int32(), errorCode: r.int16() })) }))[0]!.partitions;

    // OffsetFetch v2 with null topics: every committed offset of the group, the extreme one included.
    const fetched = await ask(2, ApiKey.OffsetFetch, 2, (b) => b.string(group).nullableArray(null, (b, name: string) => b.string(name)));
    // Response v2 => [name [partition_index committed_offset metadata error_code]] error_code
    const returned = new Map<number, bigint>();
    const bigInt64 = (r: Reader) => {
      const at = r.offset;
      r.int64(); // bounds-checked skip; the exact value is read as a bigint
      return r.buffer.readBigInt64BE(at);
    };
    for (const t of fetched.array((r) => ({ name: r.string(), partitions: r.array((r) => ({ partition: r.int32(), offset: bigInt64(r), metadata: r.nullableString(), errorCode: r.int16() })) }))) {
      for (const p of t.partitions) returned.set(p.partition, p.offset);
    }
    expect(fetched.int16(), 'OffsetFetch error code').toBe(KafkaError.NONE);
    for (const { partition, errorCode } of commitErrors) {
      if (errorCode !== KafkaError.NONE) continue; // refusing an offset the broker cannot represent is fine
      expect.soft(returned.get(partition), `offset ${offsets[partition]} committed (NONE) for partition ${partition}, as fetched back`).toBe(offsets[partition]);
    }
    await expectServing(broker, 'after extreme committed offsets');
  });

  it('stays up when a response cannot be encoded (strings that outgrow INT16 when echoed back)', async () => {
    const broker = await startFuzzBroker();
    const probe = await startClientProbe(broker);
    // 0xFF is not UTF-8: decoded as U+FFFD it re-encodes to three bytes, so 11,000 bytes come back as 33,000.
    const invalidUtf8 = Buffer.alloc(11_000, 0xff);
    const joinBody = (group: Buffer, member: Buffer) => (b: RequestBuilder) =>
      void b.stringBytes(group).int32(6000).stringBytes(member).string('consumer').array(['range'], (b, name) => b.string(name).bytes(Buffer.alloc(0)));
    const vectors: { what: string; request: EncodedRequest }[] = [
      {
        // The member id given to a new member is `${client_id}-${uuid}`: a legal 32,740-byte client id makes it too long.
        what: 'JoinGroup v5 (MEMBER_ID_REQUIRED) from a client id of 32,740 bytes',
        request: encodeRequest(
          ApiKey.JoinGroup,
          5,
          1,
          (b) => void b.string(uniqueName('long-client')).int32(6000).int32(6000).string('').nullableString(null).string('consumer').array(['range'], (b, n) => b.string(n).bytes(Buffer.alloc(0))),
          { clientId: 'c'.repeat(32_740) },
        ),
      },
      { what: 'JoinGroup v0 with an empty group id and an invalid-UTF-8 member id', request: encodeRequest(ApiKey.JoinGroup, 0, 2, joinBody(Buffer.alloc(0), invalidUtf8)) },
      {
        what: 'Produce v7 to an invalid-UTF-8 topic name',
        request: encodeRequest(ApiKey.Produce, 7, 3, (b) => void b.nullableString(null).int16(-1).int32(5000).array([invalidUtf8], (b, name) => b.stringBytes(name).array([0], (b, p) => b.int32(p).nullableBytes(null)))),
      },
      { what: 'DescribeGroups of an invalid-UTF-8 group id', request: encodeRequest(ApiKey.DescribeGroups, 0, 4, (b) => void b.array([invalidUtf8], (b, id) => b.stringBytes(id))) },
    ];
    for (const { what, request } of vectors) {
      // The broker may answer with an error or close this connection; it must not exit.
      await converse(broker.port, [frame(request.payload)], { halfClose: true });
      await expectServing(broker, `after ${what}`);
    }
    await probe.check('after unencodable responses');
  });
});
