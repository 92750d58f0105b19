/**
 * CloudEvents 1.0 Kafka protocol binding
 * (https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/bindings/kafka-protocol-binding.md).
 *
 * Binary content mode, the only mode Shoal writes:
 *
 *   key       partitionkey (the aggregate id), or no key
 *   headers   ce_specversion: 1.0             ce_id: <UUIDv7>           ce_source: /shoal/<service>
 *             ce_type: shoal.orders.OrderPlaced   ce_time: <RFC 3339>   ce_subject: <aggregate id>
 *             content-type: application/avro  (= datacontenttype)       ce_dataschema (when set)
 *             ce_traceparent  ce_correlationid  ce_causationid  ce_partitionkey  ce_<extension>...
 *   value     the data bytes as they are (for Shoal: Confluent-framed Avro, see wire-format.ts); no data = null
 *
 * Structured content mode, accepted on read: `content-type: application/cloudevents+json[; charset=...]`
 * (matched case-insensitively) and the value is the JSON event format: one object with the attributes as
 * members and `data` (any JSON value) or `data_base64` (bytes). Other `application/cloudevents*` formats
 * are refused. On read, the Kafka key becomes `partitionkey` when the event does not carry one itself.
 *
 * Data here is opaque: Buffer for bytes, any other value for JSON `data`. event-codec.ts turns Avro bytes
 * into typed data and back.
 */
import type { IHeaders } from 'kafkajs';
import { ShoalError } from '@shoal/core';
import { AVRO_CONTENT_TYPE, CLOUDEVENTS_SPEC_VERSION, NAMED_ATTRIBUTES, STRUCTURED_JSON_CONTENT_TYPE, type CloudEvent, type CloudEventAttributes, type ExtensionValue } from './cloud-event.js';
import { invalidAttribute, validateAttributes, validateExtension } from './event-validation.js';
import { headerText, headerTextExpecting } from './kafka-headers.js';

/** A Kafka record as a consumer receives it (kafkajs's KafkaMessage) or as a producer would send it. */
export interface KafkaMessageIn {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  headers?: IHeaders;
}

/** A binary-mode record, ready for kafkajs's `producer.send({ topic, messages: [message] })`. */
export interface KafkaMessageOut {
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

const CONTENT_TYPE = 'content-type';
const STRUCTURED_PREFIX = 'application/cloudevents';

/** CloudEvent -> binary-mode Kafka record. Data must already be bytes. Throws SHOAL_EVENT_INVALID. */
export function toKafkaMessage(event: CloudEvent<Buffer | null | undefined>): KafkaMessageOut {
  const data: unknown = event.data;
  if (data !== undefined && data !== null && !Buffer.isBuffer(data)) {
    throw new ShoalError(
      'SHOAL_EVENT_INVALID',
      `CloudEvent data must be bytes (a Buffer) in binary content mode, got ${typeof data}: encode it first (EventCodec.encode does)`,
      { retriable: false, details: { attribute: 'data' } },
    );
  }
  return { key: event.partitionkey ?? null, value: data ?? null, headers: binaryHeaders(event, event.datacontenttype) };
}

/**
 * The headers of a binary-mode record, after validating every attribute. `datacontenttype` is passed apart so
 * the codec can state the content type of the bytes it produced without copying the event.
 */
export function binaryHeaders(event: CloudEventAttributes, datacontenttype: string | undefined): Record<string, string> {
  validateAttributes(event, 'event');
  const headers: Record<string, string> = {
    ce_specversion: CLOUDEVENTS_SPEC_VERSION,
    ce_id: event.id,
    ce_source: event.source,
    ce_type: event.type,
  };
  if (event.time !== undefined) headers.ce_time = event.time;
  if (event.subject !== undefined) headers.ce_subject = event.subject;
  if (datacontenttype !== undefined) headers[CONTENT_TYPE] = datacontenttype;
  if (event.dataschema !== undefined) headers.ce_dataschema = event.dataschema;
  if (event.traceparent !== undefined) headers.ce_traceparent = event.traceparent;
  if (event.correlationid !== undefined) headers.ce_correlationid = event.correlationid;
  if (event.causationid !== undefined) headers.ce_causationid = event.causationid;
  if (event.partitionkey !== undefined) headers.ce_partitionkey = event.partitionkey;
  if (event.extensions !== undefined) {
    for (const name in event.extensions) headers[`ce_${name}`] = String(event.extensions[name]);
  }
  return headers;
}

/**
 * Kafka record -> CloudEvent, in either content mode. `data` is a Buffer for bytes (binary mode,
 * `data_base64`), the JSON value for structured `data`, undefined when there is none. Throws
 * SHOAL_EVENT_INVALID naming the attribute and the header or JSON member at fault.
 */
export function fromKafkaMessage(message: KafkaMessageIn): CloudEvent<unknown> {
  const headers = message.headers ?? {};
  const contentType = contentTypeOf(headers);
  if (contentType !== undefined && contentType.length >= STRUCTURED_PREFIX.length && contentType.slice(0, STRUCTURED_PREFIX.length).toLowerCase() === STRUCTURED_PREFIX) {
    return fromStructured(message, contentType);
  }
  return fromBinary(message, headers, contentType);
}

/**
 * The event type of a record from its ce_type header alone, without reading or validating anything else: lets
 * a consumer skip types it does not handle for the price of one header. Undefined without the header (a
 * structured-mode record keeps its type in the value).
 */
export function peekEventType(message: KafkaMessageIn): string | undefined {
  const value = message.headers?.ce_type;
  return value === undefined ? undefined : headerText('ce_type', value);
}

function contentTypeOf(headers: IHeaders): string | undefined {
  const exact = headers[CONTENT_TYPE];
  if (exact !== undefined) return headerTextExpecting(CONTENT_TYPE, exact, AVRO_CONTENT_TYPE);
  // Kafka header names are case-sensitive, but HTTP-minded producers write Content-Type.
  for (const name in headers) {
    if (name.length === CONTENT_TYPE.length && name.toLowerCase() === CONTENT_TYPE) return headerText(name, headers[name]);
  }
  return undefined;
}

// Consecutive records of a topic mostly share their source and often their type: the previous texts are
// compared before anything is decoded (see headerTextExpecting).
let lastSource = '';
let lastType = '';

function fromBinary(message: KafkaMessageIn, headers: IHeaders, datacontenttype: string | undefined): CloudEvent<unknown> {
  let specversion: string | undefined;
  let id: string | undefined;
  let source: string | undefined;
  let type: string | undefined;
  let time: string | undefined;
  let subject: string | undefined;
  let dataschema: string | undefined;
  let traceparent: string | undefined;
  let correlationid: string | undefined;
  let causationid: string | undefined;
  let partitionkey: string | undefined;
  let extensions: Record<string, ExtensionValue> | undefined;
  for (const name in headers) {
    // Headers without the prefix belong to someone else (tracing, the transport) and are left alone.
    if (name.charCodeAt(0) !== 99 /* c */ || name.charCodeAt(1) !== 101 /* e */ || name.charCodeAt(2) !== 95 /* _ */) continue;
    const raw = headers[name];
    if (raw === undefined) continue;
    switch (name) {
      case 'ce_specversion': specversion = headerTextExpecting(name, raw, CLOUDEVENTS_SPEC_VERSION); break;
      case 'ce_id': id = headerText(name, raw); break;
      case 'ce_source': source = lastSource = headerTextExpecting(name, raw, lastSource)!; break;
      case 'ce_type': type = lastType = headerTextExpecting(name, raw, lastType)!; break;
      case 'ce_time': time = headerText(name, raw); break;
      case 'ce_subject': subject = headerText(name, raw); break;
      case 'ce_dataschema': dataschema = headerText(name, raw); break;
      case 'ce_traceparent': traceparent = headerText(name, raw); break;
      case 'ce_correlationid': correlationid = headerText(name, raw); break;
      case 'ce_causationid': causationid = headerText(name, raw); break;
      case 'ce_partitionkey': partitionkey = headerText(name, raw); break;
      case 'ce_datacontenttype':
        // The binding maps datacontenttype to content-type only; a ce_ header for it would be a second truth.
        throw invalidAttribute('datacontenttype', 'header', 'travels in the content-type header in binary mode, not in ce_datacontenttype');
      default: {
        const attribute = name.slice(3);
        const value = headerText(name, raw)!;
        validateExtension(attribute, value, 'header');
        (extensions ??= {})[attribute] = value;
      }
    }
  }
  const event = {
    specversion: specversion as typeof CLOUDEVENTS_SPEC_VERSION,
    id: id!,
    source: source!,
    type: type!,
    time,
    subject,
    datacontenttype,
    dataschema,
    traceparent,
    correlationid,
    causationid,
    partitionkey: partitionkey ?? keyText(message.key),
    extensions,
    data: message.value === null ? undefined : typeof message.value === 'string' ? Buffer.from(message.value, 'utf8') : message.value,
  };
  validateAttributes(event, 'header');
  return event;
}

function keyText(key: Buffer | string | null | undefined): string | undefined {
  if (key === null || key === undefined || key.length === 0) return undefined;
  return typeof key === 'string' ? key : key.toString('utf8');
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function fromStructured(message: KafkaMessageIn, contentType: string): CloudEvent<unknown> {
  const mediaType = contentType.split(';', 1)[0]!.trim().toLowerCase();
  if (mediaType !== STRUCTURED_JSON_CONTENT_TYPE) {
    throw new ShoalError(
      'SHOAL_EVENT_INVALID',
      `Unsupported CloudEvents content-type "${contentType}": Shoal reads the binary mode and the structured mode in ${STRUCTURED_JSON_CONTENT_TYPE} (the Kafka binding has no batch mode)`,
      { retriable: false, details: { header: CONTENT_TYPE, value: contentType } },
    );
  }
  if (message.value === null || message.value.length === 0) {
    throw structuredInvalid('has no value: a structured-mode record holds the whole event in its value');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof message.value === 'string' ? message.value : message.value.toString('utf8'));
  } catch (error) {
    throw structuredInvalid(`is not JSON (${(error as Error).message})`, error);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw structuredInvalid(`must be a JSON object, got ${Array.isArray(parsed) ? 'an array' : parsed === null ? 'null' : typeof parsed}`);
  }
  const members = parsed as Record<string, unknown>;
  const attributes: Record<string, unknown> = {};
  let extensions: Record<string, ExtensionValue> | undefined;
  let data: unknown;
  for (const name of Object.keys(members)) {
    const value = members[name];
    // The JSON format treats a null attribute as an absent one.
    if (value === null || name === 'data') continue;
    if (NAMED_ATTRIBUTES.has(name)) attributes[name] = value;
    else if (name === 'data_base64') data = base64Data(value);
    else {
      validateExtension(name, value, 'json');
      (extensions ??= {})[name] = value as ExtensionValue;
    }
  }
  if (members.data !== undefined && members.data !== null) {
    if (data !== undefined) throw invalidAttribute('data', 'json', 'and data_base64 are both present; the JSON format allows one of them');
    data = members.data;
  }
  const key = keyText(message.key);
  const event = {
    ...(attributes as unknown as CloudEventAttributes),
    ...(attributes.partitionkey === undefined && key !== undefined ? { partitionkey: key } : {}),
    ...(extensions === undefined ? {} : { extensions }),
    data,
  };
  validateAttributes(event, 'json');
  return event;
}

function base64Data(value: unknown): Buffer {
  if (typeof value !== 'string') throw invalidAttribute('data_base64', 'json', 'must be a base64 string', value);
  if (!BASE64.test(value)) throw invalidAttribute('data_base64', 'json', 'is not valid base64 (RFC 4648)', value);
  return Buffer.from(value, 'base64');
}

function structuredInvalid(problem: string, cause?: unknown): ShoalError {
  return new ShoalError('SHOAL_EVENT_INVALID', `Structured-mode CloudEvent ${problem}`, { retriable: false, cause });
}
