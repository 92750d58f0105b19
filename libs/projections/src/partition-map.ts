/**
 * A value per topic partition (positions, watermarks, start and end offsets). Kafka topic names cannot hold
 * a NUL, so `topic NUL partition` is an unambiguous key; entries keep what they were set with, so nothing
 * is ever parsed back out of a key. Offsets are numbers: JavaScript integers are exact up to 2^53, far past
 * any offset a partition reaches.
 */
export interface PartitionEntry<V> {
  readonly topic: string;
  readonly partition: number;
  readonly value: V;
}

export class PartitionMap<V> {
  private readonly entries = new Map<string, PartitionEntry<V>>();

  static of<V>(entries: Iterable<PartitionEntry<V>>): PartitionMap<V> {
    const map = new PartitionMap<V>();
    for (const entry of entries) map.set(entry.topic, entry.partition, entry.value);
    return map;
  }

  get size(): number {
    return this.entries.size;
  }

  get(topic: string, partition: number): V | undefined {
    return this.entries.get(`${topic}\u0000${partition}`)?.value;
  }

  set(topic: string, partition: number, value: V): this {
    this.entries.set(`${topic}\u0000${partition}`, { topic, partition, value });
    return this;
  }

  has(topic: string, partition: number): boolean {
    return this.entries.has(`${topic}\u0000${partition}`);
  }

  /** Entries ordered by topic, then partition: the order every report shows. */
  list(): PartitionEntry<V>[] {
    return [...this.entries.values()].sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
  }
}
