/**
 * The embedded broker, request by request, against Apache Kafka: for every API and version the embedded
 * broker advertises, the request sequences of scenarios.ts go to both brokers; Kafka's own codecs encode
 * the requests and decode the answers; the normalised answers are compared field by field. A difference
 * must be listed, with its reason, in divergences.ts (and docs/broker.md); anything else fails.
 */
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KAFKA_VERSION, WireCodec, startApacheKafka, type ApacheKafka } from '@shoal/apache-kafka';
import { startBroker, type RunningBroker } from '@shoal/broker';
import { apacheKafkaMissing } from './shared-apache-kafka.js';
import { Session, differences, normalise, type BrokerUnderTest, type Difference } from './differential.js';
import { divergences, type Divergence } from './divergences.js';
import { Api, scenarios } from './scenarios.js';

if (apacheKafkaMissing !== null) {
  describe('the embedded broker against Apache Kafka, request by request', () => {
    it.skip(`skipped: ${apacheKafkaMissing}`, () => undefined);
  });
}

const API_NAMES = Object.fromEntries(Object.entries(Api).map(([name, key]) => [key, name])) as Record<number, string>;
const runId = Date.now().toString(36);

describe.skipIf(apacheKafkaMissing !== null)(`the embedded broker against Apache Kafka ${KAFKA_VERSION}, request by request`, () => {
  let kafka: ApacheKafka;
  let embedded: RunningBroker;
  let embeddedDir: string;
  let codec: WireCodec;
  const targets = {} as Record<'kafka' | 'embedded', BrokerUnderTest>;
  const ranges = {} as Record<'kafka' | 'embedded', Map<number, { min: number; max: number }>>;
  const used = new Set<Divergence>();

  beforeAll(async () => {
    embeddedDir = mkdtempSync(join(tmpdir(), 'shoal-differential-'));
    // Topics are created only when asked for on both, so an unknown topic is an error on both.
    [kafka, embedded, codec] = await Promise.all([
      // Kafka batches target assignments of consumer groups (one run per consumer.assignment.interval.ms, 1 s by
      // default); the embedded broker computes each at once. At 0 Kafka does too, so the steps line up.
      startApacheKafka({ config: { 'auto.create.topics.enable': false, 'group.consumer.assignment.interval.ms': 0 } }),
      startBroker({ port: 0, dataDir: embeddedDir, logLevel: 'warn', autoCreateTopics: false, groupInitialRebalanceDelayMs: 0 }),
      WireCodec.start(),
    ]);
    targets.kafka = { name: 'kafka', host: kafka.host, port: kafka.port, nodeId: 1 };
    targets.embedded = { name: 'embedded', host: '127.0.0.1', port: Number(embedded.bootstrap.split(':')[1]), nodeId: 0 };
    await warmUp(kafka.bootstrap);
    for (const name of ['kafka', 'embedded'] as const) {
      const session = new Session(targets[name], codec);
      const answer = await session.call('versions', Api.ApiVersions, 3, { clientSoftwareName: 'shoal-differential', clientSoftwareVersion: '1.0' });
      session.close();
      ranges[name] = new Map((answer.apiKeys as { apiKey: number; minVersion: number; maxVersion: number }[]).map((k) => [k.apiKey, { min: k.minVersion, max: k.maxVersion }]));
    }
  }, 240_000);

  afterAll(async () => {
    await codec?.close();
    await embedded?.close();
    await kafka?.stop();
    if (embeddedDir !== undefined) rmSync(embeddedDir, { recursive: true, force: true });
  }, 60_000);

  const unexplained: Difference[] = [];

  for (const [apiKey, scenario] of Object.entries(scenarios).map(([key, s]) => [Number(key), s] as const)) {
    it(`${API_NAMES[apiKey]} (${apiKey}): every version the embedded broker advertises answers as Kafka does`, async () => {
      const mine = ranges.embedded.get(apiKey);
      expect(mine, `the embedded broker advertises ${API_NAMES[apiKey]}`).toBeDefined();
      // What Kafka serves: what its broker advertises, and its own codec can still write (Kafka 4 advertises
      // some versions it removed the message definitions of).
      const advertised = ranges.kafka.get(apiKey);
      const known = await codec.range(apiKey).catch(() => undefined);
      const theirs = advertised === undefined || known === undefined ? undefined : { min: Math.max(advertised.min, known.min), max: Math.min(advertised.max, known.max) };
      for (let version = mine!.min; version <= mine!.max; version++) {
        const name = `diff-${runId}-${apiKey}-${version}`;
        if (theirs === undefined || version < theirs.min || version > theirs.max) {
          // A version Kafka no longer (or never) serves: Kafka drops the connection; listed below.
          unexplained.push(...match([{ label: 'version Kafka does not serve', apiKey, version, path: '.served', kafka: false, embedded: true }]));
          continue;
        }
        const runs = {} as Record<'kafka' | 'embedded', ReturnType<typeof normalise>>;
        for (const target of ['kafka', 'embedded'] as const) {
          const session = new Session(targets[target], codec);
          try {
            await scenario(session, version, name);
          } catch (error) {
            throw new Error(`${API_NAMES[apiKey]} v${version} on ${target}: ${(error as Error).message}\n${JSON.stringify(session.steps.at(-1))}`, { cause: error });
          } finally {
            session.close();
          }
          runs[target] = normalise(session.steps, targets[target]);
        }
        unexplained.push(...match(differences(runs.kafka, runs.embedded)));
      }
      const mineUnexplained = unexplained.filter((d) => d.apiKey === apiKey);
      // SHOAL_DIFFERENTIAL_DUMP=<file>: every unexplained difference as a JSON line, for working through them.
      if (process.env.SHOAL_DIFFERENTIAL_DUMP) appendFileSync(process.env.SHOAL_DIFFERENTIAL_DUMP, mineUnexplained.map((d) => `${JSON.stringify(d)}\n`).join(''));
      expect(mineUnexplained).toEqual([]);
    }, 120_000);
  }

  /** The differences no listed divergence explains; marks the entries that explained one. */
  function match(found: Difference[]): Difference[] {
    return found.filter((difference) => {
      const entry = divergences.find(
        (d) =>
          (d.apiKey === undefined || d.apiKey === difference.apiKey) &&
          (d.versions === undefined || (difference.version >= d.versions[0] && difference.version <= d.versions[1])) &&
          (d.label === undefined || d.label.test(difference.label)) &&
          d.path.test(difference.path),
      );
      if (entry !== undefined) used.add(entry);
      return entry === undefined;
    });
  }

  it('answers versions it does not serve, unknown APIs and unparseable requests as Kafka does', async () => {
    const results = {} as Record<'kafka' | 'embedded', unknown[]>;
    for (const target of ['kafka', 'embedded'] as const) {
      const session = new Session(targets[target], codec);
      // ApiVersions of a version the broker does not know: a v0 body with UNSUPPORTED_VERSION (35), so the
      // client can retry with one it lists; only the error code is compared (the lists differ, see above).
      // (Sent as a newer client would: a flexible request header, and an empty tagged-field section as body.)
      await session.raw('ApiVersions v99', Api.ApiVersions, 99, Buffer.from([0, 0, 0]), { requestHeaderVersion: 2, responseHeaderVersion: 0 });
      await session.raw('Metadata v99', Api.Metadata, 99, Buffer.alloc(0));
      await session.raw('an API key nobody has', 999, 0, Buffer.alloc(0));
      await session.raw('Metadata v1 with a body that is not one', Api.Metadata, 1, Buffer.from([0x7f, 0xff, 0xff, 0xff, 0x00]));
      session.close();
      results[target] = session.steps.map((step) => {
        const result = step.result as { bodyHex?: string; connectionClosed?: boolean };
        return { label: step.label, answer: result.connectionClosed ? 'connection closed' : `error code ${Buffer.from(result.bodyHex!, 'hex').readInt16BE(0)}` };
      });
    }
    expect(results.kafka).toEqual([
      { label: 'ApiVersions v99', answer: 'error code 35' },
      { label: 'Metadata v99', answer: 'connection closed' },
      { label: 'an API key nobody has', answer: 'connection closed' },
      { label: 'Metadata v1 with a body that is not one', answer: 'connection closed' },
    ]);
    expect(results.embedded).toEqual(results.kafka);
  });

  it('lists no divergence that no longer occurs', () => {
    expect(divergences.filter((d) => !used.has(d)).map((d) => d.id)).toEqual([]);
  });
});

/**
 * Kafka creates __consumer_offsets on the first group request and answers COORDINATOR_NOT_AVAILABLE or
 * COORDINATOR_LOAD_IN_PROGRESS until it is loaded, and likewise for its first producer id: a client
 * retries those. One group join and one idempotent send (kafkajs retries until they succeed) make both
 * ready before anything is compared.
 */
async function warmUp(bootstrap: string): Promise<void> {
  const client = new kafkajs.Kafka({ brokers: [bootstrap], logLevel: kafkajs.logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 100 } });
  const admin = client.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'diff-warm-up', numPartitions: 1 }], waitForLeaders: true });
  const producer = client.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  await producer.send({ topic: 'diff-warm-up', acks: -1, messages: [{ value: 'warm' }] });
  const consumer = client.consumer({ groupId: 'diff-warm-up', maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic: 'diff-warm-up', fromBeginning: true });
  await new Promise<void>((resolve) => void consumer.run({ eachMessage: async () => resolve() }));
  await consumer.disconnect();
  await producer.disconnect();
  await admin.disconnect();
}
