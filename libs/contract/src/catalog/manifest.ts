/**
 * schemas/manifest.json: the registry's default compatibility and, per topic, its owner service, partition
 * count, key field and the event types published to it.
 *
 *   { "compatibility": "BACKWARD_TRANSITIVE",
 *     "topics": { "orders.order": { "owner": "orders", "partitions": 3, "key": "orderId",
 *                                   "events": ["shoal.orders.OrderPlaced", ...] }, ... } }
 */
import { COMPATIBILITY_LEVELS } from '@shoal/core';
import { schemaInvalid } from './schema-errors.js';
import type { TopicDefinition } from './schema-catalog.js';

export const MANIFEST_FILE = 'manifest.json';


export interface SchemaManifest {
  compatibility: string;
  /** In file order, which is also the order of the generated event types. */
  topics: TopicDefinition[];
}

// Kafka's own rule for topic names (kafka.common.internals.Topic): at most 249 of these characters.
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

export function parseManifest(text: string): SchemaManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw manifestError(`not valid JSON: ${(error as Error).message}`, error);
  }
  if (!isObject(json)) throw manifestError('expected a JSON object');
  const { compatibility, topics } = json;
  if (typeof compatibility !== 'string' || !(COMPATIBILITY_LEVELS as readonly string[]).includes(compatibility)) {
    throw manifestError(`"compatibility" must be one of ${COMPATIBILITY_LEVELS.join(', ')}, got ${JSON.stringify(compatibility)}`);
  }
  if (!isObject(topics)) throw manifestError('"topics" must be an object of topic name -> topic');

  const topicOfType = new Map<string, string>();
  const parsed: TopicDefinition[] = [];
  for (const [name, topic] of Object.entries(topics)) {
    const at = `topic "${name}"`;
    if (!TOPIC_NAME.test(name)) throw manifestError(`${at}: not a valid Kafka topic name`);
    if (!isObject(topic)) throw manifestError(`${at}: expected an object`);
    const { owner, partitions, key, events } = topic;
    if (typeof owner !== 'string' || owner === '') throw manifestError(`${at}: "owner" must be the emitting service's name`);
    // One topic per emitting aggregate, named <service>.<aggregate> (docs/events.md), so that every event of an
    // aggregate shares its key's partition and order.
    if (!name.startsWith(`${owner}.`)) throw manifestError(`${at}: topic names are <owner>.<aggregate>, expected "${owner}.…"`);
    if (typeof partitions !== 'number' || !Number.isInteger(partitions) || partitions < 1) {
      throw manifestError(`${at}: "partitions" must be a positive integer`);
    }
    if (typeof key !== 'string' || key === '') throw manifestError(`${at}: "key" must name the field events are keyed by`);
    if (!Array.isArray(events) || events.length === 0 || !events.every((type) => typeof type === 'string')) {
      throw manifestError(`${at}: "events" must be a non-empty array of event type names`);
    }
    for (const type of events as string[]) {
      const other = topicOfType.get(type);
      if (other !== undefined) {
        throw manifestError(
          other === name ? `${at}: lists "${type}" twice` : `"${type}" is listed on two topics, "${other}" and "${name}"`,
        );
      }
      topicOfType.set(type, name);
    }
    parsed.push(Object.freeze({ name, owner, partitions, key, events: Object.freeze([...(events as string[])]) }));
  }
  return { compatibility, topics: parsed };
}

function manifestError(problem: string, cause?: unknown) {
  return schemaInvalid(MANIFEST_FILE, problem, cause);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
