/**
 * Every way the embedded broker's answers differ from Apache Kafka's in the differential suite, with the
 * reason. The suite fails on a difference no entry matches, and on an entry that matches nothing (so the
 * list never outlives the behaviour). docs/broker.md shows the same table.
 */
export interface Divergence {
  /** Named in docs/broker.md's table. */
  id: string;
  /** Any API when absent. */
  apiKey?: number;
  /** Inclusive; all versions when absent. */
  versions?: [number, number];
  /** Which step (its label); any step when absent. */
  label?: RegExp;
  /** Which field of the normalised answer, e.g. /^\.responses\[0\]\.errorCode$/. */
  path: RegExp;
  reason: string;
}

export const divergences: Divergence[] = [
  {
    id: 'removed-versions',
    label: /^version Kafka does not serve$/,
    path: /^\.served$/,
    reason:
      'Kafka 4 removed the protocol versions older than Kafka 2.1 spoke (KIP-896): its broker refuses them and its own codec no longer writes them. The embedded broker still serves them, for clients that old; every version both serve is compared.',
  },
  {
    id: 'api-versions-apis',
    apiKey: 18,
    label: /^api versions$/,
    path: /^\.apiKeys/,
    reason: 'Kafka serves about 77 APIs (transactions, ACLs, quotas, KRaft and share groups among them); the embedded broker serves the 26 that Shoal and the clients tested here use. Each of its 26 is compared version by version.',
  },
  {
    id: 'api-versions-features',
    apiKey: 18,
    versions: [3, 3],
    label: /^api versions$/,
    path: /^\.(supportedFeatures|finalizedFeatures|finalizedFeaturesEpoch)$/,
    reason: 'Kafka advertises its KRaft feature levels (metadata.version, group.version, ...); the embedded broker has no feature flags and leaves the tagged fields out.',
  },
  {
    id: 'max-message-bytes-default',
    apiKey: 32,
    label: /^chosen topic configs$/,
    path: /^\.results\[0\]\.configs\[\d\]\.value$/,
    reason: "The embedded broker's default max.message.bytes is 8 MiB (its --max-message-bytes); Kafka's is 1048588. A topic that sets it behaves the same on both.",
  },
  {
    id: 'describe-mid-rebalance',
    apiKey: 15,
    label: /^describe the group mid-rebalance$/,
    path: /^\.groups\[0\]\.members\[\d\]\.memberAssignment$/,
    reason:
      'DescribeGroups between JoinGroup and SyncGroup (CompletingRebalance): Kafka still shows each member the assignment of the previous generation; the embedded broker shows none until the leader syncs the new one. Clients take their assignment from SyncGroup, never from DescribeGroups.',
  },
  {
    id: 'empty-group-forgotten',
    apiKey: 15,
    label: /^describe the emptied group$/,
    path: /^\.groups\[0\]\.(groupState|protocolType)$/,
    reason:
      'A group whose last member left and that never committed an offset: Kafka keeps it as Empty until offsets retention removes it; the embedded broker forgets it at once (Dead). A group with committed offsets stays Empty on both.',
  },
];
