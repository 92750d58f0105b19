/**
 * Waiting for the platform to have finished the work a phase caused. An order is CONFIRMED long before the
 * choreography is done with it (shipping schedules it, notifications writes to the customer, order-view folds
 * every event), so the next phase would otherwise start on top of the previous one's tail.
 *
 * Idle = no topic grew between two looks a little apart, every consumer group's committed offsets have reached
 * the end of every partition it has committed on, and every service's /metrics reports no consumer lag, no
 * projection lag and no outbox backlog. The groups are whatever the broker knows (the benchmark's own left out),
 * so nothing here knows which service consumes what; /metrics is needed beside them because a projector keeps
 * its positions in its own database and commits none, and an outbox backlog is not on the broker yet.
 */
import type { Admin, Kafka } from 'kafkajs';
import { withAdmin } from './kafka-baselines.js';

const POLL_MS = 250;

export interface IdleOptions {
  kafka: Kafka;
  /** Base URLs of the services, whose /metrics are read. */
  services: readonly string[];
  /** Topics and groups whose names start with this are the benchmark's own, left out. */
  ignorePrefix: string;
  timeoutMs: number;
}

/** Resolves undefined once idle (see above); after `timeoutMs`, what was still busy at the last look. */
export async function waitForIdle({ kafka, services, ignorePrefix, timeoutMs }: IdleOptions): Promise<string | undefined> {
  return withAdmin(kafka, async (admin) => {
    const deadline = performance.now() + timeoutMs;
    let previous: string | undefined;
    let busy = 'nothing looked at yet';
    while (performance.now() < deadline) {
      const ends = await endOffsets(admin, ignorePrefix);
      const fingerprint = JSON.stringify([...ends]);
      const behind = fingerprint === previous ? [...(await groupsBehind(admin, ends, ignorePrefix)), ...(await servicesBehind(services))] : ['topics still growing'];
      if (behind.length === 0) return undefined;
      busy = behind.join(', ');
      previous = fingerprint;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    return busy;
  });
}

/** `topic:partition` -> high watermark, for every topic but internal and ignored ones. */
async function endOffsets(admin: Admin, ignorePrefix: string): Promise<Map<string, number>> {
  const topics = (await admin.listTopics()).filter((topic) => !topic.startsWith('__') && !topic.startsWith(ignorePrefix)).sort();
  const ends = new Map<string, number>();
  for (const topic of topics) {
    for (const { partition, high } of await admin.fetchTopicOffsets(topic)) ends.set(`${topic}:${partition}`, Number(high));
  }
  return ends;
}

/** `group topic:partition lag` of each partition where a group's committed offset is short of the end. */
async function groupsBehind(admin: Admin, ends: ReadonlyMap<string, number>, ignorePrefix: string): Promise<string[]> {
  const topics = [...new Set([...ends.keys()].map((key) => key.slice(0, key.lastIndexOf(':'))))];
  const { groups } = await admin.listGroups();
  const behind: string[] = [];
  for (const { groupId } of groups) {
    if (groupId.startsWith(ignorePrefix)) continue;
    for (const { topic, partitions } of await admin.fetchOffsets({ groupId, topics })) {
      for (const { partition, offset } of partitions) {
        // -1: the group never committed there (it does not read that topic, or nothing was ever written).
        if (Number(offset) < 0) continue;
        const lag = (ends.get(`${topic}:${partition}`) ?? 0) - Number(offset);
        if (lag > 0) behind.push(`group ${groupId} ${topic}:${partition} ${lag}`);
      }
    }
  }
  return behind;
}

const BACKLOG_METRICS = ['shoal_consumer_lag', 'shoal_projection_lag', 'shoal_outbox_backlog'];

/** Each non-zero backlog gauge of the services' /metrics (Prometheus text: `name{labels} value`). */
async function servicesBehind(services: readonly string[]): Promise<string[]> {
  const behind: string[] = [];
  for (const url of services) {
    const response = await fetch(new URL('/metrics', url));
    const text = await response.text();
    if (!response.ok) throw new Error(`GET ${url}/metrics answered ${response.status}: ${text.slice(0, 200)}`);
    for (const line of text.split('\n')) {
      const name = line.slice(0, line.search(/[{ ]/));
      if (BACKLOG_METRICS.includes(name) && Number(line.slice(line.lastIndexOf(' ') + 1)) !== 0) behind.push(line);
    }
  }
  return behind;
}
