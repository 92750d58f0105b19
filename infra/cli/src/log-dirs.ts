import { connect } from 'node:net';
import type { Admin } from 'kafkajs';
import { ShoalError } from '@shoal/core';
import {
  ApiKey,
  decodeDescribeLogDirsResponse,
  encodeDescribeLogDirsRequest,
  ErrorCode,
  Reader,
  Writer,
  type DescribeLogDirsResponse,
} from '@shoal/broker/protocol';
import { withAdmin } from './connection.js';

/**
 * Partition sizes in bytes from Kafka's DescribeLogDirs (API key 35), which kafkajs cannot send: one
 * plain TCP connection per broker, one request, one response.
 *
 *   Request frame  => size:INT32 api_key:INT16 api_version:INT16 correlation_id:INT32 client_id:NULLABLE_STRING body
 *   Response frame => size:INT32 correlation_id:INT32 body
 *
 * Header v1 / response header v0, and body version 1: the lowest version Apache Kafka 4 still serves
 * (it dropped v0), non-flexible, and served by Shoal's broker. Body layouts are in @shoal/broker/protocol.
 *
 * Sizes are a nicety next to message counts, so a broker that cannot tell them (too old for v1, which
 * Kafka answers by closing the connection; unreachable; silent past the timeout; an error on the log dir)
 * leaves its partitions out of the result instead of failing the command. A broker that answers with
 * bytes that are not a DescribeLogDirs response is a bug worth seeing: that raises SHOAL_BROKER_PROTOCOL.
 */
export type PartitionSizes = Map<string /* topic */, Map<number /* partition */, number /* bytes */>>;

export interface BrokerAddress {
  host: string;
  port: number;
}

export interface DescribeLogDirsOptions {
  /** A connected admin client to find the cluster's brokers with; without one, a client is opened on `brokers`. */
  admin?: Admin;
  /** How long one broker may take to connect and answer. Default 3 s. */
  timeoutMs?: number;
  clientId?: string;
}

const VERSION = 1;
const CORRELATION_ID = 1;
const DEFAULT_TIMEOUT_MS = 3_000;
/** Far above any real answer (about 30 bytes a partition), far below what would hurt to buffer. */
const MAX_RESPONSE_BYTES = 256 * 1024 * 1024;

/**
 * Bytes per partition of `topics` (default: every topic), asking every broker of the cluster behind
 * `brokers`. A partition missing from the result has no known size.
 */
export async function describeLogDirs(brokers: string[], topics?: readonly string[], options: DescribeLogDirsOptions = {}): Promise<PartitionSizes> {
  const cluster = options.admin ? await options.admin.describeCluster() : await withAdmin(brokers, (admin) => admin.describeCluster());
  // The topic filter is applied here rather than in the request: a request must list each topic's
  // partition indexes (an empty list describes none), and only a null list means "all of them".
  const responses = await Promise.all(
    cluster.brokers.map(({ host, port }) => describeBrokerLogDirs({ host, port }, { timeoutMs: options.timeoutMs, clientId: options.clientId })),
  );
  return partitionSizes(responses, topics);
}

/**
 * Adds up one cluster's answers. Within a broker a partition's current replica sits in one log dir, so
 * its log dirs are summed (a future replica being moved between dirs by AlterReplicaLogDirs is skipped,
 * and a dir answering an error, such as an offline disk, counts as unknown). Across brokers the largest
 * replica is reported, not the sum: every replica holds the same batches, so the sum would multiply the
 * size by the replication factor. The leader holds every acknowledged batch, so the largest copy is the
 * leader's up to segments a follower has not yet rolled or deleted on its own, and taking the maximum needs
 * no metadata about who leads and still answers while the leader's broker is down.
 */
export function partitionSizes(responses: readonly (DescribeLogDirsResponse | undefined)[], topics?: readonly string[]): PartitionSizes {
  const wanted = topics === undefined ? undefined : new Set(topics);
  const sizes: PartitionSizes = new Map();
  for (const response of responses) {
    if (response === undefined) continue;
    const onThisBroker: PartitionSizes = new Map();
    for (const dir of response.results) {
      if (dir.errorCode !== ErrorCode.NONE) continue;
      for (const topic of dir.topics) {
        if (wanted !== undefined && !wanted.has(topic.name)) continue;
        const partitions = onThisBroker.get(topic.name) ?? new Map<number, number>();
        onThisBroker.set(topic.name, partitions);
        for (const p of topic.partitions) {
          if (!p.isFutureKey) partitions.set(p.partitionIndex, (partitions.get(p.partitionIndex) ?? 0) + p.partitionSize);
        }
      }
    }
    for (const [topic, partitions] of onThisBroker) {
      const merged = sizes.get(topic) ?? new Map<number, number>();
      sizes.set(topic, merged);
      for (const [partition, bytes] of partitions) merged.set(partition, Math.max(merged.get(partition) ?? 0, bytes));
    }
  }
  return sizes;
}

/**
 * Asks one broker for all of its log dirs. Resolves `undefined` when the broker cannot be reached, closes
 * the connection before a whole response arrived, or is silent for `timeoutMs`.
 */
export function describeBrokerLogDirs(
  address: BrokerAddress,
  options: { timeoutMs?: number | undefined; clientId?: string | undefined } = {},
): Promise<DescribeLogDirsResponse | undefined> {
  const where = `${address.host}:${address.port}`;
  const request = encodeRequest(options.clientId ?? 'shoal-cli');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let size: number | undefined;
    let settled = false;
    const timer = setTimeout(() => finish({ response: undefined }), options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    const socket = connect({ host: address.host, port: address.port });
    const finish = (outcome: { response: DescribeLogDirsResponse | undefined } | { error: ShoalError }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if ('error' in outcome) reject(outcome.error);
      else resolve(outcome.response);
    };
    const malformed = (reason: string, cause?: unknown) =>
      finish({
        error: new ShoalError('SHOAL_BROKER_PROTOCOL', `broker ${where} sent a malformed DescribeLogDirs response: ${reason}`, cause === undefined ? {} : { cause }),
      });

    socket.once('connect', () => socket.write(request));
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      if (size === undefined) {
        if (received < 4) return;
        size = Buffer.concat(chunks, received).readInt32BE(0);
        if (size < 4 || size > MAX_RESPONSE_BYTES) return malformed(`frame size ${size} is outside 4..${MAX_RESPONSE_BYTES}`);
      }
      // Joined once, when the whole frame is in: a large answer arrives in many reads.
      if (received < 4 + size) return;
      try {
        const reader = new Reader(Buffer.concat(chunks, received).subarray(0, 4 + size), 4);
        const correlationId = reader.int32();
        if (correlationId !== CORRELATION_ID) return malformed(`correlation id ${correlationId}, expected ${CORRELATION_ID}`);
        const response = decodeDescribeLogDirsResponse(reader);
        if (reader.remaining > 0) return malformed(`${reader.remaining} byte(s) left after the last field`);
        finish({ response });
      } catch (error) {
        // The reader bounds-checks every field, so this is a ProtocolDecodeError; anything else still must not escape an event handler.
        return malformed(error instanceof Error ? error.message : String(error), error);
      }
    });
    // Refused, reset, or closed before a whole frame: Kafka closes the connection on a version it does not serve.
    socket.on('error', () => finish({ response: undefined }));
    socket.on('close', () => finish({ response: undefined }));
  });
}

function encodeRequest(clientId: string): Buffer {
  const writer = new Writer().int32(0).int16(ApiKey.DescribeLogDirs).int16(VERSION).int32(CORRELATION_ID).nullableString(clientId);
  encodeDescribeLogDirsRequest(writer, { topics: null });
  const frame = writer.toBuffer();
  frame.writeInt32BE(frame.length - 4, 0);
  return frame;
}
