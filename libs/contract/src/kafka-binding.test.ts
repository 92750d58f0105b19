import { CloudEvent as SdkCloudEvent, Kafka as SdkKafka } from 'cloudevents';
import type { IHeaders } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import type { CloudEvent } from './cloud-event.js';
import { refusal } from './event-fixtures.js';
import { fromKafkaMessage, peekEventType, toKafkaMessage, type KafkaMessageIn } from './kafka-binding.js';

const bytes = Buffer.from([0, 0, 0, 0, 7, 2, 104, 105]);

function event(overrides: Record<string, unknown> = {}): CloudEvent<Buffer | undefined> {
  return {
    specversion: '1.0',
    id: '0190d7a1-8b7c-7cde-8f00-123456789abc',
    source: '/shoal/orders',
    type: 'shoal.orders.OrderPlaced',
    time: '2026-01-31T12:00:00.123Z',
    subject: 'ord-1',
    datacontenttype: 'application/avro',
    traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    correlationid: '0190d7a1-8b7c-7cde-8f00-000000000001',
    causationid: '0190d7a1-8b7c-7cde-8f00-000000000002',
    partitionkey: 'ord-1',
    data: bytes,
    ...overrides,
  } as CloudEvent<Buffer | undefined>;
}

/** Headers as a kafkajs consumer delivers them: every value a Buffer sliced out of one larger buffer. */
function consumedHeaders(headers: Record<string, string>): IHeaders {
  const all = Buffer.from(`xx${Object.values(headers).join('')}xx`, 'utf8');
  const result: IHeaders = {};
  let at = 2;
  for (const [name, value] of Object.entries(headers)) {
    const length = Buffer.byteLength(value);
    result[name] = all.subarray(at, at + length);
    at += length;
  }
  return result;
}

function binaryRecord(headers: Record<string, string>, value: Buffer | null = bytes, key: Buffer | null = null): KafkaMessageIn {
  return { key, value, headers: consumedHeaders(headers) };
}

const minimalHeaders = { ce_specversion: '1.0', ce_id: 'e-1', ce_source: '/shoal/test', ce_type: 'shoal.test.Happened' };


describe('toKafkaMessage (binary content mode)', () => {
  it('maps every attribute to its header and partitionkey to the key, in the documented order', () => {
    const message = toKafkaMessage(event());
    expect(message.key).toBe('ord-1');
    expect(message.value).toBe(bytes);
    expect(Object.entries(message.headers)).toEqual([
      ['ce_specversion', '1.0'],
      ['ce_id', '0190d7a1-8b7c-7cde-8f00-123456789abc'],
      ['ce_source', '/shoal/orders'],
      ['ce_type', 'shoal.orders.OrderPlaced'],
      ['ce_time', '2026-01-31T12:00:00.123Z'],
      ['ce_subject', 'ord-1'],
      ['content-type', 'application/avro'],
      ['ce_traceparent', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'],
      ['ce_correlationid', '0190d7a1-8b7c-7cde-8f00-000000000001'],
      ['ce_causationid', '0190d7a1-8b7c-7cde-8f00-000000000002'],
      ['ce_partitionkey', 'ord-1'],
    ]);
  });

  it('writes only the attributes an event has; no data is a null value, no partitionkey a null key', () => {
    const message = toKafkaMessage({ specversion: '1.0', id: 'e-1', source: '/s', type: 't', data: undefined });
    expect(message).toEqual({ key: null, value: null, headers: { ce_specversion: '1.0', ce_id: 'e-1', ce_source: '/s', ce_type: 't' } });
  });

  it('writes other extensions as ce_<name> with their string form', () => {
    const message = toKafkaMessage(event({ extensions: { tenant: 'acme', attempt: 3, replay: true } }));
    expect(message.headers).toMatchObject({ ce_tenant: 'acme', ce_attempt: '3', ce_replay: 'true' });
  });

  it('refuses data that is not bytes, pointing at the codec', async () => {
    const error = await refusal(() => toKafkaMessage(event({ data: { orderId: 'o' } }) as never));
    expect(error.code).toBe('SHOAL_EVENT_INVALID');
    expect(error.message).toMatch(/data must be bytes.*EventCodec\.encode/);
  });

  it('refuses a malformed traceparent on write', async () => {
    const error = await refusal(() => toKafkaMessage(event({ traceparent: '00-0000-01' })));
    expect(error.code).toBe('SHOAL_EVENT_INVALID');
    expect(error.message).toContain('CloudEvent attribute "traceparent" is not a W3C traceparent');
    const zeros = await refusal(() => toKafkaMessage(event({ traceparent: `00-${'0'.repeat(32)}-00f067aa0ba902b7-01` })));
    expect(zeros.message).toContain('trace id is all zeros');
  });
});

describe('fromKafkaMessage, binary content mode', () => {
  it('round-trips an event through Buffer headers as a kafkajs consumer receives them', () => {
    const original = event({ extensions: { tenant: 'acme' } });
    const sent = toKafkaMessage(original);
    const read = fromKafkaMessage({ key: Buffer.from(sent.key!), value: sent.value, headers: consumedHeaders(sent.headers) });
    expect(read).toEqual({ ...original, extensions: { tenant: 'acme' } });
  });

  it('reads string header values and arrays of equal values (a repeated header)', () => {
    const sent = toKafkaMessage(event());
    const headers: IHeaders = { ...sent.headers, ce_id: [Buffer.from(sent.headers.ce_id!), sent.headers.ce_id!] };
    expect(fromKafkaMessage({ key: sent.key, value: sent.value, headers }).id).toBe(event().id);
  });

  it('refuses a repeated header whose occurrences differ', async () => {
    const error = await refusal(() => fromKafkaMessage({ value: bytes, headers: { ...minimalHeaders, ce_type: [Buffer.from('a.B'), Buffer.from('a.C')] } }));
    expect(error.code).toBe('SHOAL_EVENT_INVALID');
    expect(error.message).toBe('Kafka header ce_type occurs 2 times with different values ("a.B", "a.C")');
  });

  it('decodes UTF-8 header values', () => {
    const read = fromKafkaMessage(binaryRecord({ ...minimalHeaders, ce_subject: 'café-🐟' }));
    expect(read.subject).toBe('café-🐟');
  });

  it('takes the Kafka key as partitionkey when no header gives one, and the header over the key', () => {
    expect(fromKafkaMessage(binaryRecord(minimalHeaders, bytes, Buffer.from('key-1'))).partitionkey).toBe('key-1');
    expect(fromKafkaMessage(binaryRecord({ ...minimalHeaders, ce_partitionkey: 'from-header' }, bytes, Buffer.from('key-1'))).partitionkey).toBe('from-header');
    expect(fromKafkaMessage(binaryRecord(minimalHeaders, bytes, null)).partitionkey).toBeUndefined();
  });

  it('maps content-type (any case of the name) to datacontenttype and a null value to no data', () => {
    expect(fromKafkaMessage(binaryRecord({ ...minimalHeaders, 'Content-Type': 'application/json' })).datacontenttype).toBe('application/json');
    expect(fromKafkaMessage(binaryRecord(minimalHeaders, null)).data).toBeUndefined();
  });

  it('leaves headers without the ce_ prefix alone and keeps unknown ce_ headers as extensions', () => {
    const read = fromKafkaMessage(binaryRecord({ ...minimalHeaders, traceparent: 'not ours', ce_tenant: 'acme' }));
    expect(read.extensions).toEqual({ tenant: 'acme' });
    expect(read.traceparent).toBeUndefined();
  });

  it('accepts a malformed traceparent on read, as W3C Trace Context asks of receivers', () => {
    expect(fromKafkaMessage(binaryRecord({ ...minimalHeaders, ce_traceparent: 'garbage' })).traceparent).toBe('garbage');
  });

  it('peeks the type from ce_type alone', () => {
    expect(peekEventType(binaryRecord({ ce_type: 'shoal.x.Y' }))).toBe('shoal.x.Y');
    expect(peekEventType({ value: null })).toBeUndefined();
  });
});

describe('fromKafkaMessage refuses invalid attributes, naming attribute, header and problem', () => {
  const cases: Array<[string, Record<string, string>, string]> = [
    ['no ce_specversion', { ce_id: 'e', ce_source: '/s', ce_type: 't' }, 'CloudEvent attribute "specversion" (Kafka header ce_specversion) is missing (required, must be "1.0")'],
    ['specversion 0.3', { ...minimalHeaders, ce_specversion: '0.3' }, 'CloudEvent attribute "specversion" (Kafka header ce_specversion) must be "1.0": "0.3"'],
    ['no ce_id', { ce_specversion: '1.0', ce_source: '/s', ce_type: 't' }, 'CloudEvent attribute "id" (Kafka header ce_id) is missing (required)'],
    ['empty ce_id', { ...minimalHeaders, ce_id: '' }, 'CloudEvent attribute "id" (Kafka header ce_id) must not be empty'],
    ['no ce_source', { ce_specversion: '1.0', ce_id: 'e', ce_type: 't' }, 'CloudEvent attribute "source" (Kafka header ce_source) is missing (required)'],
    ['empty ce_source', { ...minimalHeaders, ce_source: '' }, 'CloudEvent attribute "source" (Kafka header ce_source) must not be empty'],
    ['source with a space', { ...minimalHeaders, ce_source: '/shoal/my orders' }, 'CloudEvent attribute "source" (Kafka header ce_source) is not a URI-reference (whitespace or control character): "/shoal/my orders"'],
    ['no ce_type', { ce_specversion: '1.0', ce_id: 'e', ce_source: '/s' }, 'CloudEvent attribute "type" (Kafka header ce_type) is missing (required)'],
    ['empty ce_type', { ...minimalHeaders, ce_type: '' }, 'CloudEvent attribute "type" (Kafka header ce_type) must not be empty'],
    ['time not RFC 3339', { ...minimalHeaders, ce_time: 'yesterday' }, 'CloudEvent attribute "time" (Kafka header ce_time) is not an RFC 3339 timestamp (expected YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)): "yesterday"'],
    ['time without zone', { ...minimalHeaders, ce_time: '2026-01-31T12:00:00' }, 'is not an RFC 3339 timestamp (expected'],
    ['time on February 30', { ...minimalHeaders, ce_time: '2026-02-30T12:00:00Z' }, 'is not an RFC 3339 timestamp (day 30 out of range for month 2): "2026-02-30T12:00:00Z"'],
    ['time in month 13', { ...minimalHeaders, ce_time: '2026-13-01T12:00:00Z' }, '(month 13 out of range)'],
    ['time at hour 24', { ...minimalHeaders, ce_time: '2026-01-01T24:00:00Z' }, '(hour 24 out of range)'],
    ['empty subject', { ...minimalHeaders, ce_subject: '' }, 'CloudEvent attribute "subject" (Kafka header ce_subject) must not be empty when present'],
    ['content-type not a media type', { ...minimalHeaders, 'content-type': 'avro' }, 'CloudEvent attribute "datacontenttype" (Kafka header content-type) is not a media type (type/subtype): "avro"'],
    ['dataschema not a URI', { ...minimalHeaders, ce_dataschema: 'schema 7' }, 'CloudEvent attribute "dataschema" (Kafka header ce_dataschema) is not an absolute URI: "schema 7"'],
    ['ce_datacontenttype', { ...minimalHeaders, ce_datacontenttype: 'application/avro' }, 'travels in the content-type header in binary mode'],
    ['upper-case attribute name', { ...minimalHeaders, ce_Tenant: 'acme' }, 'CloudEvent attribute "Tenant" (Kafka header ce_Tenant) has a name that breaks the CloudEvents naming rule [a-z0-9]{1,20}'],
    ['attribute name with _', { ...minimalHeaders, ce_tenant_id: 'acme' }, 'CloudEvent attribute "tenant_id" (Kafka header ce_tenant_id) has a name that breaks'],
    ['attribute name over 20 characters', { ...minimalHeaders, ce_averyveryverylongattribute: 'x' }, 'CloudEvent attribute "averyveryverylongattribute"'],
    ['empty correlationid', { ...minimalHeaders, ce_correlationid: '' }, 'CloudEvent attribute "correlationid" (Kafka header ce_correlationid) must not be empty when present'],
  ];
  it.each(cases)('%s', async (_name, headers, message) => {
    const error = await refusal(() => fromKafkaMessage(binaryRecord(headers)));
    expect(error.code).toBe('SHOAL_EVENT_INVALID');
    expect(error.retriable).toBe(false);
    expect(error.message).toContain(message);
  });

  it('accepts the RFC 3339 forms: fractions, offsets, lower-case t and z, leap days and leap seconds', () => {
    for (const time of ['2026-01-31T12:00:00Z', '2026-01-31t12:00:00.123456789z', '2024-02-29T23:59:60+05:30', '2026-01-31T12:00:00-08:00']) {
      expect(fromKafkaMessage(binaryRecord({ ...minimalHeaders, ce_time: time })).time).toBe(time);
    }
  });
});

describe('fromKafkaMessage, structured content mode', () => {
  function structured(body: unknown, contentType = 'application/cloudevents+json; charset=UTF-8', key: Buffer | null = null): KafkaMessageIn {
    return { key, value: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)), headers: { 'content-type': Buffer.from(contentType) } };
  }
  const attributes = { specversion: '1.0', id: 'e-1', source: '/elsewhere', type: 'com.example.Thing', time: '2026-01-31T12:00:00Z' };

  it('reads JSON data, extensions, and the key as partitionkey', () => {
    const read = fromKafkaMessage(structured({ ...attributes, datacontenttype: 'application/json', tenant: 'acme', priority: 2, data: { a: 1 } }, undefined, Buffer.from('k-1')));
    expect(read).toEqual({ ...attributes, datacontenttype: 'application/json', partitionkey: 'k-1', extensions: { tenant: 'acme', priority: 2 }, data: { a: 1 } });
  });

  it('reads data_base64 as bytes', () => {
    const read = fromKafkaMessage(structured({ ...attributes, datacontenttype: 'application/avro', data_base64: bytes.toString('base64') }));
    expect(read.data).toEqual(bytes);
  });

  it('matches the media type case-insensitively and treats null members as absent', () => {
    const read = fromKafkaMessage(structured({ ...attributes, subject: null }, 'Application/CloudEvents+JSON'));
    expect(read.subject).toBeUndefined();
    expect(read.data).toBeUndefined();
  });

  it('reads what the cloudevents SDK writes in structured mode', () => {
    // The SDK writes time with milliseconds whatever it was given.
    const sdkAttributes = { ...attributes, time: '2026-01-31T12:00:00.000Z' };
    const record = SdkKafka.structured(new SdkCloudEvent({ ...sdkAttributes, partitionkey: 'k-9', data: { hello: 'world' } }));
    const read = fromKafkaMessage({ key: record.key as string, value: record.value as string, headers: record.headers as IHeaders });
    expect(read).toMatchObject({ ...sdkAttributes, partitionkey: 'k-9', data: { hello: 'world' } });
  });

  const refusals: Array<[string, KafkaMessageIn, string]> = [
    ['another event format', structured(attributes, 'application/cloudevents+avro'), 'Unsupported CloudEvents content-type "application/cloudevents+avro"'],
    ['batch mode', structured([attributes], 'application/cloudevents-batch+json'), 'the Kafka binding has no batch mode'],
    ['a value that is not JSON', structured('{"specversion":'), 'Structured-mode CloudEvent is not JSON'],
    ['a JSON array', structured([attributes]), 'Structured-mode CloudEvent must be a JSON object, got an array'],
    ['no value', { value: null, headers: { 'content-type': 'application/cloudevents+json' } }, 'Structured-mode CloudEvent has no value'],
    ['data and data_base64', structured({ ...attributes, data: 1, data_base64: 'AA==' }), 'CloudEvent attribute "data" (JSON member "data") and data_base64 are both present'],
    ['data_base64 that is not base64', structured({ ...attributes, data_base64: 'not base64!' }), 'CloudEvent attribute "data_base64" (JSON member "data_base64") is not valid base64'],
    ['a number as id', structured({ ...attributes, id: 42 }), 'CloudEvent attribute "id" (JSON member "id") must be a string: 42'],
    ['specversion 0.3', structured({ ...attributes, specversion: '0.3' }), 'CloudEvent attribute "specversion" (JSON member "specversion") must be "1.0": "0.3"'],
    ['a bad attribute name', structured({ ...attributes, 'Tenant-Id': 'x' }), 'CloudEvent attribute "Tenant-Id" (JSON member "Tenant-Id") has a name that breaks the CloudEvents naming rule'],
    ['an object as extension value', structured({ ...attributes, tenant: { id: 1 } }), 'CloudEvent attribute "tenant" (JSON member "tenant") must be a string, a boolean or a 32-bit integer: {"id":1}'],
    ['an invalid time', structured({ ...attributes, time: '31/01/2026' }), 'CloudEvent attribute "time" (JSON member "time") is not an RFC 3339 timestamp'],
  ];
  it.each(refusals)('refuses %s', async (_name, record, message) => {
    const error = await refusal(() => fromKafkaMessage(record));
    expect(error.code).toBe('SHOAL_EVENT_INVALID');
    expect(error.message).toContain(message);
  });
});

describe('agreement with the cloudevents SDK', () => {
  it('the SDK reads our binary-mode records to the same attributes', () => {
    const sent = toKafkaMessage(event());
    const sdkEvent = SdkKafka.toEvent({ key: sent.key!, value: sent.value, headers: sent.headers, body: sent.value } as never) as SdkCloudEvent<Buffer>;
    const { data: _data, ...attributes } = event();
    expect(sdkEvent.toJSON()).toMatchObject(attributes);
    expect(() => sdkEvent.validate()).not.toThrow();
  });
});
