/**
 * Waiting for a kafkajs consumer's first group join, the moment a subscriber is "started": `run()` resolves
 * as soon as the fetch loop is set up, before the member has an assignment. Shared by every consumer that
 * has a start(): the consumer loop, and the benchmarks' own kafkajs consumers.
 */
import type { Consumer } from 'kafkajs';

export interface GroupJoinWait {
  /** Resolves at the first GROUP_JOIN or at `release()`; rejects when the consumer crashes for good first. */
  joined: Promise<void>;
  /** Resolves `joined` at once: a stop() before the member joined must not leave start() waiting. */
  release(): void;
}

export function waitForGroupJoin(consumer: Consumer): GroupJoinWait {
  const { GROUP_JOIN, CRASH } = consumer.events;
  let release: () => void = () => undefined;
  const joined = new Promise<void>((resolve, reject) => {
    release = resolve;
    const removeJoin = consumer.on(GROUP_JOIN, () => {
      removeJoin();
      removeCrash();
      resolve();
    });
    const removeCrash = consumer.on(CRASH, ({ payload }) => {
      // kafkajs restarts the consumer itself after a retriable crash.
      if (payload.restart) return;
      removeJoin();
      removeCrash();
      reject(payload.error);
    });
  });
  // Whoever awaits `joined` sees the rejection; a crash after a stop must not be an unhandled one.
  joined.catch(() => undefined);
  return { joined, release };
}
