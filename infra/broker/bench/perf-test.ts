import { runKafkaTool } from '@shoal/apache-kafka';
import type { BrokerProcess } from './broker-process.js';
import { startSpan } from './span.js';

/**
 * kafka-producer-perf-test (Apache Kafka's own load generator, a JVM from the pinned version's jars) as a
 * third producer: --throughput -1 (as fast as it goes), acks=all, its default batching (linger 5 ms,
 * 16 KiB batches in Kafka 4). Its own summary line gives the rate; the span measures the broker's CPU.
 */
export interface PerfTestRun {
  records: number;
  seconds: number;
  /** From its summary line: records/sec, and its avg and 99th percentile latency. */
  reportedPerSecond: number;
  avgLatencyMs: number;
  p99LatencyMs: number;
  brokerCpu: number | undefined;
  clientCpu: number | undefined;
}

export async function produceWithPerfTest(broker: BrokerProcess, options: { topic: string; records: number; recordBytes: number; timeLimitMs: number }): Promise<PerfTestRun> {
  const span = startSpan(broker, 'exited-children');
  const run = await runKafkaTool(
    'producerPerfTest',
    ['--topic', options.topic, '--num-records', String(options.records), '--record-size', String(options.recordBytes), '--throughput', '-1', '--command-property', `bootstrap.servers=${broker.bootstrap}`, 'acks=all'],
    { timeoutMs: options.timeLimitMs, heapMb: 512 },
  );
  const measured = await span.stop();
  const summary = /^(\d+) records sent, ([\d.]+) records\/sec \([\d.]+ MB\/sec\), ([\d.]+) ms avg latency, [\d.]+ ms max latency, \d+ ms 50th, \d+ ms 95th, (\d+) ms 99th/m.exec(run.stdout);
  if (run.code !== 0 || summary === null) throw new Error(`kafka-producer-perf-test failed (${run.code}):\n${run.stdout.slice(-2000)}\n${run.stderr.slice(-2000)}`);
  return {
    records: Number(summary[1]),
    seconds: Number(summary[1]) / Number(summary[2]),
    reportedPerSecond: Number(summary[2]),
    avgLatencyMs: Number(summary[3]),
    p99LatencyMs: Number(summary[4]),
    brokerCpu: measured.brokerCpu,
    clientCpu: measured.clientCpu,
  };
}
