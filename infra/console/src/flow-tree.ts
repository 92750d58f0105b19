/**
 * The causation tree of one flow: the one piece of code that finds a flow in what was seen and arranges it,
 * used by the console's flow page and by `shoal trace` alike.
 *
 * A query is an event id, a correlation id or an order id (an event's subject or Kafka key), tried in that
 * order. The flow is every event of the correlation ids found (an order id can have several: a flow started
 * again for the same order), plus the order id's events that carry no correlation id. Each event hangs under
 * its cause (`causationid`); an event whose cause is not in the flow (evicted, never seen, a first event) is a
 * root. Siblings are in time order. An event's hop is the time from its cause's to its own (`ce_time`, or
 * the Kafka timestamp without one): for a reaction, how long the cause took to reach the reacting service
 * and be handled there.
 */
import type { EventIndex, SeenEvent } from './event-index.js';

export type FlowMatch = 'event' | 'correlation' | 'order';

export interface FlowNode {
  event: SeenEvent;
  /** ms from the cause's time to this event's; undefined for a root. */
  hopMs: number | undefined;
  children: FlowNode[];
}

export interface Flow {
  query: string;
  /** What the query matched. */
  match: FlowMatch;
  correlationIds: string[];
  roots: FlowNode[];
  events: number;
  services: string[];
  /** ms from the first event to the last. */
  spanMs: number;
}

/** One line of a flow, depth first: what `shoal trace` prints and the page indents. */
export interface FlowLine {
  depth: number;
  node: FlowNode;
}

/** The flow `query` names, or undefined when no event matches it. */
export function findFlow(index: EventIndex, query: string): Flow | undefined {
  const found = flowEvents(index, query);
  if (found === undefined) return undefined;
  return buildFlow(query, found.match, found.events);
}

function flowEvents(index: EventIndex, query: string): { match: FlowMatch; events: SeenEvent[] } | undefined {
  // A flow's first event is its correlation id; it may carry that id itself, or no correlation id at all.
  const correlated = (id: string) => {
    const first = index.get(id);
    return first === undefined ? index.byCorrelationId(id) : [first, ...index.byCorrelationId(id)];
  };
  const event = index.get(query);
  if (event !== undefined) return { match: 'event', events: correlated(event.correlationId ?? event.id) };
  const byCorrelation = index.byCorrelationId(query);
  if (byCorrelation.length > 0) return { match: 'correlation', events: byCorrelation };
  const ofOrder = index.byOrderId(query);
  if (ofOrder.length === 0) return undefined;
  const correlations = new Set(ofOrder.map((seen) => seen.correlationId ?? seen.id));
  return { match: 'order', events: [...ofOrder, ...[...correlations].flatMap(correlated)] };
}

/** The tree of `events` (one flow), from which `findFlow` answers; exported for flows gathered elsewhere. */
export function buildFlow(query: string, match: FlowMatch, events: readonly SeenEvent[]): Flow {
  const unique = [...new Map(events.map((event) => [event.id, event])).values()].sort(byTime);
  const nodes = new Map(unique.map((event) => [event.id, { event, hopMs: undefined as number | undefined, children: [] as FlowNode[] }]));
  const roots: FlowNode[] = [];
  for (const node of nodes.values()) {
    const cause = node.event.causationId === undefined || node.event.causationId === node.event.id ? undefined : nodes.get(node.event.causationId);
    if (cause === undefined) {
      roots.push(node);
    } else {
      node.hopMs = node.event.at - cause.event.at;
      cause.children.push(node);
    }
  }
  const first = unique[0]?.at ?? 0;
  const last = unique.at(-1)?.at ?? 0;
  return {
    query,
    match,
    correlationIds: [...new Set(unique.map((event) => event.correlationId).filter((id): id is string => id !== undefined))],
    roots,
    events: unique.length,
    services: [...new Set(unique.map((event) => event.service))],
    spanMs: last - first,
  };
}

/** The flow's events depth first, each with its depth: the order in which a tree is printed. */
export function flowLines(flow: Pick<Flow, 'roots'>): FlowLine[] {
  const lines: FlowLine[] = [];
  const visit = (node: FlowNode, depth: number) => {
    lines.push({ depth, node });
    for (const child of node.children) visit(child, depth + 1);
  };
  for (const root of flow.roots) visit(root, 0);
  return lines;
}

/** An event of a flow as JSON (the page's API and `shoal trace --json`): its attributes, its place in Kafka, its hop. */
export interface FlowEventJson {
  id: string;
  type: string;
  service: string;
  source: string;
  time: string;
  hopMs: number | undefined;
  subject: string | undefined;
  key: string | undefined;
  correlationId: string | undefined;
  causationId: string | undefined;
  topic: string;
  partition: number;
  offset: string;
}

export function flowNodeJson({ event, hopMs }: FlowNode): FlowEventJson {
  return {
    id: event.id,
    type: event.type,
    service: event.service,
    source: event.source,
    time: event.time ?? new Date(event.at).toISOString(),
    hopMs,
    subject: event.subject,
    key: event.key,
    correlationId: event.correlationId,
    causationId: event.causationId,
    topic: event.topic,
    partition: event.partition,
    offset: event.offset,
  };
}

function byTime(a: SeenEvent, b: SeenEvent): number {
  return a.at - b.at || a.id.localeCompare(b.id);
}
