import type { JoinGroupResponse } from '../protocol/messages/join-group.js';
import type { SyncGroupResponse } from '../protocol/messages/sync-group.js';

/**
 * The in-memory model of one consumer group: its state, generation and members. Transitions and
 * timers live in GroupCoordinator; this module only holds data and the rules that read it
 * (protocol support and vote, "has everybody rejoined").
 */
export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

export const EMPTY_BYTES: Buffer = Buffer.alloc(0);

export interface MemberProtocol {
  name: string;
  metadata: Buffer;
}

/**
 * A response the coordinator holds back (JoinGroup until the rebalance completes, SyncGroup until the
 * leader's assignment arrives). It settles exactly once: with the answer, or earlier when the client's
 * connection closes, in which case the late answer is simply dropped.
 */
export class ParkedResponse<T> {
  readonly promise: Promise<T>;
  private resolve!: (value: T) => void;
  private settled = false;
  private readonly onAbort: () => void;

  constructor(
    private readonly signal: AbortSignal,
    abortedValue: T,
    onAborted: () => void = () => {},
  ) {
    this.promise = new Promise<T>((resolve) => {
      this.resolve = resolve;
    });
    this.onAbort = () => {
      this.settle(abortedValue);
      onAborted();
    };
    // Already closed: answer at once; the caller sees `abandoned` and does not keep it.
    if (signal.aborted) this.settle(abortedValue);
    else signal.addEventListener('abort', this.onAbort, { once: true });
  }

  /** True once the client's connection is gone: nobody will read the answer. */
  get abandoned(): boolean {
    return this.signal.aborted;
  }

  settle(value: T): void {
    if (this.settled) return;
    this.settled = true;
    this.signal.removeEventListener('abort', this.onAbort);
    this.resolve(value);
  }
}

export class Member {
  protocols: MemberProtocol[];
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  clientId: string;
  clientHost: string;
  assignment: Buffer = EMPTY_BYTES;
  /**
   * The member's JoinGroup while a rebalance waits for it. Non-null means "has rejoined", even if its
   * connection has closed since: like Kafka, such a member takes part in the next generation and is
   * removed later by its session timeout.
   */
  awaitingJoin: ParkedResponse<JoinGroupResponse> | null = null;
  awaitingSync: ParkedResponse<SyncGroupResponse> | null = null;
  /** Order of the member's latest JoinGroup, to pick the first joiner as leader. */
  joinSequence = 0;
  sessionTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly memberId: string,
    readonly groupInstanceId: string | null,
    readonly protocolType: string,
    init: {
      protocols: MemberProtocol[];
      sessionTimeoutMs: number;
      rebalanceTimeoutMs: number;
      clientId: string;
      clientHost: string;
    },
  ) {
    this.protocols = init.protocols;
    this.sessionTimeoutMs = init.sessionTimeoutMs;
    this.rebalanceTimeoutMs = init.rebalanceTimeoutMs;
    this.clientId = init.clientId;
    this.clientHost = init.clientHost;
  }

  /** Same protocols, in the same order, with the same metadata: rejoining with them changes nothing. */
  matches(protocols: readonly MemberProtocol[]): boolean {
    return (
      protocols.length === this.protocols.length &&
      protocols.every((p, i) => p.name === this.protocols[i]!.name && p.metadata.equals(this.protocols[i]!.metadata))
    );
  }

  metadataFor(protocolName: string | null): Buffer {
    return this.protocols.find((p) => p.name === protocolName)?.metadata ?? EMPTY_BYTES;
  }

  /** The member's most preferred protocol among those every member supports. */
  vote(candidates: ReadonlySet<string>): string | undefined {
    return this.protocols.find((p) => candidates.has(p.name))?.name;
  }
}

export class Group {
  state: GroupState = 'Empty';
  generationId = 0;
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: string | null = null;
  readonly members = new Map<string, Member>();
  /** Member ids handed out with MEMBER_ID_REQUIRED, not yet used to rejoin; each expires on its own timer. */
  readonly pendingMembers = new Map<string, NodeJS.Timeout>();
  /** The timer that ends the current PreparingRebalance (initial delay or rebalance timeout). */
  joinTimer: NodeJS.Timeout | null = null;
  /** While the initial delay of a group that was Empty runs, joins never complete the rebalance early. */
  initialDelayRunning = false;
  /** A member joined during the current initial delay, which therefore gets extended. */
  newMemberAdded = false;

  constructor(readonly groupId: string) {}

  /** Kafka waits for the slowest member: the largest rebalance timeout of the members. */
  get rebalanceTimeoutMs(): number {
    let timeout = 0;
    for (const member of this.members.values()) timeout = Math.max(timeout, member.rebalanceTimeoutMs);
    return timeout;
  }

  allMembersJoined(): boolean {
    if (this.pendingMembers.size > 0) return false;
    for (const member of this.members.values()) if (member.awaitingJoin === null) return false;
    return true;
  }

  /** Protocols supported by every member, leaving out `exceptMemberId` (whose protocols are being replaced). */
  candidateProtocols(exceptMemberId?: string): Set<string> | null {
    let common: Set<string> | null = null;
    for (const member of this.members.values()) {
      if (member.memberId === exceptMemberId) continue;
      const names = new Set(member.protocols.map((p) => p.name));
      if (common === null) common = names;
      else for (const name of common) if (!names.has(name)) common.delete(name);
    }
    return common;
  }

  /**
   * Whether a member with these protocols may (re)join: the protocol type must be the group's and at
   * least one protocol must be supported by every other member (INCONSISTENT_GROUP_PROTOCOL otherwise).
   */
  supportsProtocols(protocolType: string, protocols: readonly MemberProtocol[], memberId: string): boolean {
    if (protocolType === '' || protocols.length === 0) return false;
    if (this.members.size > 0 && this.protocolType !== protocolType) return false;
    const others = this.candidateProtocols(memberId);
    return others === null || protocols.some((p) => others.has(p.name));
  }

  /** Each member votes for its preferred common protocol; most votes wins, ties go to the earlier-voted one. */
  selectProtocol(): string | null {
    const candidates = this.candidateProtocols();
    if (candidates === null || candidates.size === 0) return null;
    const votes = new Map<string, number>();
    for (const member of this.members.values()) {
      const choice = member.vote(candidates);
      if (choice !== undefined) votes.set(choice, (votes.get(choice) ?? 0) + 1);
    }
    let winner: string | null = null;
    let most = 0;
    for (const [name, count] of votes) {
      if (count > most) {
        winner = name;
        most = count;
      }
    }
    return winner;
  }
}
