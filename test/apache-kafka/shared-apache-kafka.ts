/**
 * One Apache Kafka per test file (the JVM takes seconds to start): `sharedApacheKafka()` in a file's
 * beforeAll starts it, afterAll stops it and deletes its data.
 *
 * Where Java or Maven is missing the suites skip with the reason; under CI (CI=true, as `.ci/run` runs)
 * a missing Kafka is an error instead, so CI can never pass by skipping them.
 */
import { afterAll, beforeAll } from 'vitest';
import { apacheKafkaMissingReason, startApacheKafka, type ApacheKafka, type ApacheKafkaOptions } from '@shoal/apache-kafka';

export const apacheKafkaMissing: string | null = apacheKafkaMissingReason();
if (apacheKafkaMissing !== null && process.env.CI === 'true') {
  throw new Error(`CI runs the Apache Kafka suites, but Apache Kafka cannot run here: ${apacheKafkaMissing}`);
}

/** A Kafka started in beforeAll and stopped in afterAll of the calling file; read `.current` in tests. */
export function sharedApacheKafka(options: ApacheKafkaOptions = {}): { current: ApacheKafka } {
  const holder = {} as { current: ApacheKafka };
  beforeAll(async () => {
    holder.current = await startApacheKafka(options);
  }, 180_000);
  afterAll(async () => {
    await holder.current?.stop();
  }, 60_000);
  return holder;
}
