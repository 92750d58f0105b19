import type { IHeaders } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import type { CloudEvent } from './cloud-event.js';
import { createEvent } from './create-event.js';
import { EventCodec } from './event-codec.js';
import { catalogWithSchema, orderPlacedData, refusal } from './event-fixtures.js';
import { countingClient, registryWithCatalog } from './registry-fixtures.js';
import { registerCatalog } from './catalog-registration.js';
import type { KafkaMessageIn, KafkaMessageOut } from './kafka-binding.js';
import { encodeWireFormat } from './wire-format.js';


/** The record as a kafkajs consumer hands it over: Buffer key and header values. */
function consumed(message: KafkaMessageOut): KafkaMessageIn {
  const headers: IHeaders = {};
  for (const [name, value] of Object.entries(message.headers)) headers[name] = Buffer.from(value);
  return { key: message.key === null ? null : Buffer.from(message.key), value: message.value, headers };
}

function untypedEvent(type: string, data: unknown, id = `${type}-1`): CloudEvent<unknown> {
  return { specversion: '1.0', id, source: '/shoal/test', type, time: '2026-01-31T12:00:00.000Z', subject: 'agg-1', partitionkey: 'agg-1', data };
}

const placed = () => createEvent('shoal.orders.OrderPlaced', orderPlacedData(), { source: '/shoal/orders', subject: 'ord-1', id: 'e-1', time: '2026-01-31T12:00:00.000Z' });

describe('EventCodec round trips through the registry', () => {
  it('encodes and decodes every event type of the catalog', async () => {
    const { client, catalog, registered } = await registryWithCatalog();
    const codec = new EventCodec({ registry: client, catalog });
    for (const [type, definition] of catalog.events) {
      const data: unknown = catalog.avroType(type).random();
      const event = untypedEvent(type, data);
      const message = await codec.encode(event);
      expect(message.value!.readUInt32BE(1), type).toBe(registered.find((schema) => schema.subject === definition.subject)!.id);
      expect(message.headers['content-type']).toBe('application/avro');
      expect(await codec.decode(consumed(message)), type).toEqual({ ...event, datacontenttype: 'application/avro' });
    }
  });

  it('decodes with the writer schema when the codec has no catalog (a tool reading any type)', async () => {
    const { client, catalog } = await registryWithCatalog();
    const message = await new EventCodec({ registry: client, catalog }).encode(placed());
    const decoded = await new EventCodec({ registry: client }).decode(consumed(message));
    expect(decoded.data).toEqual(orderPlacedData());
  });

  it('upcasts: data written before a field was added reads with the field default, and the other way round', async () => {
    const { client, catalog: before } = await registryWithCatalog();
    const after = catalogWithSchema('orders/OrderPlaced.avsc', (schema) => schema.fields.push({ name: 'channel', type: 'string', default: 'web' }));
    const written = await new EventCodec({ registry: client, catalog: before }).encode(placed());
    await registerCatalog(client, after);

    const upcast = await new EventCodec({ registry: client, catalog: after }).decode(consumed(written));
    expect(upcast.data).toEqual({ ...orderPlacedData(), channel: 'web' });

    const newer = await new EventCodec({ registry: client, catalog: after }).encode({ ...placed(), data: { ...orderPlacedData(), channel: 'app' } });
    expect(newer.value!.readUInt32BE(1)).not.toBe(written.value!.readUInt32BE(1));
    expect((await new EventCodec({ registry: client, catalog: before }).decode(consumed(newer))).data).toEqual(orderPlacedData());
  });

  it('makes no registry call once warm, and keeps working with the registry gone', async () => {
    const registry = await registryWithCatalog();
    const codec = new EventCodec({ registry: registry.client, catalog: registry.catalog });
    const events = [...registry.catalog.events.keys()].map((type) => untypedEvent(type, registry.catalog.avroType(type).random()));
    for (const event of events) await codec.decode(consumed(await codec.encode(event)));
    expect(registry.requests.length).toBeGreaterThan(0);

    registry.requests.length = 0;
    for (let round = 0; round < 20; round++) {
      for (const event of events) expect((await codec.decode(consumed(await codec.encode(event)))).data).toEqual(event.data);
    }
    expect(registry.requests).toEqual([]);

    await registry.close();
    for (const event of events) expect((await codec.decode(consumed(await codec.encode(event)))).id).toBe(event.id);
    expect(registry.requests).toEqual([]);
  });
});

describe('EventCodec refusals', () => {
  it('refuses data that does not match the schema, naming the field paths', async () => {
    const { client, catalog } = await registryWithCatalog();
    const codec = new EventCodec({ registry: client, catalog });
    const [line] = orderPlacedData().lines;
    const error = await refusal(() => codec.encode({ ...placed(), data: { ...orderPlacedData(), lines: [{ ...line!, quantity: 'two' }] } }));
    expect(error).toMatchObject({ code: 'SHOAL_EVENT_DATA_INVALID', retriable: false });
    expect(error.message).toContain('data.lines[0].quantity: expected int, got "two"');
  });

  it('refuses an event that declares data other than Avro', async () => {
    const { client, catalog } = await registryWithCatalog();
    const error = await refusal(() => new EventCodec({ registry: client, catalog }).encode({ ...placed(), datacontenttype: 'application/json' }));
    expect(error.code).toBe('SHOAL_EVENT_INVALID');
    expect(error.message).toContain('CloudEvent attribute "datacontenttype" must be application/avro or absent');
  });

  it('refuses to encode with a schema the registry does not hold', async () => {
    const { client } = await registryWithCatalog();
    const changed = catalogWithSchema('orders/OrderPlaced.avsc', (schema) => schema.fields.push({ name: 'channel', type: 'string', default: 'web' }));
    const error = await refusal(() => new EventCodec({ registry: client, catalog: changed }).encode(placed()));
    expect(error.code).toBe('SHOAL_SCHEMA_NOT_REGISTERED');
    expect(error.message).toContain('orders.order-shoal.orders.OrderPlaced');
  });

  it('encodes a type the catalog does not know only with a subject, using its latest schema', async () => {
    const { client } = await registryWithCatalog();
    const schema = JSON.stringify({ type: 'record', name: 'Ping', namespace: 'tools', fields: [{ name: 'n', type: 'int' }] });
    const id = await client.register('pings-tools.Ping', { schema }, 'BACKWARD');
    const codec = new EventCodec({ registry: client });
    expect((await refusal(() => codec.encode(untypedEvent('tools.Ping', { n: 1 })))).code).toBe('SHOAL_SCHEMA_UNKNOWN_TYPE');
    expect((await refusal(() => codec.encode(untypedEvent('tools.Ping', { n: 1 }), { subject: 'pings-nothing' }))).code).toBe('SHOAL_SCHEMA_NOT_REGISTERED');
    const message = await codec.encode(untypedEvent('tools.Ping', { n: 1 }), { subject: 'pings-tools.Ping' });
    expect(message.value!.readUInt32BE(1)).toBe(id);
    expect((await codec.decode(consumed(message))).data).toEqual({ n: 1 });
  });

  it('refuses values that are not one Confluent-framed Avro datum, and unknown schema ids', async () => {
    const { client, catalog } = await registryWithCatalog();
    const codec = new EventCodec({ registry: client, catalog });
    const good = consumed(await codec.encode(placed()));
    const value = good.value as Buffer;
    const withValue = (replacement: Buffer): KafkaMessageIn => ({ ...good, value: replacement });

    const magic = Buffer.from(value);
    magic[0] = 1;
    expect(await refusal(() => codec.decode(withValue(magic)))).toMatchObject({ code: 'SHOAL_EVENT_DECODE', retriable: false });
    expect((await refusal(() => codec.decode(withValue(value.subarray(0, value.length - 3))))).message).toContain('truncated');
    expect((await refusal(() => codec.decode(withValue(Buffer.concat([value, Buffer.from([0])]))))).message).toContain('1 trailing bytes');
    expect((await refusal(() => codec.decode(withValue(value.subarray(0, 3))))).message).toContain('shorter than the 5-byte');

    const unknownId = Buffer.from(value);
    unknownId.writeUInt32BE(999_999, 1);
    const unknown = await refusal(() => codec.decode(withValue(unknownId)));
    expect(unknown).toMatchObject({ code: 'SHOAL_SCHEMA_UNKNOWN_ID', retriable: false });
    expect(unknown.message).toContain('999999');
  });

  it('asks the registry once about an unknown schema id, however many records carry it', async () => {
    const { client, catalog, requests } = await registryWithCatalog();
    const codec = new EventCodec({ registry: client, catalog });
    const good = consumed(await codec.encode(placed()));
    const poison = Buffer.from(good.value as Buffer);
    poison.writeUInt32BE(424_242, 1);
    requests.length = 0;
    for (let i = 0; i < 50; i++) expect((await refusal(() => codec.decode({ ...good, value: poison }))).code).toBe('SHOAL_SCHEMA_UNKNOWN_ID');
    expect(requests.filter((r) => r.path === '/schemas/ids/424242')).toHaveLength(1);
    // Without the memory, every record is a request.
    const forgetful = new EventCodec({ registry: client, catalog, unknownIdTtlMs: 0 });
    requests.length = 0;
    for (let i = 0; i < 3; i++) await refusal(() => forgetful.decode({ ...good, value: poison }));
    expect(requests.filter((r) => r.path === '/schemas/ids/424242')).toHaveLength(3);
  });

  it('refuses data written with the schema of another record than its type says', async () => {
    const { client, catalog, registered } = await registryWithCatalog();
    const codec = new EventCodec({ registry: client, catalog });
    const confirmedId = registered.find((schema) => schema.name === 'shoal.orders.OrderConfirmed')!.id;
    const data = catalog.avroType('shoal.orders.OrderConfirmed').random();
    const message = consumed(await codec.encode(placed()));
    const error = await refusal(() => codec.decode({ ...message, value: encodeWireFormat(confirmedId, catalog.avroType('shoal.orders.OrderConfirmed'), data) }));
    expect(error.code).toBe('SHOAL_EVENT_DECODE');
    expect(error.message).toContain(`writer schema ${confirmedId} (shoal.orders.OrderConfirmed) cannot be read as shoal.orders.OrderPlaced`);
  });

  it('reports an unreachable registry as retriable when a schema is not cached yet', async () => {
    const registry = await registryWithCatalog();
    const message = consumed(await new EventCodec({ registry: registry.client, catalog: registry.catalog }).encode(placed()));
    await registry.close();
    const { client } = countingClient(registry.url, { retries: 0 });
    const error = await refusal(() => new EventCodec({ registry: client, catalog: registry.catalog }).decode(message));
    expect(error).toMatchObject({ code: 'SHOAL_REGISTRY_UNAVAILABLE', retriable: true });
  });
});

describe('EventCodec and structured mode', () => {
  const structured = (body: object): KafkaMessageIn => ({ value: Buffer.from(JSON.stringify(body)), headers: { 'content-type': 'application/cloudevents+json' } });

  it('decodes Confluent-framed Avro carried as data_base64', async () => {
    const { client, catalog } = await registryWithCatalog();
    const codec = new EventCodec({ registry: client, catalog });
    const binary = await codec.encode(placed());
    const { data: _data, ...attributes } = placed();
    const decoded = await codec.decode(structured({ ...attributes, datacontenttype: 'application/avro', data_base64: binary.value!.toString('base64') }));
    expect(decoded.data).toEqual(orderPlacedData());
  });

  it('takes JSON data of a known type only when it matches the schema', async () => {
    const { client, catalog } = await registryWithCatalog();
    const codec = new EventCodec({ registry: client, catalog });
    const { data: _data, ...attributes } = placed();
    expect((await codec.decode(structured({ ...attributes, datacontenttype: 'application/json', data: orderPlacedData() }))).data).toEqual(orderPlacedData());
    const error = await refusal(() => codec.decode(structured({ ...attributes, data: { ...orderPlacedData(), total: 12 } })));
    expect(error.code).toBe('SHOAL_EVENT_DATA_INVALID');
    expect(error.message).toContain('data.total: expected record shoal.common.Money, got 12');
  });
});
