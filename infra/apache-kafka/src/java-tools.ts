/**
 * Apache Kafka's Java programs from the same jars as the broker: its command-line tools (what
 * bin/kafka-topics.sh and friends run) and the client conformance program of ../java, which Java compiles
 * from its single source file at launch.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { PACKAGE_DIR, kafkaClasspath } from './classpath.js';

/** The main classes behind Kafka's bin/ scripts, as of 4.x (the tools moved to the kafka-tools module). */
export const KafkaTool = {
  topics: 'org.apache.kafka.tools.TopicCommand',
  consumerGroups: 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand',
  consoleProducer: 'org.apache.kafka.tools.ConsoleProducer',
  consoleConsumer: 'org.apache.kafka.tools.consumer.ConsoleConsumer',
  producerPerfTest: 'org.apache.kafka.tools.ProducerPerformance',
  consumerPerfTest: 'org.apache.kafka.tools.ConsumerPerformance',
} as const;

export interface JavaRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface JavaRunOptions {
  /** Written to the program's stdin, which is then closed. */
  input?: string;
  /** Default 120 s; the program is killed after it. */
  timeoutMs?: number;
  env?: Record<string, string>;
  /** Default 256: a tool needs little, and the machine has two cores for everything. */
  heapMb?: number;
}

/** Runs `main` (a class name or a single .java source file) on Kafka's classpath. */
export function runJava(main: string, args: readonly string[], options: JavaRunOptions = {}): Promise<JavaRun> {
  const classpath = kafkaClasspath();
  // Kafka's tools log through log4j2; without a configuration it prints only errors, which is what a
  // test wants from a tool's stderr.
  const jvm = [`-Xmx${options.heapMb ?? 256}m`, '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Djava.awt.headless=true'];
  const child = spawn('java', [...jvm, '-cp', classpath, main, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  child.stdin.end(options.input ?? '');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal === null ? null : -1), stdout, stderr });
    });
  });
}

/** One of Kafka's command-line tools, e.g. `runKafkaTool('topics', ['--bootstrap-server', b, '--list'])`. */
export function runKafkaTool(tool: keyof typeof KafkaTool, args: readonly string[], options: JavaRunOptions = {}): Promise<JavaRun> {
  return runJava(KafkaTool[tool], args, options);
}

export const CLIENT_CONFORMANCE_SOURCE = join(PACKAGE_DIR, 'java', 'ClientConformance.java');

/**
 * A scenario of the Java client conformance program (see its header); resolves with its `key=value`
 * lines in order, and rejects with its output when it exits non-zero.
 */
export async function runJavaClient(scenario: string, args: readonly string[], options: JavaRunOptions = {}): Promise<Array<[string, string]>> {
  // The compiler runs in this JVM before the program: C2 and a larger heap than a tool's pay off.
  const run = await runJava(CLIENT_CONFORMANCE_SOURCE, [scenario, ...args], { heapMb: 384, ...options });
  if (run.code !== 0) throw new Error(`ClientConformance ${scenario} exited ${run.code}:\n${run.stdout.slice(-4000)}\n${run.stderr.slice(-8000)}`);
  return run.stdout
    .split('\n')
    .filter((line) => line.includes('='))
    .map((line) => {
      const at = line.indexOf('=');
      return [line.slice(0, at), line.slice(at + 1)] as [string, string];
    });
}
