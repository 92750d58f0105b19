/**
 * The map of the choreography as it actually flows: which service emits which event types, and who reacts
 * to what. A reaction is an event whose cause (`causationid`) is an event of another service: the edge
 * (cause's service, cause's type, reacting service). Each edge counts its reactions, its rate over the last
 * minute and the latency of its hops (the reaction's time minus its cause's: the way from one service's
 * commit to the other's handling, through the outbox relay and the broker).
 *
 * Cause and reaction travel on different topics, so either may be seen first: an edge is counted when the
 * second of the two arrives. Counts are kept apart from the events and outlive their eviction; the map holds
 * one entry per (service, type) and per edge, so its memory is bounded by the shape of the choreography, not
 * by the traffic. Rates are by the events' own times, so a history read at start-up is not taken for a burst.
 */
import type { EventIndex, SeenEvent } from './event-index.js';

/** Hop latencies kept per edge for its percentiles. */
const LATENCY_SAMPLES = 256;
/** The window of the rates, seconds. */
const RATE_WINDOW_SECONDS = 60;

export interface EmittedType {
  type: string;
  count: number;
  /** Events per second over the last minute. */
  perSecond: number;
  lastAt: number;
}

export interface MapEdge {
  from: string;
  type: string;
  to: string;
  count: number;
  perSecond: number;
  /** Hop latency percentiles of the last reactions, ms. */
  p50Ms: number | undefined;
  p95Ms: number | undefined;
  maxMs: number | undefined;
  lastAt: number;
}

export interface ReactionMapSnapshot {
  services: Array<{ name: string; emits: EmittedType[] }>;
  edges: MapEdge[];
}

/** Counts per second of the last minute, by the events' own second. */
class RateWindow {
  private readonly counts = new Array<number>(RATE_WINDOW_SECONDS).fill(0);
  private readonly seconds = new Array<number>(RATE_WINDOW_SECONDS).fill(-1);

  add(at: number): void {
    const second = Math.floor(at / 1000);
    const slot = second % RATE_WINDOW_SECONDS;
    if (this.seconds[slot] !== second) {
      // A slot of an older second is reused; an event older than the slot's second is outside the window anyway.
      if ((this.seconds[slot] ?? -1) > second) return;
      this.seconds[slot] = second;
      this.counts[slot] = 0;
    }
    this.counts[slot]! += 1;
  }

  perSecond(now: number): number {
    const current = Math.floor(now / 1000);
    let total = 0;
    for (let slot = 0; slot < RATE_WINDOW_SECONDS; slot += 1) {
      const second = this.seconds[slot]!;
      if (second > current - RATE_WINDOW_SECONDS && second <= current) total += this.counts[slot]!;
    }
    return total / RATE_WINDOW_SECONDS;
  }
}

interface EdgeState {
  from: string;
  type: string;
  to: string;
  count: number;
  rate: RateWindow;
  latencies: number[];
  next: number;
  lastAt: number;
}

interface TypeState {
  count: number;
  rate: RateWindow;
  lastAt: number;
}

export class ReactionMap {
  private readonly emitted = new Map<string, Map<string, TypeState>>();
  private readonly edges = new Map<string, EdgeState>();
  private version = 0;

  constructor(private readonly index: EventIndex) {
    index.onEvent((event) => this.seen(event));
  }

  /** Grows with every change; a page polls it to know whether to redraw. */
  get changes(): number {
    return this.version;
  }

  /** (service, type) pairs seen, with their counts. */
  emittedTypes(): ReadonlyMap<string, ReadonlyMap<string, { count: number }>> {
    return this.emitted;
  }

  snapshot(now: number = Date.now()): ReactionMapSnapshot {
    const services = [...this.emitted.entries()]
      .map(([name, types]) => ({
        name,
        emits: [...types.entries()].map(([type, state]) => ({ type, count: state.count, perSecond: state.rate.perSecond(now), lastAt: state.lastAt })).sort((a, b) => a.type.localeCompare(b.type)),
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
    const edges = [...this.edges.values()]
      .map((edge): MapEdge => {
        const sorted = [...edge.latencies].sort((a, b) => a - b);
        return {
          from: edge.from,
          type: edge.type,
          to: edge.to,
          count: edge.count,
          perSecond: edge.rate.perSecond(now),
          p50Ms: percentile(sorted, 0.5),
          p95Ms: percentile(sorted, 0.95),
          maxMs: sorted.at(-1),
          lastAt: edge.lastAt,
        };
      })
      .sort((a, b) => a.from.localeCompare(b.from) || a.type.localeCompare(b.type) || a.to.localeCompare(b.to));
    return { services, edges };
  }

  private seen(event: SeenEvent): void {
    this.version += 1;
    let types = this.emitted.get(event.service);
    if (types === undefined) this.emitted.set(event.service, (types = new Map()));
    let state = types.get(event.type);
    if (state === undefined) types.set(event.type, (state = { count: 0, rate: new RateWindow(), lastAt: 0 }));
    state.count += 1;
    state.rate.add(event.at);
    state.lastAt = Math.max(state.lastAt, event.at);
    // This event as a reaction to a cause seen before, and as the cause of reactions seen before it.
    const cause = event.causationId === undefined ? undefined : this.index.get(event.causationId);
    if (cause !== undefined) this.reaction(cause, event);
    for (const child of this.index.childrenOf(event.id)) this.reaction(event, child);
  }

  private reaction(cause: SeenEvent, reaction: SeenEvent): void {
    if (cause.service === reaction.service || cause.id === reaction.id) return;
    const name = `${cause.service}\u0000${cause.type}\u0000${reaction.service}`;
    let edge = this.edges.get(name);
    if (edge === undefined) {
      edge = { from: cause.service, type: cause.type, to: reaction.service, count: 0, rate: new RateWindow(), latencies: [], next: 0, lastAt: 0 };
      this.edges.set(name, edge);
    }
    edge.count += 1;
    edge.rate.add(reaction.at);
    edge.lastAt = Math.max(edge.lastAt, reaction.at);
    const latency = reaction.at - cause.at;
    if (edge.latencies.length < LATENCY_SAMPLES) edge.latencies.push(latency);
    else edge.latencies[edge.next] = latency;
    edge.next = (edge.next + 1) % LATENCY_SAMPLES;
  }
}

function percentile(sorted: readonly number[], q: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}
