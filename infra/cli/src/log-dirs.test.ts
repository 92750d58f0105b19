import { describe, expect, it } from 'vitest';
import type { DescribeLogDirsPartition, DescribeLogDirsResponse } from '@shoal/broker/protocol';
import { partitionSizes } from './log-dirs.js';

/** How the answers of a replicated, multi-disk cluster add up to one size per partition. */
const partition = (partitionIndex: number, partitionSize: number, isFutureKey = false): DescribeLogDirsPartition => ({ partitionIndex, partitionSize, offsetLag: 0, isFutureKey });
const dir = (logDir: string, topics: Record<string, DescribeLogDirsPartition[]>, errorCode = 0) => ({
  errorCode,
  logDir,
  topics: Object.entries(topics).map(([name, partitions]) => ({ name, partitions })),
});

describe('partitionSizes', () => {
  const leader: DescribeLogDirsResponse = { results: [dir('/disk1', { orders: [partition(0, 500)] }), dir('/disk2', { orders: [partition(1, 70)], audit: [partition(0, 9)] })] };
  const follower: DescribeLogDirsResponse = {
    results: [
      // A follower that has not yet deleted a segment the leader's retention already removed.
      dir('/data', { orders: [partition(0, 480), partition(1, 90)] }),
      // A copy being moved to another disk (AlterReplicaLogDirs) is not a second replica.
      dir('/data2', { orders: [partition(0, 10_000, true)] }),
      dir('/offline', { orders: [partition(1, 99_999)] }, 56 /* KAFKA_STORAGE_ERROR */),
    ],
  };

  it('takes the largest replica of each partition, never the sum over replicas', () => {
    expect(partitionSizes([leader, follower])).toEqual(
      new Map([
        ['orders', new Map([[0, 500], [1, 90]])],
        ['audit', new Map([[0, 9]])],
      ]),
    );
  });

  it('adds up one broker’s log dirs for a partition and skips future replicas and failing dirs', () => {
    const split: DescribeLogDirsResponse = { results: [dir('/a', { t: [partition(0, 5)] }), dir('/b', { t: [partition(0, 7), partition(1, 3, true)] })] };
    expect(partitionSizes([split])).toEqual(new Map([['t', new Map([[0, 12]])]]));
    expect(partitionSizes([{ results: [dir('/x', { t: [partition(0, 5)] }, 35 /* UNSUPPORTED_VERSION */)] }])).toEqual(new Map());
  });

  it('leaves out brokers that could not answer and topics not asked for', () => {
    expect(partitionSizes([undefined, follower, undefined], ['orders', 'missing'])).toEqual(new Map([['orders', new Map([[0, 480], [1, 90]])]]));
    expect(partitionSizes([undefined])).toEqual(new Map());
  });
});
