/**
 * Conformance of the broker with the Python clients Debian ships: confluent-kafka (librdkafka) and
 * kafka-python (a pure-Python protocol implementation). The scripts under ./python report what they sent,
 * received and were answered as one JSON document; these tests judge it.
 *
 * Each test starts its own broker. Each script has its own hard deadline, and the child process a
 * slightly longer one, so a broken broker fails a test instead of hanging it.
 */
import { startTestBroker } from '@shoal/broker/testing';
import { uniqueName } from '@shoal/testing';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PYTHON, librdkafkaComplaints, processReport, pythonModulesMissingReason, runProcess } from './client-processes.js';

const SCRIPT_DIR = fileURLToPath(new URL('./python/', import.meta.url));
/** Deadline a script enforces on itself (it then reports a `deadline` result). */
const SCRIPT_DEADLINE_S = 30;
/** Bound on one script's process: its own deadline plus time to start and report. */
const SCRIPT_TIMEOUT_MS = (SCRIPT_DEADLINE_S + 10) * 1000;

const missingConfluent = pythonModulesMissingReason(['confluent_kafka']);
const missingKafkaPython = pythonModulesMissingReason(['kafka']);
for (const reason of [missingConfluent, missingKafkaPython]) {
  if (reason) console.warn(`skipping Python client conformance tests: ${reason}`);
}

async function runScript<T>(script: string, args: string[]): Promise<T> {
  const result = await runProcess(PYTHON, ['-u', `${SCRIPT_DIR}${script}`, ...args, String(SCRIPT_DEADLINE_S)], {
    timeoutMs: SCRIPT_TIMEOUT_MS,
    // No user site-packages: only Debian's client packages are under test.
    env: { ...process.env, PYTHONNOUSERSITE: '1', PYTHONDONTWRITEBYTECODE: '1' },
  });
  const lastLine = result.stdout.toString('utf8').trim().split('\n').at(-1) ?? '';
  let parsed: { ok: boolean; error?: string };
  try {
    parsed = JSON.parse(lastLine) as { ok: boolean; error?: string };
  } catch {
    throw new Error(`${script} printed no JSON result:\n${processReport(result)}`);
  }
  if (!parsed.ok) throw new Error(`${script} failed: ${parsed.error}\n${processReport(result)}`);
  // confluent-kafka's librdkafka logs to stderr; kafka-python's warnings are judged by the results alone.
  expect(librdkafkaComplaints(result.stderr), processReport(result)).toEqual([]);
  return parsed as T;
}

interface RecordJson {
  partition: number;
  offset: number;
  key: string | null;
  value: string | null;
  headers: [string, string | null][];
}

interface GroupRunResult {
  partitions: number;
  produced: RecordJson[];
  produceErrors: string[];
  consumed: RecordJson[];
  consumeErrors: string[];
  commits: { partition: number; offset: number; error: string | null }[];
  committed: { partition: number; offset: number | null; error: string | null }[];
  highWatermarks: Record<string, number>;
}

/** The host and port the broker tells clients to connect to. */
function advertised(bootstrap: string): { host: string; port: number } {
  const at = bootstrap.lastIndexOf(':');
  return { host: bootstrap.slice(0, at), port: Number(bootstrap.slice(at + 1)) };
}

const byKey = (records: RecordJson[]) => [...records].sort((a, b) => (a.key ?? '').localeCompare(b.key ?? ''));

/** The consumer got exactly what the producer sent, each once, where the broker said it stored it. */
function expectRoundTrip(run: GroupRunResult, count: number, label: string): void {
  expect(run.produceErrors, `${label}: produce errors`).toEqual([]);
  expect(run.produced, `${label}: delivery reports`).toHaveLength(count);
  expect(run.consumeErrors, `${label}: consume errors`).toEqual([]);
  // Key, value, headers (order and repeated names included), partition and offset all match.
  expect(byKey(run.consumed), `${label}: consumed records`).toEqual(byKey(run.produced));
  expect(run.produced.some((r) => r.headers.length === 4), `${label}: headers were sent`).toBe(true);
  expect(new Set(run.produced.map((r) => r.partition)).size, `${label}: every partition used`).toBe(run.partitions);
  expect(run.commits.filter((c) => c.error !== null), `${label}: commit errors`).toEqual([]);
  // What the group has committed, read back from the broker, is the end of every partition.
  expect(
    run.committed.map((c) => ({ partition: c.partition, offset: c.offset, error: c.error })),
    `${label}: committed offsets`,
  ).toEqual(Array.from({ length: run.partitions }, (_, p) => ({ partition: p, offset: run.highWatermarks[String(p)], error: null })));
}

const groupClients = [
  { client: 'confluent-kafka', script: 'confluent_group.py', missing: missingConfluent },
  { client: 'kafka-python', script: 'kafka_python_group.py', missing: missingKafkaPython },
];

for (const { client, script, missing } of groupClients) {
  describe.skipIf(missing !== null)(`${client} against the Shoal broker`, () => {
    it('consumes keyed messages with headers in a group, and a second run of the group resumes from the committed offsets', async () => {
      const broker = await startTestBroker();
      const topic = uniqueName(`${client}-group`);
      const group = uniqueName(`${client}-group`);
      const firstCount = 300;
      const secondCount = 30;

      const first = await runScript<GroupRunResult>(script, [broker.bootstrap, topic, group, '0', String(firstCount)]);
      expectRoundTrip(first, firstCount, 'first run');
      expect(Object.values(first.highWatermarks).reduce((a, b) => a + b, 0)).toBe(firstCount);

      // Only the new messages come back: anything re-delivered would precede them in its partition, and
      // the script polls until every new message arrived, so it would be seen.
      const second = await runScript<GroupRunResult>(script, [broker.bootstrap, topic, group, String(firstCount), String(secondCount)]);
      expectRoundTrip(second, secondCount, 'second run');
      expect(Object.values(second.highWatermarks).reduce((a, b) => a + b, 0)).toBe(firstCount + secondCount);
    }, 2 * SCRIPT_TIMEOUT_MS + 10_000);
  });
}

describe.skipIf(missingConfluent !== null)('confluent-kafka AdminClient against the Shoal broker', () => {
  it('creates, lists, describes the config of and deletes topics', async () => {
    const broker = await startTestBroker();
    const topicA = uniqueName('confluent-admin-a');
    const topicB = uniqueName('confluent-admin-b');
    interface Listing {
      brokers: { id: number; host: string; port: number }[];
      controllerId: number;
      topics: Record<string, { partitions: number[]; error: string | null; leaders: number[] }>;
    }
    const result = await runScript<{
      create: Record<string, string | null>;
      createAgain: Record<string, string | null>;
      list: Listing;
      configs: Record<string, Record<string, string>>;
      delete: Record<string, string | null>;
      listAfterDelete: Listing;
    }>('confluent_admin.py', [broker.bootstrap, topicA, topicB]);

    expect(result.create).toEqual({ [topicA]: null, [topicB]: null });
    expect(result.createAgain).toEqual({ [topicA]: 'TOPIC_ALREADY_EXISTS' });
    expect(result.list.brokers).toEqual([{ id: 0, ...advertised(broker.bootstrap) }]);
    expect(result.list.controllerId).toBe(0);
    expect(result.list.topics[topicA]).toEqual({ partitions: [0, 1, 2, 3], error: null, leaders: [0] });
    expect(result.list.topics[topicB]).toEqual({ partitions: [0], error: null, leaders: [0] });
    expect(result.configs[topicB]?.['retention.ms']).toBe('3600000');
    expect(result.delete).toEqual({ [topicA]: null });
    expect(Object.keys(result.listAfterDelete.topics)).not.toContain(topicA);
    expect(result.listAfterDelete.topics[topicB]).toEqual({ partitions: [0], error: null, leaders: [0] });
  });
});

describe.skipIf(missingKafkaPython !== null)('kafka-python KafkaAdminClient against the Shoal broker', () => {
  it('creates, lists, describes and deletes topics', async () => {
    const broker = await startTestBroker();
    const topicA = uniqueName('kafka-python-admin-a');
    const topicB = uniqueName('kafka-python-admin-b');
    const result = await runScript<{
      apiVersion: number[];
      create: Record<string, number>;
      createAgain: { type: string; errno: number | null } | null;
      list: string[];
      describe: Record<string, { error: number; partitions: number[]; leaders: number[] }>;
      cluster: { brokers: { node_id: number; host: string; port: number }[]; controllerId: number };
      delete: Record<string, number>;
      listAfterDelete: string[];
    }>('kafka_python_admin.py', [broker.bootstrap, topicA, topicB]);

    expect(result.create).toEqual({ [topicA]: 0, [topicB]: 0 });
    expect(result.createAgain).toEqual({ type: 'TopicAlreadyExistsError', errno: 36 });
    expect(result.list).toEqual(expect.arrayContaining([topicA, topicB]));
    expect(result.describe).toEqual({
      [topicA]: { error: 0, partitions: [0, 1], leaders: [0] },
      [topicB]: { error: 0, partitions: [0], leaders: [0] },
    });
    expect(result.cluster.controllerId).toBe(0);
    expect(result.cluster.brokers.map((b) => ({ node_id: b.node_id, host: b.host, port: b.port }))).toEqual([{ node_id: 0, ...advertised(broker.bootstrap) }]);
    expect(result.delete).toEqual({ [topicA]: 0 });
    expect(result.listAfterDelete).not.toContain(topicA);
    expect(result.listAfterDelete).toContain(topicB);
  });
});
