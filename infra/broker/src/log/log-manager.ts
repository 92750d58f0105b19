import type { Logger } from 'pino';
import { ErrorCode } from '../protocol/error-codes.js';
import { Reader } from '../protocol/reader.js';
import { LogStore } from './log-store.js';
import { checkSequence, lastSequenceOf, recordAppend, type ProducerEntry } from './producer-state.js';
import { assignBaseOffset, BATCH_HEADER_SIZE, InvalidBatchError, stampLogAppendTime, validateBatch } from './record-batch.js';
import { effectiveTopicConfig, validateTopicConfigs, type BrokerLogDefaults, type EffectiveTopicConfig } from './topic-config.js';

/**
 * Topics and partition logs: the in-memory view (log start/end offsets, producer windows, waiters) over
 * the durable LogStore. Everything here is synchronous; a produce request's appends commit in one
 * SQLite transaction and only then become visible to fetches and wake parked ones.
 */
export const MAX_PARTITIONS_PER_TOPIC = 10_000;
const NO_PRODUCER_ID = -1;
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

/** Whether `name` is a legal Kafka topic name (what CreateTopics accepts and Metadata looks up). */
export function isValidTopicName(name: string): boolean {
  return TOPIC_NAME.test(name) && name !== '.' && name !== '..';
}

export class PartitionLog {
  logStartOffset: number;
  logEndOffset: number;
  sizeBytes: number;
  readonly producers = new Map<number, ProducerEntry>();
  private readonly appendListeners = new Set<() => void>();

  constructor(
    readonly topic: Topic,
    readonly index: number,
    state: { logStartOffset: number; logEndOffset: number; sizeBytes: number },
  ) {
    this.logStartOffset = state.logStartOffset;
    this.logEndOffset = state.logEndOffset;
    this.sizeBytes = state.sizeBytes;
  }

  /** Calls `listener` after each committed append until the returned function is called. */
  onAppend(listener: () => void): () => void {
    this.appendListeners.add(listener);
    return () => this.appendListeners.delete(listener);
  }

  notifyAppended(): void {
    for (const listener of [...this.appendListeners]) listener();
  }
}

export class Topic {
  readonly partitions: PartitionLog[] = [];

  constructor(
    readonly id: number,
    /** The protocol's topic id, 32 hex digits (see LogStore). */
    readonly uuid: string,
    readonly name: string,
    public configs: Record<string, string>,
    /** Resolved when the configs are set (at creation and by an alter), not per batch: produce reads it per batch. */
    public config: EffectiveTopicConfig,
  ) {}
}

export interface AppendRequest {
  topic: string;
  partition: number;
  records: Buffer | null;
}

export interface AppendResult {
  errorCode: number;
  errorMessage?: string;
  baseOffset: number;
  logAppendTimeMs: number;
  logStartOffset: number;
}

export interface LogManagerOptions {
  store: LogStore;
  defaults: BrokerLogDefaults;
  logger: Logger;
  now?: () => number;
}

export class LogManager {
  private readonly topics = new Map<string, Topic>();
  private readonly store: LogStore;
  private readonly defaults: BrokerLogDefaults;
  private readonly logger: Logger;
  private readonly now: () => number;
  private cachedClusterId: string | undefined;

  constructor(options: LogManagerOptions) {
    this.store = options.store;
    this.defaults = options.defaults;
    this.logger = options.logger;
    this.now = options.now ?? Date.now;
    this.load();
  }

  private load(): void {
    const byId = new Map<number, Topic>();
    for (const stored of this.store.listTopics()) {
      const topic = new Topic(stored.id, stored.uuid, stored.name, stored.configs, effectiveTopicConfig(stored.configs, this.defaults));
      for (let p = 0; p < stored.partitions; p++) topic.partitions.push(new PartitionLog(topic, p, this.store.partitionState(stored.id, p)));
      this.topics.set(topic.name, topic);
      byId.set(topic.id, topic);
    }
    for (const row of this.store.listProducerStates()) {
      const partition = byId.get(row.topic_id)?.partitions[row.partition];
      partition?.producers.set(row.producer_id, { epoch: row.epoch, batches: JSON.parse(row.batches) as ProducerEntry['batches'] });
    }
  }

  listTopics(): Topic[] {
    return [...this.topics.values()];
  }

  getTopic(name: string): Topic | undefined {
    return this.topics.get(name);
  }

  /** The topic with protocol id `uuid` (32 hex digits). */
  getTopicByUuid(uuid: string): Topic | undefined {
    for (const topic of this.topics.values()) if (topic.uuid === uuid) return topic;
    return undefined;
  }

  getPartition(topic: string, partition: number): PartitionLog | undefined {
    return this.topics.get(topic)?.partitions[partition];
  }

  get logDefaults(): BrokerLogDefaults {
    return this.defaults;
  }

  /** Validates a create request; `dryRun` checks without creating (CreateTopics validate_only). */
  createTopic(name: string, partitions: number, configs: Record<string, string>, dryRun = false): { errorCode: number; errorMessage: string | null } {
    if (!isValidTopicName(name)) {
      return { errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION, errorMessage: `invalid topic name '${name}': use 1-249 characters of [a-zA-Z0-9._-]` };
    }
    if (this.topics.has(name)) return { errorCode: ErrorCode.TOPIC_ALREADY_EXISTS, errorMessage: `topic '${name}' already exists` };
    if (!Number.isInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS_PER_TOPIC) {
      return { errorCode: ErrorCode.INVALID_PARTITIONS, errorMessage: `number of partitions must be between 1 and ${MAX_PARTITIONS_PER_TOPIC}, got ${partitions}` };
    }
    const invalidConfig = validateTopicConfigs(configs);
    if (invalidConfig) return { errorCode: invalidConfig.errorCode, errorMessage: invalidConfig.message };
    if (dryRun) return { errorCode: ErrorCode.NONE, errorMessage: null };
    const { id, uuid } = this.store.insertTopic(name, partitions, configs);
    const topic = new Topic(id, uuid, name, configs, effectiveTopicConfig(configs, this.defaults));
    for (let p = 0; p < partitions; p++) topic.partitions.push(new PartitionLog(topic, p, { logStartOffset: 0, logEndOffset: 0, sizeBytes: 0 }));
    this.topics.set(name, topic);
    this.logger.info({ topic: name, partitions }, 'topic created');
    return { errorCode: ErrorCode.NONE, errorMessage: null };
  }

  /**
   * Replaces a topic's dynamic configs with `configs` (validated as at create); `dryRun` only validates
   * (validate_only). Retention and size limits apply from the next append or retention pass on.
   */
  alterTopicConfigs(name: string, configs: Record<string, string>, dryRun = false): { errorCode: number; errorMessage: string | null } {
    const topic = this.topics.get(name);
    if (!topic) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `topic '${name}' does not exist` };
    const invalidConfig = validateTopicConfigs(configs);
    if (invalidConfig) return { errorCode: invalidConfig.errorCode, errorMessage: invalidConfig.message };
    if (dryRun) return { errorCode: ErrorCode.NONE, errorMessage: null };
    this.store.updateTopicConfigs(topic.id, configs);
    topic.configs = { ...configs };
    topic.config = effectiveTopicConfig(topic.configs, this.defaults);
    this.logger.info({ topic: name, configs }, 'topic configs altered');
    return { errorCode: ErrorCode.NONE, errorMessage: null };
  }

  deleteTopic(name: string): number {
    const topic = this.topics.get(name);
    if (!topic) return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    this.store.deleteTopic(topic.id);
    this.topics.delete(name);
    // Wake parked fetches so they answer UNKNOWN_TOPIC_OR_PARTITION instead of waiting out max_wait_ms.
    for (const partition of topic.partitions) partition.notifyAppended();
    this.logger.info({ topic: name }, 'topic deleted');
    return ErrorCode.NONE;
  }

  addPartitions(name: string, count: number, dryRun: boolean): { errorCode: number; errorMessage: string | null } {
    const topic = this.topics.get(name);
    if (!topic) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `topic '${name}' does not exist` };
    const current = topic.partitions.length;
    if (!Number.isInteger(count) || count <= current || count > MAX_PARTITIONS_PER_TOPIC) {
      return { errorCode: ErrorCode.INVALID_PARTITIONS, errorMessage: `topic '${name}' has ${current} partitions; the new count must be larger (and at most ${MAX_PARTITIONS_PER_TOPIC}), got ${count}` };
    }
    if (dryRun) return { errorCode: ErrorCode.NONE, errorMessage: null };
    this.store.addPartitions(topic.id, current, count);
    for (let p = current; p < count; p++) topic.partitions.push(new PartitionLog(topic, p, { logStartOffset: 0, logEndOffset: 0, sizeBytes: 0 }));
    this.logger.info({ topic: name, from: current, to: count }, 'partitions added');
    return { errorCode: ErrorCode.NONE, errorMessage: null };
  }

  /**
   * Validates and appends one batch per partition, all in one transaction. A partition whose batch is
   * rejected gets its error; the others are still appended (as in Kafka, errors are per partition).
   */
  append(requests: AppendRequest[]): AppendResult[] {
    const now = this.now();
    const results: AppendResult[] = new Array(requests.length);
    const committed: { log: PartitionLog; lastOffset: number; bytes: number; producer?: { id: number; entry: ProducerEntry } }[] = [];
    // Offsets handed out in this request but not yet committed, for a request naming a partition twice.
    const pendingEnd = new Map<PartitionLog, number>();

    const failure = (errorCode: number, errorMessage: string): AppendResult => ({ errorCode, errorMessage, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1 });

    this.store.transaction(() => {
      requests.forEach((request, i) => {
        const log = this.getPartition(request.topic, request.partition);
        if (!log) {
          results[i] = failure(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `unknown topic or partition ${request.topic}-${request.partition}`);
          return;
        }
        if (request.records === null || request.records.length === 0) {
          results[i] = failure(ErrorCode.INVALID_RECORD, 'produce request without a record batch');
          return;
        }
        const config = log.topic.config;
        if (request.records.length > config.maxMessageBytes) {
          results[i] = failure(ErrorCode.MESSAGE_TOO_LARGE, `record batch of ${request.records.length} bytes exceeds max.message.bytes ${config.maxMessageBytes}`);
          return;
        }
        let header;
        try {
          header = validateBatch(request.records);
        } catch (error) {
          if (error instanceof InvalidBatchError) {
            results[i] = failure(error.errorCode, error.message);
            return;
          }
          throw error;
        }
        const start = pendingEnd.get(log) ?? log.logEndOffset;
        let producer: { id: number; entry: ProducerEntry } | undefined;
        if (header.producerId !== NO_PRODUCER_ID && header.baseSequence >= 0) {
          const lastSeq = lastSequenceOf(header.baseSequence, header.recordCount);
          const existing = committed.findLast((c) => c.log === log && c.producer?.id === header.producerId)?.producer?.entry ?? log.producers.get(header.producerId);
          const check = checkSequence(existing, header.producerEpoch, header.baseSequence, lastSeq);
          if (check.kind === 'duplicate') {
            // Kafka answers a duplicate with the first copy's offset and, in log_append_time_ms, its timestamp.
            results[i] = { errorCode: ErrorCode.NONE, baseOffset: check.baseOffset, logAppendTimeMs: check.maxTimestamp, logStartOffset: log.logStartOffset };
            return;
          }
          if (check.kind === 'error') {
            // A sequence error names the partition's log start, as Kafka's does.
            results[i] = { ...failure(check.errorCode, check.message), logStartOffset: log.logStartOffset };
            return;
          }
          producer = { id: header.producerId, entry: recordAppend(existing, header.producerEpoch, { firstSeq: header.baseSequence, lastSeq, baseOffset: start, maxTimestamp: config.logAppendTime ? now : header.maxTimestamp }) };
        }
        const batch = request.records;
        assignBaseOffset(batch, start);
        if (config.logAppendTime) stampLogAppendTime(batch, now);
        const lastOffset = start + header.lastOffsetDelta;
        this.store.insertBatch(log.topic.id, log.index, start, lastOffset, config.logAppendTime ? now : header.maxTimestamp, batch);
        if (producer) this.store.saveProducerState(log.topic.id, log.index, producer.id, producer.entry.epoch, producer.entry.batches);
        pendingEnd.set(log, lastOffset + 1);
        committed.push({ log, lastOffset, bytes: batch.length, ...(producer ? { producer } : {}) });
        results[i] = { errorCode: ErrorCode.NONE, baseOffset: start, logAppendTimeMs: config.logAppendTime ? now : -1, logStartOffset: log.logStartOffset };
      });
    });

    const touched = new Set<PartitionLog>();
    for (const { log, lastOffset, bytes, producer } of committed) {
      log.logEndOffset = lastOffset + 1;
      log.sizeBytes += bytes;
      if (producer) log.producers.set(producer.id, producer.entry);
      touched.add(log);
    }
    for (const log of touched) log.notifyAppended();
    return results;
  }

  /**
   * Stored batches whose last offset is at or after `offset`, up to `maxBytes`; the first batch is
   * returned even if it alone exceeds `maxBytes` when `atLeastOne` is set (so a consumer never stalls on
   * a batch larger than its fetch size).
   */
  read(log: PartitionLog, offset: number, maxBytes: number, atLeastOne: boolean): { batches: Buffer[]; bytes: number } {
    const batches: Buffer[] = [];
    let bytes = 0;
    if (offset >= log.logEndOffset) return { batches, bytes };
    for (const row of this.store.readFrom(log.topic.id, log.index, offset)) {
      if (bytes + row.data.length > maxBytes && !(atLeastOne && batches.length === 0)) break;
      batches.push(row.data);
      bytes += row.data.length;
      if (bytes >= maxBytes) break;
    }
    return { batches, bytes };
  }

  /** The first offset whose record timestamp is >= `timestamp` (ListOffsets by time), or null if none. */
  offsetForTimestamp(log: PartitionLog, timestamp: number): { offset: number; timestamp: number } | null {
    const row = this.store.firstBatchAtOrAfterTimestamp(log.topic.id, log.index, timestamp);
    if (!row) return null;
    const exact = findRecordAtOrAfter(row.data, timestamp);
    const offset = Math.max(exact?.offset ?? row.baseOffset, log.logStartOffset);
    return { offset, timestamp: exact?.timestamp ?? row.maxTimestamp };
  }

  /** The first record with the largest timestamp in the log (ListOffsets MAX_TIMESTAMP), or null if it is empty. */
  offsetOfMaxTimestamp(log: PartitionLog): { offset: number; timestamp: number } | null {
    const row = this.store.batchWithMaxTimestamp(log.topic.id, log.index, log.logStartOffset);
    if (!row) return null;
    const exact = findRecordAtOrAfter(row.data, row.maxTimestamp);
    return { offset: Math.max(exact?.offset ?? row.baseOffset, log.logStartOffset), timestamp: row.maxTimestamp };
  }

  /** DeleteRecords: moves the log start to `offset` (-1 = high watermark) and drops whole batches below it. */
  deleteRecords(log: PartitionLog, offset: number): { errorCode: number; lowWatermark: number } {
    const target = offset === -1 ? log.logEndOffset : offset;
    if (target < 0 || target > log.logEndOffset) return { errorCode: ErrorCode.OFFSET_OUT_OF_RANGE, lowWatermark: -1 };
    if (target > log.logStartOffset) this.truncate(log, target);
    return { errorCode: ErrorCode.NONE, lowWatermark: log.logStartOffset };
  }

  private truncate(log: PartitionLog, newStart: number): void {
    log.sizeBytes -= this.store.truncateBefore(log.topic.id, log.index, newStart);
    log.logStartOffset = newStart;
  }

  /**
   * Retention: deletes whole batches from the start of each partition while they are older than
   * retention.ms or the partition is above retention.bytes. Like Kafka, the newest batch is never deleted.
   */
  enforceRetention(): void {
    const now = this.now();
    for (const topic of this.topics.values()) {
      const config = topic.config;
      if (config.retentionMs < 0 && config.retentionBytes < 0) continue;
      for (const log of topic.partitions) {
        if (log.logEndOffset === log.logStartOffset) continue;
        let newStart = log.logStartOffset;
        let size = log.sizeBytes;
        const candidates = this.store.oldestBatches(topic.id, log.index, 1000);
        for (const batch of candidates.slice(0, -1)) {
          const expired = config.retentionMs >= 0 && batch.maxTimestamp < now - config.retentionMs;
          const oversized = config.retentionBytes >= 0 && size > config.retentionBytes;
          if (!expired && !oversized) break;
          newStart = batch.lastOffset + 1;
          size -= batch.size;
        }
        if (newStart > log.logStartOffset) {
          this.truncate(log, newStart);
          this.logger.debug({ topic: topic.name, partition: log.index, logStartOffset: newStart }, 'retention deleted old batches');
        }
      }
    }
  }

  allocateProducerId(): number {
    const next = Number(this.store.getMeta('next_producer_id') ?? '1000');
    this.store.setMeta('next_producer_id', String(next + 1));
    return next;
  }

  /** A stable id for this data directory, generated on first start like `kafka-storage format` would. */
  clusterId(): string {
    if (this.cachedClusterId === undefined) {
      let id = this.store.getMeta('cluster_id');
      if (!id) {
        id = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('base64url');
        this.store.setMeta('cluster_id', id);
      }
      this.cachedClusterId = id;
    }
    return this.cachedClusterId;
  }
}

/**
 * Finds the first record at or after `timestamp` inside one stored batch. Only uncompressed batches are
 * decoded (and only on this rare ListOffsets path); for compressed ones the caller falls back to the
 * batch's base offset, which is a correct lower bound.
 *
 *   Record => length:VARINT attributes:INT8 timestamp_delta:VARLONG offset_delta:VARINT ...
 */
function findRecordAtOrAfter(batch: Buffer, timestamp: number): { offset: number; timestamp: number } | null {
  try {
    const header = validateBatch(batch);
    const baseOffset = batch.readInt32BE(0) * 4294967296 + batch.readUInt32BE(4);
    if ((batch.readInt16BE(21) & 0x08) !== 0) return { offset: baseOffset, timestamp: header.maxTimestamp };
    if (header.compression !== 0) return null;
    const reader = new Reader(batch, BATCH_HEADER_SIZE);
    for (let i = 0; i < header.recordCount; i++) {
      const length = reader.varint();
      const end = reader.offset + length;
      reader.int8();
      const recordTimestamp = header.baseTimestamp + reader.varlong();
      const offsetDelta = reader.varint();
      if (recordTimestamp >= timestamp) return { offset: baseOffset + offsetDelta, timestamp: recordTimestamp };
      reader.offset = end;
    }
  } catch {
    // A stored batch always validated once; if it cannot be walked now, fall back to the batch bounds.
  }
  return null;
}
