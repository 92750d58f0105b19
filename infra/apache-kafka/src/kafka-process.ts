/**
 * A single-node Apache Kafka in KRaft mode (one process that is both broker and controller), run from the
 * jars Maven resolved, on free ports and a fresh data dir: format the storage, start, wait until it
 * answers, stop, delete. No Docker.
 *
 * Readiness is two positive signals: Kafka's own "Kafka Server started" line (the broker has registered
 * with its controller and can serve metadata) and an ApiVersions answer on the client listener.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KAFKA_VERSION, kafkaClasspath } from './classpath.js';

export interface ApacheKafkaOptions {
  /** Default: a fresh temp dir, deleted by stop(). A dir of the caller's is left where it is. */
  dataDir?: string;
  /** JVM heap ceiling in MiB. Default 384: the tests' load fits in it, beside everything else on 2 cores. */
  heapMb?: number;
  /** Further server.properties lines, overriding the fixture's. */
  config?: Record<string, string | number | boolean>;
  /** Default 120 s: a cold JVM on a busy 2-core machine. */
  readyTimeoutMs?: number;
}

export interface ApacheKafka {
  readonly version: string;
  /** `127.0.0.1:<port>`, for bootstrap servers. */
  readonly bootstrap: string;
  readonly host: string;
  readonly port: number;
  readonly pid: number;
  readonly dataDir: string;
  /** From spawning the JVM to the first ApiVersions answer, ms. */
  readonly msToFirstAnswer: number;
  /** From spawning the JVM to "Kafka Server started" and an answer, ms. */
  readonly msToReady: number;
  /** The tail of Kafka's server.log (for failure messages). */
  logTail(chars?: number): string;
  /** SIGTERM (controlled shutdown), SIGKILL after `timeoutMs`; then deletes a data dir the fixture made. */
  stop(timeoutMs?: number): Promise<void>;
}

/**
 * Kafka's cluster ids are 16 random bytes, base64url without padding (22 characters). Like Kafka's own
 * `Uuid.randomUuid`, it never starts with '-': the storage tool's argument parser would read such an id
 * as an option (one id in 64 did, and formatting failed).
 */
export function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** `count` distinct free ports, every listener held open until all are chosen so none is handed out twice. */
async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer());
  try {
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))));
    return servers.map((server) => (server.address() as { port: number }).port);
  } finally {
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  }
}

const LOG4J = `status = warn
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = \${sys:kafka.logs.dir}/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.out.type = Console
appender.out.name = STDOUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.file.ref = FILE
# Only the line the fixture waits for, and warnings, reach stdout.
logger.started.name = kafka.server.KafkaRaftServer
logger.started.level = info
logger.started.appenderRef.out.ref = STDOUT
logger.warnings.name = kafka
logger.warnings.level = info
logger.warnings.appenderRef.out.ref = STDOUT
logger.warnings.appenderRef.out.level = warn
`;

/**
 * JVM flags: a small fixed heap and G1 with Kafka's own pause goal (what kafka-server-start.sh passes),
 * so the process is Kafka as operators run it, only smaller.
 */
function jvmArgs(heapMb: number, logsDir: string, log4jFile: string): string[] {
  return [
    `-Xms${Math.min(128, heapMb)}m`,
    `-Xmx${heapMb}m`,
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-XX:InitiatingHeapOccupancyPercent=35',
    '-XX:+ExplicitGCInvokesConcurrent',
    '-Djava.awt.headless=true',
    `-Dkafka.logs.dir=${logsDir}`,
    `-Dlog4j2.configurationFile=${log4jFile}`,
  ];
}

function serverProperties(port: number, controllerPort: number, logDir: string, extra: ApacheKafkaOptions['config']): string {
  const config: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.voters': `1@127.0.0.1:${controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names': 'CONTROLLER',
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'inter.broker.listener.name': 'PLAINTEXT',
    'log.dirs': logDir,
    // One node: every internal topic has one replica.
    'offsets.topic.replication.factor': 1,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'share.coordinator.state.topic.replication.factor': 1,
    'share.coordinator.state.topic.min.isr': 1,
    // Fewer partitions for __consumer_offsets than the default 50: each is a log with preallocated index
    // files, and a test fixture has no use for the spread.
    'offsets.topic.num.partitions': 5,
    // A group's first member need not wait 3 s for others (the embedded broker's tests do the same).
    'group.initial.rebalance.delay.ms': 0,
    ...extra,
  };
  return Object.entries(config)
    .map(([key, value]) => `${key}=${String(value)}`)
    .join('\n');
}

/** Sends ApiVersions v0 and resolves true when a well-formed answer comes back. */
export function answersApiVersions(host: string, port: number, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, host);
    let received = Buffer.alloc(0);
    const finish = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.once('error', () => finish(false));
    socket.once('connect', () => {
      const clientId = Buffer.from('shoal-probe');
      const header = Buffer.alloc(10);
      header.writeInt16BE(18, 0); // ApiVersions
      header.writeInt16BE(0, 2);
      header.writeInt32BE(1, 4);
      header.writeInt16BE(clientId.length, 8);
      const size = Buffer.alloc(4);
      size.writeInt32BE(header.length + clientId.length);
      socket.write(Buffer.concat([size, header, clientId]));
    });
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 10 && received.length >= 4 + received.readInt32BE(0)) {
        finish(received.readInt32BE(4) === 1 && received.readInt16BE(8) === 0);
      }
    });
  });
}

const running = new Set<ChildProcess>();
// A JVM outliving the test process that started it would hold its ports and memory until someone noticed.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export async function startApacheKafka(options: ApacheKafkaOptions = {}): Promise<ApacheKafka> {
  const classpath = kafkaClasspath();
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'shoal-apache-kafka-'));
  const logDir = join(dataDir, 'kraft-logs');
  const logsDir = join(dataDir, 'server-logs');
  mkdirSync(logsDir, { recursive: true });
  const [port, controllerPort] = (await freePorts(2)) as [number, number];
  const propertiesFile = join(dataDir, 'server.properties');
  const log4jFile = join(dataDir, 'log4j2.properties');
  writeFileSync(propertiesFile, serverProperties(port, controllerPort, logDir, options.config));
  writeFileSync(log4jFile, LOG4J);
  const jvm = jvmArgs(options.heapMb ?? 384, logsDir, log4jFile);
  const removeOwnDir = () => {
    if (ownDir) rmSync(dataDir, { recursive: true, force: true });
  };

  const format = spawnSync('java', ['-Xmx256m', `-Dkafka.logs.dir=${logsDir}`, `-Dlog4j2.configurationFile=${log4jFile}`, '-cp', classpath, 'kafka.tools.StorageTool', 'format', `--cluster-id=${clusterId()}`, '-c', propertiesFile], {
    encoding: 'utf8',
  });
  if (format.status !== 0) {
    removeOwnDir();
    throw new Error(`formatting Kafka's storage failed (${format.status ?? format.signal}): ${(format.stdout + format.stderr).slice(-4000)}`);
  }

  const spawnedAt = performance.now();
  const child = spawn('java', [...jvm, '-cp', classpath, 'kafka.Kafka', propertiesFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let output = '';
  let started = false;
  const onStarted: Array<() => void> = [];
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-200_000);
    if (!started && /Kafka Server started/.test(output)) {
      started = true;
      for (const resolve of onStarted) resolve();
    }
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', () => running.delete(child));

  const logTail = (chars = 6000) => {
    let log = '';
    try {
      log = readFileSync(join(logsDir, 'server.log'), 'utf8');
    } catch {
      // Not written yet.
    }
    return `${output.slice(-chars)}\n--- server.log ---\n${log.slice(-chars)}`;
  };
  const kill = async () => {
    child.kill('SIGKILL');
    await exited;
  };

  const deadline = performance.now() + (options.readyTimeoutMs ?? 120_000);
  let msToFirstAnswer: number | undefined;
  try {
    const startedSignal = new Promise<void>((resolve) => (started ? resolve() : onStarted.push(resolve)));
    while (msToFirstAnswer === undefined) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`Apache Kafka exited (${child.exitCode ?? child.signalCode}) before it answered:\n${logTail()}`);
      if (performance.now() > deadline) throw new Error(`Apache Kafka did not answer within ${options.readyTimeoutMs ?? 120_000} ms:\n${logTail()}`);
      if (await answersApiVersions('127.0.0.1', port, 1000)) msToFirstAnswer = performance.now() - spawnedAt;
      else await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const remaining = deadline - performance.now();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      startedSignal,
      exited.then(() => Promise.reject(new Error(`Apache Kafka exited before it started:\n${logTail()}`))),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`Apache Kafka answered but did not start:\n${logTail()}`)), Math.max(remaining, 0)))),
    ]).finally(() => clearTimeout(timer));
  } catch (error) {
    await kill();
    removeOwnDir();
    throw error;
  }
  const msToReady = performance.now() - spawnedAt;

  let stopping: Promise<void> | undefined;
  return {
    version: KAFKA_VERSION,
    bootstrap: `127.0.0.1:${port}`,
    host: '127.0.0.1',
    port,
    pid: child.pid!,
    dataDir,
    msToFirstAnswer,
    msToReady,
    logTail,
    stop(timeoutMs = 30_000) {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
          await exited;
          clearTimeout(timer);
        }
        removeOwnDir();
      })();
      return stopping;
    },
  };
}
