import { describe, expect, it } from 'vitest';
import { seededRandom } from '@shoal/testing';
import { assignors, RANGE_ASSIGNOR, UNIFORM_ASSIGNOR, type AssignorMember, type TopicPartitions } from './assignors.js';

const uniform = assignors[UNIFORM_ASSIGNOR]!;
const range = assignors[RANGE_ASSIGNOR]!;

const member = (memberId: string, topicIds: string[], previous: TopicPartitions = new Map()): AssignorMember => ({ memberId, topicIds: new Set(topicIds), previous });
const plain = (assignment: Map<string, TopicPartitions>) => Object.fromEntries([...assignment].map(([id, topics]) => [id, Object.fromEntries(topics)]));

/** Every partition of the subscribed topics exactly once, each to a member that subscribes to its topic. */
function expectValid(members: AssignorMember[], counts: Map<string, number>, assignment: Map<string, TopicPartitions>): void {
  const seen = new Set<string>();
  for (const [memberId, topics] of assignment) {
    const m = members.find((x) => x.memberId === memberId)!;
    for (const [topicId, partitions] of topics) {
      expect(m.topicIds.has(topicId), `${memberId} subscribes to ${topicId}`).toBe(true);
      for (const p of partitions) {
        expect(seen.has(`${topicId}:${p}`), `${topicId}:${p} assigned once`).toBe(false);
        seen.add(`${topicId}:${p}`);
      }
    }
  }
  const wanted = [...counts].filter(([topicId]) => members.some((m) => m.topicIds.has(topicId))).reduce((sum, [, n]) => sum + n, 0);
  expect(seen.size).toBe(wanted);
}

describe('uniform assignor', () => {
  it('spreads the partitions of shared topics evenly, in member-id order', () => {
    const counts = new Map([['t', 4], ['u', 1]]);
    expect(plain(uniform([member('b', ['t', 'u']), member('a', ['t', 'u'])], counts))).toEqual({ a: { t: [0, 2], u: [0] }, b: { t: [1, 3] } });
  });

  it('is sticky: a member keeps what it had up to its share, and only the surplus moves', () => {
    const counts = new Map([['t', 4]]);
    const alone = uniform([member('a', ['t'])], counts);
    expect(plain(alone)).toEqual({ a: { t: [0, 1, 2, 3] } });
    const joined = uniform([member('a', ['t'], alone.get('a')), member('b', ['t'])], counts);
    expect(plain(joined)).toEqual({ a: { t: [0, 1] }, b: { t: [2, 3] } });
    // b leaves and comes back: a keeps its two, b gets the other two again.
    const back = uniform([member('a', ['t'], joined.get('a')), member('c', ['t'])], counts);
    expect(plain(back)).toEqual({ a: { t: [0, 1] }, c: { t: [2, 3] } });
  });

  it('gives a topic only to its subscribers, and nothing of a topic nobody subscribes to', () => {
    const counts = new Map([['t', 2], ['u', 2], ['nobody', 3]]);
    expect(plain(uniform([member('a', ['t']), member('b', ['t', 'u'])], counts))).toEqual({ a: { t: [0, 1] }, b: { u: [0, 1] } });
  });

  it('drops previous partitions that no longer exist or are no longer subscribed', () => {
    const counts = new Map([['t', 2]]);
    const previous: TopicPartitions = new Map([['t', [0, 1, 5]], ['gone', [0]]]);
    expect(plain(uniform([member('a', ['t'], previous)], counts))).toEqual({ a: { t: [0, 1] } });
  });

  it('assigns every partition once to a subscriber, and balances shared subscriptions within one, for random groups', () => {
    const random = seededRandom();
    for (let round = 0; round < 200; round++) {
      const topics = Array.from({ length: 1 + random.int(0, 3) }, (_, i) => `t${i}`);
      const counts = new Map(topics.map((t) => [t, 1 + random.int(0, 11)]));
      const shared = random.chance(0.5);
      const members = Array.from({ length: 1 + random.int(0, 5) }, (_, i) => member(`m${i}`, shared ? topics : topics.filter(() => random.chance(0.6))));
      const first = uniform(members, counts);
      expectValid(members, counts, first);
      const again = uniform(members.map((m) => ({ ...m, previous: first.get(m.memberId)! })), counts);
      expectValid(members, counts, again);
      if (shared) {
        const sizes = [...again.values()].map((t) => [...t.values()].reduce((n, ps) => n + ps.length, 0));
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
        // Nothing moves when nothing changed.
        expect(plain(again)).toEqual(plain(first));
      }
    }
  });
});

describe('range assignor', () => {
  it('gives each subscriber of a topic a contiguous range, the first ones one more', () => {
    const counts = new Map([['t', 5], ['u', 2]]);
    expect(plain(range([member('b', ['t', 'u']), member('a', ['t']), member('c', ['t', 'u'])], counts))).toEqual({
      a: { t: [0, 1] },
      b: { t: [2, 3], u: [0] },
      c: { t: [4], u: [1] },
    });
  });

  it('assigns every partition once to a subscriber, for random groups', () => {
    const random = seededRandom();
    for (let round = 0; round < 200; round++) {
      const topics = Array.from({ length: 1 + random.int(0, 3) }, (_, i) => `t${i}`);
      const counts = new Map(topics.map((t) => [t, 1 + random.int(0, 11)]));
      const members = Array.from({ length: 1 + random.int(0, 5) }, (_, i) => member(`m${i}`, topics.filter(() => random.chance(0.7))));
      expectValid(members, counts, range(members, counts));
    }
  });
});
