/**
 * Validation of CloudEvents 1.0 context attributes, on write and on read, with one rule per attribute:
 *
 *   specversion      exactly "1.0"
 *   id, type         non-empty strings
 *   source           non-empty URI-reference (no whitespace or control characters)
 *   time             RFC 3339 date-time with a real calendar date, e.g. 2026-01-31T12:00:00.123Z
 *   subject          non-empty string when present
 *   datacontenttype  RFC 2046 media type, `type/subtype[;params]`
 *   dataschema       absolute URI
 *   traceparent      W3C trace context `vv-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`, ids not all zero
 *                    (checked on write; on read only a non-empty string, see below)
 *   correlationid, causationid, partitionkey   non-empty strings when present
 *   other extensions name [a-z0-9]{1,20}; value string, boolean or 32-bit integer
 *
 * The spec says attribute names SHOULD NOT exceed 20 characters; Shoal refuses longer ones so that every
 * name it accepts is portable to every binding. Errors are SHOAL_EVENT_INVALID, never retriable, and name the
 * attribute (and the Kafka header or JSON member it came from) and what is wrong with it.
 */
import { ShoalError } from '@shoal/core';
import { AVRO_CONTENT_TYPE, CLOUDEVENTS_SPEC_VERSION, NAMED_ATTRIBUTES, type CloudEventAttributes } from './cloud-event.js';

/** Where attributes came from, so that an error points at the bytes at fault. */
export type AttributeOrigin = 'event' | 'header' | 'json';

const ATTRIBUTE_NAME = /^[a-z0-9]{1,20}$/;

const MEDIA_TYPE = /^[\w!#$%&'*+.^`|~-]+\/[\w!#$%&'*+.^`|~-]+(?:\s*;.*)?$/;
const ABSOLUTE_URI = /^[A-Za-z][A-Za-z0-9+.-]*:\S*$/;
// Whitespace and control characters are what a URI-reference can never hold; a finer grammar check is not worth it.
const NOT_IN_URI = /[\s\u0000-\u001f\u007f]/;
// Consecutive events mostly share their source; a string comparison is cheaper than the pattern.
let lastValidSource = '';
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

function attributeLabel(name: string, origin: AttributeOrigin): string {
  if (origin === 'header') return `CloudEvent attribute "${name}" (Kafka header ${name === 'datacontenttype' ? 'content-type' : `ce_${name}`})`;
  if (origin === 'json') return `CloudEvent attribute "${name}" (JSON member "${name}")`;
  return `CloudEvent attribute "${name}"`;
}

export function invalidAttribute(name: string, origin: AttributeOrigin, problem: string, value?: unknown): ShoalError {
  const shown = value === undefined ? '' : `: ${describeValue(value)}`;
  return new ShoalError('SHOAL_EVENT_INVALID', `${attributeLabel(name, origin)} ${problem}${shown}`, {
    retriable: false,
    details: { attribute: name, ...(value === undefined ? {} : { value: describeValue(value) }) },
  });
}

/** A value as it appears in an error message: JSON, cut to 100 characters. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (Buffer.isBuffer(value)) return `<${value.length} bytes>`;
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 100 ? `${text.slice(0, 97)}...` : text;
}

/** Throws SHOAL_EVENT_INVALID for the first attribute of `event` that breaks its rule. */
export function validateAttributes(event: CloudEventAttributes, origin: AttributeOrigin): void {
  if (event.specversion !== CLOUDEVENTS_SPEC_VERSION) {
    throw event.specversion === undefined
      ? invalidAttribute('specversion', origin, 'is missing (required, must be "1.0")')
      : invalidAttribute('specversion', origin, 'must be "1.0"', event.specversion);
  }
  requireString(event.id, 'id', origin);
  requireString(event.source, 'source', origin);
  if (event.source !== lastValidSource) {
    if (NOT_IN_URI.test(event.source)) throw invalidAttribute('source', origin, 'is not a URI-reference (whitespace or control character)', event.source);
    lastValidSource = event.source;
  }
  requireString(event.type, 'type', origin);
  if (event.time !== undefined) {
    optionalString(event.time, 'time', origin);
    const problem = rfc3339Problem(event.time);
    if (problem !== undefined) throw invalidAttribute('time', origin, `is not an RFC 3339 timestamp (${problem})`, event.time);
  }
  optionalString(event.subject, 'subject', origin);
  if (event.datacontenttype !== undefined) {
    optionalString(event.datacontenttype, 'datacontenttype', origin);
    if (event.datacontenttype !== AVRO_CONTENT_TYPE && !MEDIA_TYPE.test(event.datacontenttype)) throw invalidAttribute('datacontenttype', origin, 'is not a media type (type/subtype)', event.datacontenttype);
  }
  if (event.dataschema !== undefined) {
    optionalString(event.dataschema, 'dataschema', origin);
    if (!ABSOLUTE_URI.test(event.dataschema)) throw invalidAttribute('dataschema', origin, 'is not an absolute URI', event.dataschema);
  }
  optionalString(event.traceparent, 'traceparent', origin);
  // Checked when Shoal writes it. On read, W3C Trace Context has a receiver ignore a malformed traceparent
  // (and start a new trace) rather than fail: a tracing hint must not make an event undeliverable.
  if (event.traceparent !== undefined && origin === 'event') {
    const problem = traceparentProblem(event.traceparent);
    if (problem !== undefined) throw invalidAttribute('traceparent', origin, `is not a W3C traceparent (${problem})`, event.traceparent);
  }
  optionalString(event.correlationid, 'correlationid', origin);
  optionalString(event.causationid, 'causationid', origin);
  optionalString(event.partitionkey, 'partitionkey', origin);
  if (event.extensions !== undefined) {
    for (const name in event.extensions) validateExtension(name, event.extensions[name], origin);
  }
}

/** Rules for an extension attribute that is not one of Shoal's four. */
export function validateExtension(name: string, value: unknown, origin: AttributeOrigin): void {
  if (!ATTRIBUTE_NAME.test(name)) {
    throw invalidAttribute(name, origin, 'has a name that breaks the CloudEvents naming rule [a-z0-9]{1,20}');
  }
  if (NAMED_ATTRIBUTES.has(name) || name === 'data') {
    throw invalidAttribute(name, origin, 'is not an extension: set it as the event\'s own attribute, not in `extensions`');
  }
  if (typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number' && Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX) return;
  throw invalidAttribute(name, origin, 'must be a string, a boolean or a 32-bit integer', value);
}

function requireString(value: unknown, name: string, origin: AttributeOrigin): asserts value is string {
  if (value === undefined) throw invalidAttribute(name, origin, 'is missing (required)');
  if (typeof value !== 'string') throw invalidAttribute(name, origin, 'must be a string', value);
  if (value.length === 0) throw invalidAttribute(name, origin, 'must not be empty');
}

function optionalString(value: unknown, name: string, origin: AttributeOrigin): void {
  if (value === undefined) return;
  if (typeof value !== 'string') throw invalidAttribute(name, origin, 'must be a string', value);
  if (value.length === 0) throw invalidAttribute(name, origin, 'must not be empty when present');
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

// Hand-written rather than regular expressions: every consumed event passes through these, and a regex
// exec with captures cost more than the rest of the attribute checks together (bench/codec.bench.ts).

/** Why `text` is not an RFC 3339 date-time (YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)), or undefined. */
export function rfc3339Problem(text: string): string | undefined {
  const shape = 'expected YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)';
  if (text.length < 20) return shape;
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  const hour = digits(text, 11, 2);
  const minute = digits(text, 14, 2);
  const second = digits(text, 17, 2);
  const t = text.charCodeAt(10);
  if (
    year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0 ||
    text.charCodeAt(4) !== 45 /* - */ || text.charCodeAt(7) !== 45 || (t !== 84 /* T */ && t !== 116 /* t */) ||
    text.charCodeAt(13) !== 58 /* : */ || text.charCodeAt(16) !== 58
  ) {
    return shape;
  }
  let at = 19;
  if (text.charCodeAt(at) === 46 /* . */) {
    at += 1;
    const fractionStart = at;
    while (at < text.length && isDigit(text.charCodeAt(at))) at += 1;
    if (at === fractionStart) return shape;
  }
  const zone = text.charCodeAt(at);
  if (zone === 90 /* Z */ || zone === 122 /* z */) {
    if (at + 1 !== text.length) return shape;
  } else if (zone === 43 /* + */ || zone === 45 /* - */) {
    const offsetHour = digits(text, at + 1, 2);
    const offsetMinute = digits(text, at + 4, 2);
    if (offsetHour < 0 || offsetMinute < 0 || text.charCodeAt(at + 3) !== 58 || at + 6 !== text.length) return shape;
    if (offsetHour > 23 || offsetMinute > 59) return 'offset out of range';
  } else {
    return shape;
  }
  if (month < 1 || month > 12) return `month ${month} out of range`;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!;
  if (day < 1 || day > days) return `day ${day} out of range for month ${month}`;
  if (hour > 23) return `hour ${hour} out of range`;
  if (minute > 59) return `minute ${minute} out of range`;
  // 60 is a leap second, which RFC 3339 allows.
  if (second > 60) return `second ${second} out of range`;
  return undefined;
}

const TRACE_ID_ZERO = '0'.repeat(32);
const PARENT_ID_ZERO = '0'.repeat(16);

/** Why `text` is not a W3C traceparent (vv-<32 hex>-<16 hex>-<2 hex>, lower case), or undefined. */
function traceparentProblem(text: string): string | undefined {
  if (text.length !== 55 || text.charCodeAt(2) !== 45 || text.charCodeAt(35) !== 45 || text.charCodeAt(52) !== 45) {
    return 'expected vv-<32 hex>-<16 hex>-<2 hex>';
  }
  for (let i = 0; i < 55; i++) {
    if (i !== 2 && i !== 35 && i !== 52 && !isLowerHex(text.charCodeAt(i))) return `"${text[i]}" at ${i} is not a lower-case hex digit`;
  }
  if (text.startsWith('ff')) return 'version ff is invalid';
  if (text.startsWith(TRACE_ID_ZERO, 3)) return 'the trace id is all zeros';
  if (text.startsWith(PARENT_ID_ZERO, 36)) return 'the parent id is all zeros';
  return undefined;
}

/** The number written by `count` ASCII digits at `start`, or -1 if any is not a digit. */
function digits(text: string, start: number, count: number): number {
  let value = 0;
  for (let i = start; i < start + count; i++) {
    const code = text.charCodeAt(i);
    if (!isDigit(code)) return -1;
    value = value * 10 + (code - 48);
  }
  return value;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

function isLowerHex(code: number): boolean {
  return isDigit(code) || (code >= 97 && code <= 102);
}
