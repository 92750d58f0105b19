/**
 * `work` on each item in turn: synchronously while it returns plain values (SQLite), each next item once the
 * previous one's promise resolved when it returns one (PostgreSQL). A hot path on SQLite makes no promise.
 */
import type { MaybePromise } from '@shoal/store';

export function inOrder<T>(items: readonly T[], work: (item: T, index: number) => MaybePromise<unknown>, from = 0): MaybePromise<void> {
  for (let i = from; i < items.length; i++) {
    const done = work(items[i]!, i);
    if (done instanceof Promise) return done.then(() => inOrder(items, work, i + 1));
  }
  return undefined;
}
