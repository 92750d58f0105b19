import Database from 'better-sqlite3';
import { describe, expect, it, onTestFinished } from 'vitest';
import { OffsetStore } from './offset-store.js';

function openStore() {
  const db = new Database(':memory:');
  onTestFinished(() => {
    db.close();
  });
  let now = 1000;
  const store = new OffsetStore(db, () => now++);
  return { db, store };
}

const offset = (topic: string, partition: number, value: number, metadata = '') => ({ topic, partition, offset: value, leaderEpoch: -1, metadata });

describe('OffsetStore', () => {
  it('overwrites a partition commit and keeps the others', () => {
    const { store } = openStore();
    store.commit('g', [offset('t', 0, 1), offset('t', 1, 10, 'first')]);
    store.commit('g', [offset('t', 0, 2, 'second')]);
    expect(store.fetch('g', 't', 0)).toEqual(offset('t', 0, 2, 'second'));
    expect(store.fetchAll('g')).toEqual([offset('t', 0, 2, 'second'), offset('t', 1, 10, 'first')]);
    expect(store.fetch('g', 't', 2)).toBeUndefined();
    expect(store.fetch('other', 't', 0)).toBeUndefined();
  });

  it('stamps every commit with the injected clock', () => {
    const { db, store } = openStore();
    store.commit('g', [offset('t', 0, 1), offset('t', 1, 1)]);
    expect(db.prepare('SELECT partition, commit_timestamp FROM group_offsets ORDER BY partition').all()).toEqual([
      { partition: 0, commit_timestamp: 1000 },
      { partition: 1, commit_timestamp: 1000 },
    ]);
  });

  it('lists, deletes groups and forgets deleted topics', () => {
    const { store } = openStore();
    store.commit('b', [offset('t', 0, 1)]);
    store.commit('a', [offset('t', 0, 1), offset('u', 0, 1)]);
    expect(store.groupIds()).toEqual(['a', 'b']);
    store.deleteTopic('t');
    expect(store.groupIds()).toEqual(['a']);
    expect(store.hasGroup('b')).toBe(false);
    store.deleteGroup('a');
    expect(store.hasGroup('a')).toBe(false);
    expect(store.groupIds()).toEqual([]);
  });

  it('creates its table only once, so a reopened database keeps its offsets', () => {
    const { db, store } = openStore();
    store.commit('g', [offset('t', 0, 5)]);
    expect(new OffsetStore(db).fetch('g', 't', 0)?.offset).toBe(5);
  });
});
