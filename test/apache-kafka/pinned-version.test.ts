/**
 * One Apache Kafka version everywhere: the JVM the suites run (infra/apache-kafka/pom.xml), the image
 * `docker compose up` starts and the image the testcontainers suite starts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { KAFKA_VERSION } from '@shoal/apache-kafka';
import { REPO_ROOT } from '../e2e/support/shoal-dev.js';

describe('the pinned Apache Kafka version', () => {
  it('is a 4.x release, the line that runs on Java 17 and no longer speaks the pre-2.1 protocol versions', () => {
    expect(KAFKA_VERSION).toMatch(/^4\.\d+\.\d+$/);
  });

  it('is the image docker-compose.yml runs', () => {
    const compose = parse(readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, { image?: string }> };
    expect(compose.services.kafka?.image).toBe(`apache/kafka:${KAFKA_VERSION}`);
  });

  it('is the image the testcontainers suite runs', () => {
    const source = readFileSync(join(REPO_ROOT, 'test/e2e/real-kafka.test.ts'), 'utf8');
    expect(source).toContain('const KAFKA_IMAGE = `apache/kafka:${KAFKA_VERSION}`;');
    expect(source).toContain("import { KAFKA_VERSION } from '@shoal/apache-kafka';");
  });
});
