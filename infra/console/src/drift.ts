/**
 * Drift: where what flows differs from what is declared. Declared is the catalog (schemas/manifest.json:
 * each topic's owner and event types) and each service's subscriptions (its `GET /admin/subscriptions`: the
 * topics and handled types it passed to `host.subscribe`); what flows is the traffic the console saw and the
 * topics each consumer group's members actually subscribed to (their join metadata, consumer-groups.ts).
 *
 *   foreign-type       a service emits an event type that another service owns (or emits it on no topic it owns)
 *   unknown-type       an event type flows that the catalog does not have
 *   never-seen         a type the catalog declares that no event of has been seen
 *   undeclared-topic   a consumer group reads a topic that its service does not declare it subscribes to, or
 *                      that the catalog does not have
 *   unhandled-reaction a service reacts to a type it declares no handler for
 */
import type { SchemaCatalog } from '@shoal/contract';
import type { GroupReport } from './consumer-groups.js';
import type { ReactionMapSnapshot } from './reaction-map.js';

export type DriftKind = 'foreign-type' | 'unknown-type' | 'never-seen' | 'undeclared-topic' | 'unhandled-reaction';

export interface DriftFinding {
  kind: DriftKind;
  message: string;
  service?: string;
  type?: string;
  topic?: string;
  group?: string;
}

/** A service's subscriptions as its admin route declares them. */
export interface ServiceSubscriptions {
  service: string;
  subscriptions: ReadonlyArray<{ group: string; topics: readonly string[]; types: readonly string[] }>;
}

export interface DriftInputs {
  catalog: SchemaCatalog;
  seen: ReactionMapSnapshot;
  /** The services that answered; a service that did not is left out of the subscription checks. */
  declared: readonly ServiceSubscriptions[];
  groups: readonly GroupReport[];
}

export function findDrift({ catalog, seen, declared, groups }: DriftInputs): DriftFinding[] {
  const findings: DriftFinding[] = [];
  const seenTypes = new Set<string>();
  for (const { name: service, emits } of seen.services) {
    for (const { type } of emits) {
      seenTypes.add(type);
      const definition = catalog.events.get(type);
      if (definition === undefined) {
        findings.push({ kind: 'unknown-type', service, type, message: `${service} emits ${type}, which is not in the catalog (schemas/manifest.json)` });
      } else if (definition.service !== service) {
        findings.push({ kind: 'foreign-type', service, type, message: `${service} emits ${type}, which ${definition.service} owns (topic ${definition.topic})` });
      }
    }
  }
  for (const type of catalog.events.keys()) {
    if (!seenTypes.has(type)) findings.push({ kind: 'never-seen', type, service: catalog.events.get(type)!.service, message: `${type} is declared but no event of it has been seen` });
  }
  const byGroup = new Map(declared.flatMap((service) => service.subscriptions.map((subscription) => [subscription.group, { service: service.service, ...subscription }] as const)));
  for (const group of groups) {
    const declaration = byGroup.get(group.group);
    if (declaration === undefined) continue;
    const read = new Set(group.members.flatMap((member) => member.topics));
    for (const topic of [...read].sort()) {
      if (!catalog.topics.has(topic)) {
        findings.push({ kind: 'undeclared-topic', service: declaration.service, group: group.group, topic, message: `group ${group.group} (${declaration.service}) reads ${topic}, which is not in the catalog` });
      } else if (!declaration.topics.includes(topic)) {
        findings.push({ kind: 'undeclared-topic', service: declaration.service, group: group.group, topic, message: `group ${group.group} reads ${topic}, which ${declaration.service} does not declare it subscribes to` });
      }
    }
  }
  const handled = new Map(declared.map((service) => [service.service, new Set(service.subscriptions.flatMap((subscription) => subscription.types))]));
  for (const edge of seen.edges) {
    const types = handled.get(edge.to);
    if (types !== undefined && !types.has(edge.type)) {
      findings.push({ kind: 'unhandled-reaction', service: edge.to, type: edge.type, message: `${edge.to} reacts to ${edge.type} from ${edge.from} but declares no handler for it` });
    }
  }
  return findings;
}
