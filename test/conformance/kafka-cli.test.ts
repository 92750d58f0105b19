/**
 * Apache Kafka's own command-line tools, run from the pinned version's jars (the classes bin/kafka-*.sh
 * start), against the embedded broker: kafka-topics, the console producer and consumer,
 * kafka-consumer-groups (list and --describe with lag) and kafka-producer-perf-test.
 *
 * One embedded broker per test; each tool is a JVM child process, spawned asynchronously.
 */
import { describe, expect, it } from 'vitest';
import { KAFKA_VERSION, runKafkaTool, type JavaRun } from '@shoal/apache-kafka';
import { kafkaFor, startTestBroker } from '@shoal/broker/testing';
import { connected } from '@shoal/testing';
import { uniqueName } from '@shoal/testing';
import { apacheKafkaMissing } from '../apache-kafka/shared-apache-kafka.js';

if (apacheKafkaMissing !== null) {
  describe("Apache Kafka's command-line tools against the embedded broker", () => {
    it.skip(`skipped: ${apacheKafkaMissing}`, () => undefined);
  });
}

/** A tool's run that must succeed; its output otherwise. */
function ok(run: JavaRun): string {
  expect(run.code, `exit ${run.code}\n${run.stdout}\n${run.stderr}`).toBe(0);
  return run.stdout;
}

describe.skipIf(apacheKafkaMissing !== null)(`Apache Kafka ${KAFKA_VERSION}'s command-line tools against the embedded broker`, () => {
  it('kafka-topics creates with configs, lists, describes, adds partitions and deletes', async () => {
    const broker = await startTestBroker();
    const server = ['--bootstrap-server', broker.bootstrap];
    const topic = uniqueName('cli-topics');
    expect(ok(await runKafkaTool('topics', [...server, '--create', '--topic', topic, '--partitions', '3', '--config', 'retention.ms=3600000']))).toContain(`Created topic ${topic}.`);
    const again = await runKafkaTool('topics', [...server, '--create', '--topic', topic, '--partitions', '3']);
    expect(again.code).not.toBe(0);
    expect(again.stdout + again.stderr).toMatch(/already exists/);
    expect(ok(await runKafkaTool('topics', [...server, '--list'])).split('\n')).toContain(topic);

    const described = ok(await runKafkaTool('topics', [...server, '--describe', '--topic', topic]));
    expect(described).toMatch(new RegExp(`Topic: ${topic}\\s+TopicId: \\S+\\s+PartitionCount: 3\\s+ReplicationFactor: 1\\s+Configs: retention.ms=3600000|Topic: ${topic}\\s+PartitionCount: 3\\s+ReplicationFactor: 1\\s+Configs: retention.ms=3600000`));
    expect(described.match(/Partition: \d+\s+Leader: \d+\s+Replicas: \d+\s+Isr: \d+/g)).toHaveLength(3);

    ok(await runKafkaTool('topics', [...server, '--alter', '--topic', topic, '--partitions', '5']));
    expect(ok(await runKafkaTool('topics', [...server, '--describe', '--topic', topic]))).toMatch(/PartitionCount: 5/);

    ok(await runKafkaTool('topics', [...server, '--delete', '--topic', topic]));
    expect(ok(await runKafkaTool('topics', [...server, '--list'])).split('\n')).not.toContain(topic);
  });

  it('the console producer writes keys and headers that the console consumer and kafkajs read back, and kafka-consumer-groups shows the lag', async () => {
    const broker = await startTestBroker();
    const server = ['--bootstrap-server', broker.bootstrap];
    const kafka = kafkaFor(broker.bootstrap);
    const topic = uniqueName('cli-console');
    const group = uniqueName('cli-console');
    const admin = await connected(kafka.admin());
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });

    const lines = Array.from({ length: 6 }, (_, i) => `ce_type:cli.Test,n:${i}|k${i}:value ${i}`);
    ok(
      await runKafkaTool('consoleProducer', [...server, '--topic', topic, '--reader-property', 'parse.key=true', '--reader-property', 'key.separator=:', '--reader-property', 'parse.headers=true', '--reader-property', 'headers.delimiter=|'], {
        input: `${lines.join('\n')}\n`,
      }),
    );
    const consumed = ok(
      await runKafkaTool('consoleConsumer', [
        ...server,
        '--topic',
        topic,
        '--group',
        group,
        '--from-beginning',
        '--max-messages',
        '6',
        '--formatter-property',
        'print.key=true',
        '--formatter-property',
        'print.headers=true',
        '--formatter-property',
        'key.separator=;',
      ]),
    );
    const printed = consumed.split('\n').filter((line) => line.includes(';'));
    expect(printed.map((line) => line.split('\t').join(';')).sort()).toEqual(Array.from({ length: 6 }, (_, i) => `ce_type:cli.Test,n:${i};k${i};value ${i}`).sort());

    // One record per line the console producer read, no more.
    const fetched = await admin.fetchTopicOffsets(topic);
    expect(fetched.reduce((sum, p) => sum + Number(p.high), 0)).toBe(6);

    // The console consumer committed what it read: no lag; three more records make a lag of three.
    const describe = async () => ok(await runKafkaTool('consumerGroups', [...server, '--describe', '--group', group]));
    const lagOf = (table: string) =>
      table
        .split('\n')
        .filter((line) => line.startsWith(group))
        .map((line) => line.trim().split(/\s+/))
        .reduce((sum, columns) => sum + Number(columns[5]), 0);
    const before = await describe();
    expect(before).toMatch(/GROUP\s+TOPIC\s+PARTITION\s+CURRENT-OFFSET\s+LOG-END-OFFSET\s+LAG/);
    expect(lagOf(before)).toBe(0);
    const producer = await connected(kafka.producer());
    await producer.send({ topic, messages: [0, 1, 2].map((i) => ({ key: `late${i}`, value: 'late' })) });
    expect(lagOf(await describe())).toBe(3);
    expect(ok(await runKafkaTool('consumerGroups', [...server, '--list'])).split('\n')).toContain(group);
  });

  it('kafka-producer-perf-test sends every record it counts, acks=all', async () => {
    const broker = await startTestBroker();
    const topic = uniqueName('cli-perf');
    const admin = await connected(kafkaFor(broker.bootstrap).admin());
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
    const output = ok(
      await runKafkaTool('producerPerfTest', ['--topic', topic, '--num-records', '3000', '--record-size', '100', '--throughput', '-1', '--command-property', `bootstrap.servers=${broker.bootstrap}`, 'acks=all']),
    );
    expect(output).toMatch(/^3000 records sent, [\d.]+ records\/sec/m);
    const offsets = await admin.fetchTopicOffsets(topic);
    expect(offsets.reduce((sum, p) => sum + Number(p.high), 0)).toBe(3000);
  });
});
