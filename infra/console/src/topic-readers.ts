/**
 * Who reads without reacting: a service that consumes topics but emits nothing in answer (a projection such as
 * order-view's) never shows up in a reaction, so the map also draws, from the consumer groups, a "reads" edge
 * from each topic's owner to each such service whose groups read the topic. Services that emit are drawn by
 * their reactions only (a topic read for types that did not flow yet would only clutter the map). A group belongs to a service when it is named after it (`inventory`) or prefixed by
 * it (`order-view.projection.orders`), the host's naming of subscriptions and projectors.
 */
import type { SchemaCatalog } from '@shoal/contract';
import type { GroupReport } from './consumer-groups.js';
import type { MapEdge } from './reaction-map.js';

export interface ReadEdge {
  from: string;
  topic: string;
  to: string;
  group: string;
}

export function serviceOfGroup(group: string, services: readonly string[]): string | undefined {
  return [...services].sort((a, b) => b.length - a.length).find((service) => group === service || group.startsWith(`${service}.`));
}

export function topicReaders(catalog: SchemaCatalog, groups: readonly GroupReport[], services: readonly string[], emitters: ReadonlySet<string>, reactions: readonly MapEdge[]): ReadEdge[] {
  const reacting = new Set(reactions.map((edge) => edge.to));
  const edges = new Map<string, ReadEdge>();
  for (const group of groups) {
    const service = serviceOfGroup(group.group, services);
    if (service === undefined || emitters.has(service) || reacting.has(service)) continue;
    for (const topic of new Set(group.members.flatMap((member) => member.topics))) {
      const owner = catalog.topics.get(topic)?.owner;
      if (owner === undefined || owner === service) continue;
      edges.set(`${owner}>${topic}>${service}`, { from: owner, topic, to: service, group: group.group });
    }
  }
  return [...edges.values()].sort((a, b) => a.to.localeCompare(b.to) || a.topic.localeCompare(b.topic));
}
