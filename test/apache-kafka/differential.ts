/**
 * The machinery of the differential conformance suite (differential.test.ts): one scenario, a sequence of
 * requests written once as JSON, runs against each broker; Kafka's own codecs (WireCodec) encode every
 * request and decode every response; the results are normalised (ids, hosts, ports, throttle times, error
 * texts) and compared field by field, and each difference is matched against the list in divergences.ts.
 */
import kafkajs from 'kafkajs';
import type { WireCodec } from '@shoal/apache-kafka';
import { WireConnection } from './wire-client.js';

export interface BrokerUnderTest {
  name: 'kafka' | 'embedded';
  host: string;
  port: number;
  /** The broker's own node id (1 for the Kafka fixture, 0 for the embedded broker). */
  nodeId: number;
}

export type Step = { label: string; apiKey: number; version: number; result: unknown };

/** What a scenario may do on one broker: recorded requests, plus setup whose answers are not compared. */
export class Session {
  readonly steps: Step[] = [];
  private readonly connections: WireConnection[] = [];
  private main: WireConnection | undefined;

  constructor(
    readonly broker: BrokerUnderTest,
    private readonly codec: WireCodec,
  ) {}

  async connection(): Promise<WireConnection> {
    const connection = await WireConnection.open(this.broker.host, this.broker.port);
    this.connections.push(connection);
    return connection;
  }

  /** Encodes `data` with Kafka's codec for `version`, sends it, decodes the answer; recorded under `label`. */
  async call(label: string, apiKey: number, version: number, data: unknown, on?: WireConnection): Promise<Record<string, any>> {
    const pending = await this.start(label, apiKey, version, data, on);
    return pending();
  }

  /**
   * Sends now, decodes later: for requests that park on the broker (a JoinGroup waiting for other members)
   * while the scenario sends others. The step is recorded in the order the scenario awaits it.
   */
  async start(label: string, apiKey: number, version: number, data: unknown, on?: WireConnection): Promise<() => Promise<Record<string, any>>> {
    const encoded = await encodeForVersion(this.codec, apiKey, version, data);
    const connection = on ?? (this.main ??= await this.connection());
    const sent = connection.send(apiKey, version, encoded.body, encoded);
    return async () => {
      const answer = await sent;
      let result: Record<string, any>;
      if (answer.closed) result = { connectionClosed: true };
      else {
        const decoded = await this.codec.decode(apiKey, version, answer.body);
        result = decoded.trailing === 0 ? decoded.data : { ...decoded.data, trailingBytes: decoded.trailing };
      }
      this.steps.push({ label, apiKey, version, result });
      return result;
    };
  }

  /** Sends raw bytes (an unparseable body, a version no codec knows); the answer is recorded as bytes. */
  async raw(label: string, apiKey: number, version: number, body: Buffer, headers = { requestHeaderVersion: 1, responseHeaderVersion: 0 }): Promise<void> {
    const connection = await this.connection();
    const answer = await connection.send(apiKey, version, body, headers);
    this.steps.push({ label, apiKey, version, result: answer.closed ? { connectionClosed: true } : { bodyHex: answer.body.toString('hex') } });
  }

  /** kafkajs admin for setup (topics that must exist with leaders before the compared requests). */
  kafka(): kafkajs.Kafka {
    return new kafkajs.Kafka({ brokers: [`${this.broker.host}:${this.broker.port}`], logLevel: kafkajs.logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100 } });
  }

  async createTopic(topic: string, numPartitions: number, configEntries: { name: string; value: string }[] = []): Promise<void> {
    const admin = this.kafka().admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions, configEntries }] }).catch((error: { type?: string }) => {
        // kafkajs reads the metadata right after creating; a loaded Kafka may not list the topic yet (the loop below waits).
        if (error.type !== 'UNKNOWN_TOPIC_OR_PARTITION') throw error;
      });
      // Kafka creates a topic asynchronously: wait until its metadata has a leader for every partition.
      for (let attempt = 0; ; attempt++) {
        const metadata = await admin.fetchTopicMetadata({ topics: [topic] }).catch(() => undefined);
        const partitions = metadata?.topics[0]?.partitions ?? [];
        if (partitions.length === numPartitions && partitions.every((p) => p.leader >= 0)) break;
        if (attempt > 300) throw new Error(`topic ${topic} has no leaders after 30 s`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      await admin.disconnect();
    }
  }

  close(): void {
    for (const connection of this.connections) connection.close();
  }
}

/**
 * Scenarios write one request for every version; a field the version does not have is dropped (Kafka's
 * codec names it when it refuses to write a non-default value), as a client of that version would not
 * send it.
 */
async function encodeForVersion(codec: WireCodec, apiKey: number, version: number, data: unknown) {
  let current = data;
  for (let attempt = 0; ; attempt++) {
    try {
      return await codec.encode(apiKey, version, current);
    } catch (error) {
      const field = /Attempted to write a non-default (\w+) at version/.exec((error as Error).message)?.[1];
      if (field === undefined || attempt > 20) throw error;
      current = without(current, field);
    }
  }
}

function without(value: unknown, field: string): unknown {
  if (Array.isArray(value)) return value.map((item) => without(item, field));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).filter(([k]) => k !== field).map(([k, v]) => [k, without(v, field)]));
  }
  return value;
}

const SELF = '<self>';
/** Kafka's "no topic id" (all zeros) as its JSON converter writes a Uuid. */
const ZERO_TOPIC_ID = 'AAAAAAAAAAAAAAAAAAAAAA';

/**
 * What may differ between two correct brokers and is not compared: which node id, host and port the
 * one node has, cluster ids, producer ids, member ids (generated), throttle times and error message texts
 * (the codes are compared), topic ids (random per broker, named by first appearance like member ids), and the order of lists that are sets (configs, a group's members, per-group results, per-topic deletions). Member
 * ids are replaced by the order they first appear in, so the same
 * member must still be named in the same places.
 */
export function normalise(steps: Step[], broker: BrokerUnderTest): Step[] {
  const members = new Map<string, string>();
  const member = (id: unknown) => {
    if (typeof id !== 'string' || id === '') return id;
    if (!members.has(id)) members.set(id, `<member-${members.size + 1}>`);
    return members.get(id);
  };
  // Each member is named by the first answer that gives it its own id (its JoinGroup's member_id), so the
  // names do not depend on the order members are listed in elsewhere.
  for (const step of steps) member((step.result as Record<string, unknown>)?.memberId);
  // Topic ids are random per broker: named by the order they first appear in, as members are.
  const topicIds = new Map<string, string>();
  const topicId = (id: unknown) => {
    if (typeof id !== 'string' || id === ZERO_TOPIC_ID) return id;
    if (!topicIds.has(id)) topicIds.set(id, `<topic-${topicIds.size + 1}>`);
    return topicIds.get(id);
  };
  const node = (id: unknown) => (id === broker.nodeId ? SELF : id);
  const walk = (value: unknown, key: string | undefined): unknown => {
    if (Array.isArray(value)) {
      if (key !== undefined && /^(replicaNodes|isrNodes|offlineReplicas|eligibleLeaderReplicas|lastKnownElr)$/.test(key)) return value.map(node);
      const items = value.map((item) => walk(item, undefined));
      const all = (field: string) => items.length > 0 && items.every((item) => typeof (item as Record<string, unknown>)?.[field] === 'string');
      // Lists whose order carries no meaning: a resource's configs (Kafka lists them in its own config
      // definition's order) and per-group results (Kafka answers them grouped by coordinator shard).
      if (key === 'configs') return sortBy(items, 'name');
      if (key === 'members' && all('memberId')) return sortBy(items, 'memberId');
      if ((key === 'results' || key === 'groups') && all('groupId')) return sortBy(items, 'groupId');
      if (key === 'responses' && all('name') && items.every((item) => 'errorCode' in (item as object) && !('partitions' in (item as object)))) return sortBy(items, 'name');
      return items;
    }
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, walk(v, k)]));
    }
    switch (key) {
      case 'throttleTimeMs':
        return 0;
      case 'errorMessage':
        return '<not compared>';
      case 'host':
        return '<host>';
      case 'port':
        return '<port>';
      case 'clusterId':
        return '<cluster>';
      case 'nodeId':
      case 'leaderId':
      case 'brokerId':
      case 'controllerId':
        return node(value);
      case 'producerId':
        return typeof value === 'number' && value >= 0 ? '<pid>' : value;
      case 'memberId':
      case 'leader':
        return member(value);
      case 'topicId':
        return topicId(value);
      default:
        return value;
    }
  };
  return steps.map((step) => ({ ...step, result: walk(step.result, undefined) }));
}

function sortBy(items: unknown[], field: string): unknown[] {
  return [...items].sort((a, b) => String((a as Record<string, unknown>)[field]).localeCompare(String((b as Record<string, unknown>)[field])));
}

export interface Difference {
  label: string;
  apiKey: number;
  version: number;
  path: string;
  kafka: unknown;
  embedded: unknown;
}

/** Field-by-field differences between the two brokers' normalised steps, paired by position. */
export function differences(kafka: Step[], embedded: Step[]): Difference[] {
  const found: Difference[] = [];
  const length = Math.max(kafka.length, embedded.length);
  for (let i = 0; i < length; i++) {
    const k = kafka[i];
    const e = embedded[i];
    const step = (k ?? e)!;
    const base = { label: step.label, apiKey: step.apiKey, version: step.version };
    if (k === undefined || e === undefined || k.label !== e.label) {
      found.push({ ...base, path: '', kafka: k?.label, embedded: e?.label });
      continue;
    }
    compare(k.result, e.result, '', (path, a, b) => found.push({ ...base, path, kafka: a, embedded: b }));
  }
  return found;
}

function compare(a: unknown, b: unknown, path: string, report: (path: string, a: unknown, b: unknown) => void): void {
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return report(`${path}.length`, a.length, b.length);
    a.forEach((item, i) => compare(item, b[i], `${path}[${i}]`, report));
    return;
  }
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of keys) compare((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], `${path}.${key}`, report);
    return;
  }
  if (JSON.stringify(a) !== JSON.stringify(b)) report(path, a, b);
}
