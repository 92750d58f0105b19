import { Kafka, logLevel, type Admin, type LogEntry, type logCreator } from 'kafkajs';
import type { Logger } from 'pino';

/** kafkajs clients of the benchmark, logging through the benchmark's pino logger. */
export const CLIENT_ID = 'shoal-bench';

export function createBenchKafka(bootstrap: string, logger: Logger): Kafka {
  return new Kafka({ clientId: CLIENT_ID, brokers: [bootstrap], logLevel: logLevel.WARN, logCreator: bridgeToPino(logger.child({ module: 'kafkajs' })) });
}

function bridgeToPino(logger: Logger): logCreator {
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const { message, timestamp: _timestamp, ...extra } = log;
      const fields = { namespace, ...extra };
      if (level === logLevel.ERROR) logger.error(fields, message);
      else if (level === logLevel.WARN) logger.warn(fields, message);
      else if (level === logLevel.INFO) logger.info(fields, message);
      else logger.debug(fields, message);
    };
}

export async function createTopics(kafka: Kafka, names: string[], partitions: number): Promise<void> {
  await withAdmin(kafka, async (admin) => {
    const created = await admin.createTopics({ topics: names.map((topic) => ({ topic, numPartitions: partitions })), waitForLeaders: true });
    if (!created) throw new Error(`topics already exist: ${names.join(', ')}`);
  });
}

/** Records stored in `topic`: the sum of its partitions' high watermarks (nothing is ever deleted here). */
export async function storedRecordCount(kafka: Kafka, topic: string): Promise<number> {
  return withAdmin(kafka, async (admin) => {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  });
}

async function withAdmin<T>(kafka: Kafka, work: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.disconnect();
  }
}
