/**
 * The CloudEvents 1.0 envelope as Shoal holds it in memory: plain, frozen-by-convention objects whose
 * attribute names are the CloudEvents names (https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/spec.md).
 *
 *   required   specversion ("1.0"), id, source (URI-reference), type
 *   optional   time (RFC 3339), subject, datacontenttype, dataschema
 *   Shoal's extensions (docs/events.md)   traceparent, correlationid, causationid, partitionkey (= Kafka key)
 *   any other extension                   in `extensions`, name [a-z0-9]{1,20}
 *
 * These are interfaces, not the `cloudevents` package's CloudEvent class: that class validates every instance
 * with ajv when it is built, about 3 µs per event, three times the Avro decoding of a whole OrderPlaced
 * (bench/codec.bench.ts), and its Kafka binding reads neither kafkajs's Buffer headers nor repeated ones, and
 * rewrites `time` to milliseconds. So the package is not loaded at run time; it is the reference the binding
 * is tested against (kafka-binding.test.ts: each side reads what the other writes) and a bench baseline.
 */
import type { ShoalEventDataMap, ShoalEventType } from './generated/events.js';

export const CLOUDEVENTS_SPEC_VERSION = '1.0';
/** `datacontenttype` of Avro data in the Confluent wire format: the `content-type` header of every Shoal event. */
export const AVRO_CONTENT_TYPE = 'application/avro';
export const JSON_CONTENT_TYPE = 'application/json';
/** The structured-mode media type of the JSON event format. */
export const STRUCTURED_JSON_CONTENT_TYPE = 'application/cloudevents+json';

/** CloudEvents' String, Integer and Boolean; in binary mode every value travels as its string form. */
export type ExtensionValue = string | number | boolean;

export interface CloudEventAttributes<TType extends string = string> {
  readonly specversion: typeof CLOUDEVENTS_SPEC_VERSION;
  readonly id: string;
  /** `/shoal/<service>` for Shoal's own events. */
  readonly source: string;
  /** The Avro record's full name for Shoal's own events, e.g. `shoal.orders.OrderPlaced`. */
  readonly type: TType;
  readonly time?: string;
  /** The aggregate id. */
  readonly subject?: string;
  readonly datacontenttype?: string;
  readonly dataschema?: string;
  /** W3C trace context of the producer. */
  readonly traceparent?: string;
  /** Id of the event that started the business flow; its own id for the first event of a flow. */
  readonly correlationid?: string;
  /** Id of the event that directly caused this one. */
  readonly causationid?: string;
  /** The Kafka key: all events with one key stay in order on one partition. */
  readonly partitionkey?: string;
  /** Extension attributes other than Shoal's four, by name. */
  readonly extensions?: Readonly<Record<string, ExtensionValue>>;
}

export interface CloudEvent<D = unknown, TType extends string = string> extends CloudEventAttributes<TType> {
  readonly data: D;
}

/**
 * A Shoal event of type T (or of any type in the union T) with the data the schema catalog prescribes for
 * it. Distributive, so `ShoalEvent` (all types) is a union that still ties each `type` to its own data.
 */
export type ShoalEvent<T extends ShoalEventType = ShoalEventType> = { [K in T]: CloudEvent<ShoalEventDataMap[K], K> }[T];

/** The attributes with a field of their own in CloudEventAttributes; any other name is an extension. */
export const NAMED_ATTRIBUTES: ReadonlySet<string> = new Set([
  'specversion',
  'id',
  'source',
  'type',
  'time',
  'subject',
  'datacontenttype',
  'dataschema',
  'traceparent',
  'correlationid',
  'causationid',
  'partitionkey',
]);
