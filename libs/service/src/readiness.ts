/**
 * What `/health/ready` checks. A service is ready when every part of it is started and connected and has
 * caught up once with the log as it stood when the part started:
 *
 *   database       answers a query within 2 s (a PostgreSQL server that is down or restarting: not ready,
 *                  and the parts wait it out; SQLite, a file in the process, always answers)
 *   outbox relay   running, and its last publish attempt did not fail (a failing relay means the broker is
 *                  unreachable; commands still commit, but nothing leaves the service)
 *   subscription   running, connected, in its group, and it has reached the end offsets captured when it
 *                  started (so a restarted service is not ready while it works through what it missed): where
 *                  this member processed a partition, its own next offset; elsewhere the group's committed
 *                  offset (offsets are committed per interval, so the member's own position is the fresher)
 *   projector      running (or stale while a new version builds), and `whenCaughtUp()` has resolved once
 *
 * "Caught up once" latches: a busy topic always has some lag, and a service that dropped out of a load
 * balancer whenever traffic rose would make the load worse. Lag is in /metrics for alerting.
 */
import type { Admin } from 'kafkajs';
import type { Subscription } from '@shoal/consumer';
import type { OutboxRelay } from '@shoal/outbox';
import type { Projector } from '@shoal/projections';
import type { ServiceDatabase } from '@shoal/store';
import { settlesWithin } from '@shoal/core';

export interface Check {
  ok: boolean;
  detail: string;
}

export type Readiness = () => Promise<Check>;

/** End offsets of `topics` per `topic:partition`, and whether there is anything to read below them. */
type Targets = Map<string, { high: bigint; low: bigint }>;

export async function endOffsetsOf(admin: Admin, topics: readonly string[]): Promise<Targets> {
  const targets: Targets = new Map();
  for (const topic of topics) {
    for (const { partition, high, low } of await admin.fetchTopicOffsets(topic)) {
      targets.set(`${topic}:${partition}`, { high: BigInt(high), low: BigInt(low) });
    }
  }
  return targets;
}

const DATABASE_ANSWER_MS = 2_000;

export function databaseReadiness(database: ServiceDatabase): Readiness {
  return async () => {
    const answer = Promise.resolve(database.sql.get('SELECT 1 AS one'));
    if (!(await settlesWithin(answer, DATABASE_ANSWER_MS))) return { ok: false, detail: `${database.path} did not answer within ${DATABASE_ANSWER_MS} ms` };
    await answer; // a failure is the check's detail (the caller catches it)
    return { ok: true, detail: database.sql.dialect };
  };
}

export function relayReadiness(relay: OutboxRelay): Readiness {
  return async () => {
    const status = await relay.status();
    if (status.state !== 'running') return { ok: false, detail: `relay ${status.state}` };
    if (status.consecutiveFailures > 0) {
      return { ok: false, detail: `publishing fails (${status.consecutiveFailures}x): ${status.lastError?.message ?? 'unknown error'}; ${status.backlog} events wait` };
    }
    return { ok: true, detail: `${status.backlog} events waiting, ${status.published} published` };
  };
}

export function subscriptionReadiness(subscription: Subscription, topics: readonly string[], admin: () => Admin, targets: () => Targets | undefined): Readiness {
  let caughtUp = false;
  return async () => {
    const status = subscription.status();
    if (status.state !== 'running') return { ok: false, detail: `subscription ${status.state}` };
    if (!status.connected) return { ok: false, detail: 'not connected to the cluster' };
    if (!status.joined) return { ok: false, detail: `not in group ${status.group} (rebalancing)` };
    if (!caughtUp) {
      const wanted = targets();
      if (wanted === undefined) return { ok: false, detail: 'end offsets not captured yet' };
      const reached = new Map<string, bigint>();
      for (const { topic, partition, nextOffset } of status.partitions) if (nextOffset !== null) reached.set(`${topic}:${partition}`, BigInt(nextOffset));
      const behindAt = (positions: ReadonlyMap<string, bigint>) => {
        let behind = 0n;
        for (const [slot, { high, low }] of wanted) {
          const at = positions.get(slot) ?? -1n;
          const from = at < low ? low : at;
          if (from < high) behind += high - from;
        }
        return behind;
      };
      let behind = behindAt(reached);
      if (behind > 0n) {
        for (const { topic, partitions } of await admin().fetchOffsets({ groupId: status.group, topics: [...topics] })) {
          for (const { partition, offset } of partitions) {
            const slot = `${topic}:${partition}`;
            const committed = BigInt(offset);
            if (committed > (reached.get(slot) ?? -1n)) reached.set(slot, committed);
          }
        }
        behind = behindAt(reached);
      }
      if (behind > 0n) return { ok: false, detail: `catching up: ${behind} records behind the offsets at start` };
      caughtUp = true;
    }
    const { deadLetters, parked } = status.parking;
    const held = deadLetters === 0 ? '' : `, ${deadLetters} ${deadLetters === 1 ? 'key' : 'keys'} held back by a dead letter with ${parked} ${parked === 1 ? 'record' : 'records'} parked`;
    return { ok: true, detail: `handled ${status.handled}, dead-lettered ${status.deadLettered}${held}` };
  };
}

export function projectorReadiness(projector: Projector): { readiness: Readiness; watch(): void } {
  let caughtUp = false;
  let failure: string | undefined;
  return {
    watch() {
      projector.whenCaughtUp().then(
        () => {
          caughtUp = true;
        },
        (error: unknown) => {
          failure = (error as Error).message;
        },
      );
    },
    readiness: async () => {
      const status = projector.status();
      if (status.state !== 'running' && status.state !== 'stale') return { ok: false, detail: `projection ${status.state}${status.error ? `: ${status.error.message}` : ''}` };
      if (failure !== undefined) return { ok: false, detail: failure };
      if (!caughtUp) return { ok: false, detail: `catching up: ${status.lag} records behind` };
      return { ok: true, detail: `lag ${status.lag}${status.stale ? ', serving a stale model while a rebuild runs' : ''}` };
    },
  };
}
