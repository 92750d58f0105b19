/**
 * The sidecar's contract on Apache Kafka (the pinned version as a JVM process, @shoal/apache-kafka), from
 * the same scenarios as the embedded-broker suites (scenarios.ts): delivery and answers from Python and Go,
 * state with ETags, POST /v1/events taken once per id, and exactly-once effects through a SIGKILL of the
 * sidecar. One Kafka for the file; each scenario's orders are its own. Runs wherever Java and Maven are (CI
 * included); elsewhere it is skipped with the reason.
 */
import { describe, it } from 'vitest';
import { KAFKA_VERSION } from '@shoal/apache-kafka';
import { startTestPlatform } from '@shoal/contract/testing';
import { apacheKafkaMissing, sharedApacheKafka } from '../apache-kafka/shared-apache-kafka.js';
import { goMissing, pythonMissing } from './micrologic-processes.js';
import { exactlyOnceThroughSidecarKill, goMicrologicContract, loyaltyRules } from './scenarios.js';

describe.skipIf(apacheKafkaMissing !== null)(`the sidecar on Apache Kafka ${KAFKA_VERSION}`, () => {
  const kafka = sharedApacheKafka();
  const platform = () => startTestPlatform({ bootstrap: kafka.current.bootstrap });

  // First: it counts every event of loyalty.points, which later scenarios add to.
  it.skipIf(pythonMissing !== null)('runs the Python loyalty service: points awarded, revoked, the balance answered', async () => loyaltyRules(await platform()), 180_000);
  it.skipIf(goMissing !== null)('runs a Go micrologic: state with ETags under racing deliveries, events, POST /v1/events twice with one id', async () => goMicrologicContract(await platform()), 180_000);
  it('applies effects once when the sidecar is killed with SIGKILL between the answer and its commit', async () => exactlyOnceThroughSidecarKill(await platform()), 180_000);
});
