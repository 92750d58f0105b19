/**
 * CloudEvent <-> Kafka record with Avro data, Shoal's event contract (docs/events.md):
 *
 *   encode  attributes -> binary-mode headers, content-type application/avro (kafka-binding.ts)
 *           data -> Avro with the writer schema of the event type -> 0x00 | schema id | Avro (wire-format.ts)
 *   decode  headers (or a structured-mode JSON value) -> attributes
 *           value -> schema id -> writer schema (registry) -> data in the reader schema: the catalog's schema
 *           of the event type, so Avro schema resolution upcasts old events; the writer schema itself when the
 *           catalog does not know the type (a CLI subscriber)
 *
 * Writer schema of a catalog type: the catalog's avsc type, its id found once in the registry by looking up
 * the catalog's text under the type's subject (never registered from here: `registerCatalog` does that).
 * Types the catalog does not know are written with the latest schema of a subject the caller names.
 *
 * Caches, all unbounded because they are bounded by the schemas in the registry: writer id per type (or per
 * subject), writer Type per schema id, reader Type + resolver per (writer id, event type). Once they are
 * warm, encode and decode make no registry call and await nothing.
 */
import type { Type } from 'avsc';
import './avro-limits.js';
import { ShoalError, isShoalError } from '@shoal/core';
import { dataInvalid } from './avro-data.js';
import { findCatalogSchema, type CatalogLookups } from './catalog-registration.js';
import type { SchemaCatalog } from './catalog/index.js';
import { AVRO_CONTENT_TYPE, JSON_CONTENT_TYPE, type CloudEvent } from './cloud-event.js';
import { invalidAttribute } from './event-validation.js';
import { binaryHeaders, fromKafkaMessage, type KafkaMessageIn, type KafkaMessageOut } from './kafka-binding.js';
import type { RegistryClient } from './registry-client.js';
import { decodeError, decodeWireFormat, encodeWireFormat, wireSchemaId } from './wire-format.js';

export interface EventCodecOptions {
  registry: RegistryClient;
  /** Writer schemas for encoding and reader schemas for decoding the catalog's event types. */
  catalog?: SchemaCatalog;
  /**
   * How long a schema id the registry does not know is answered from memory (SHOAL_SCHEMA_UNKNOWN_ID)
   * before the registry is asked again. Default 10 s: a burst of poison records costs one registry request
   * per id, not one per record. Outages are never remembered.
   */
  unknownIdTtlMs?: number;
}

export interface EncodeOptions {
  /**
   * For an event type the catalog does not know: the subject whose latest schema writes the data, e.g.
   * `<topic>-<type>`. Ignored for catalog types, whose subject the catalog says.
   */
  subject?: string;
}

interface Writer {
  id: number;
  type: Type;
}

interface Reader {
  type: Type;
  resolver: ReturnType<Type['createResolver']> | undefined;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export class EventCodec {
  readonly registry: RegistryClient;
  readonly catalog: SchemaCatalog | undefined;
  private readonly writersByType = new Map<string, Writer>();
  private readonly writersBySubject = new Map<string, Writer>();
  private readonly writerTypes = new Map<number, Promise<Type>>();
  private readonly readers = new Map<number, Map<string, Reader>>();
  private readonly lookups: CatalogLookups = new Map();
  private readonly unknownIdTtlMs: number;

  constructor(options: EventCodecOptions) {
    this.registry = options.registry;
    this.catalog = options.catalog;
    this.unknownIdTtlMs = options.unknownIdTtlMs ?? 10_000;
  }

  /**
   * The binary-mode Kafka record of `event`. Throws SHOAL_EVENT_INVALID for a bad attribute,
   * SHOAL_EVENT_DATA_INVALID (with field paths) for data that does not match the schema,
   * SHOAL_SCHEMA_NOT_REGISTERED when the registry does not hold the writer schema.
   */
  async encode(event: CloudEvent<unknown>, options: EncodeOptions = {}): Promise<KafkaMessageOut> {
    const writer = this.writersByType.get(event.type) ?? (options.subject === undefined ? undefined : this.writersBySubject.get(options.subject));
    return this.encodeWith(writer ?? (await this.loadWriter(event.type, options.subject)), event);
  }

  /**
   * The CloudEvent in a Kafka record, its data decoded. Throws SHOAL_EVENT_INVALID (attributes),
   * SHOAL_EVENT_DECODE (bytes that are not one Confluent-framed Avro datum, or a writer schema the reader
   * schema cannot resolve), SHOAL_SCHEMA_UNKNOWN_ID, SHOAL_EVENT_DATA_INVALID (JSON data that does not
   * match the type's schema), and the retriable SHOAL_REGISTRY_UNAVAILABLE. Synchronous once the record's
   * writer schema and resolver are cached (the steady state); a promise only when the registry must be asked.
   * Errors are thrown synchronously or rejected, so callers `await` it either way.
   */
  decode(message: KafkaMessageIn): CloudEvent<unknown> | Promise<CloudEvent<unknown>> {
    // A fresh object from the binding: its data is replaced in place rather than copying every attribute.
    const event = fromKafkaMessage(message) as Mutable<CloudEvent<unknown>>;
    const data = event.data;
    if (Buffer.isBuffer(data) && isAvro(event.datacontenttype)) {
      const id = wireSchemaId(data);
      const reader = this.readers.get(id)?.get(event.type);
      // Warm: no promise at all. An awaited async function costs a fifth of a whole decode (bench/codec.bench.ts).
      if (reader !== undefined) {
        event.data = decodeWireFormat(data, reader.type, reader.resolver, id);
        return event;
      }
      return this.loadReader(id, event.type).then((loaded) => {
        event.data = decodeWireFormat(data, loaded.type, loaded.resolver, id);
        return event;
      });
    }
    event.data = this.otherData(event);
    return event;
  }

  private encodeWith(writer: Writer, event: CloudEvent<unknown>): KafkaMessageOut {
    if (event.datacontenttype !== undefined && event.datacontenttype !== AVRO_CONTENT_TYPE) {
      throw invalidAttribute('datacontenttype', 'event', `must be ${AVRO_CONTENT_TYPE} or absent: the codec writes Avro`, event.datacontenttype);
    }
    const headers = binaryHeaders(event, AVRO_CONTENT_TYPE);
    let value: Buffer;
    try {
      value = encodeWireFormat(writer.id, writer.type, event.data);
    } catch (error) {
      throw dataInvalid(event.type, writer.type, event.data, error);
    }
    return { key: event.partitionkey ?? null, value, headers };
  }

  private async loadWriter(eventType: string, subject: string | undefined): Promise<Writer> {
    const definition = this.catalog?.events.get(eventType);
    if (definition !== undefined) {
      const held = await findCatalogSchema(this.registry, this.catalog!, eventType, this.lookups);
      if (held === undefined) {
        throw new ShoalError(
          'SHOAL_SCHEMA_NOT_REGISTERED',
          `The schema of ${eventType} (${definition.file}) is not registered under subject "${definition.subject}" at ${this.registry.url}, or differs from the registered one: register the catalog (shoal schemas register)`,
          { details: { type: eventType, subject: definition.subject } },
        );
      }
      const writer = { id: held.id, type: this.catalog!.avroType(eventType) };
      this.writersByType.set(eventType, writer);
      return writer;
    }
    if (subject === undefined) {
      throw new ShoalError(
        'SHOAL_SCHEMA_UNKNOWN_TYPE',
        `Cannot encode ${eventType}: the schema catalog does not know it and no subject names its writer schema`,
        { details: { type: eventType } },
      );
    }
    const latest = await this.registry.latestVersion(subject);
    if (latest === undefined) {
      throw new ShoalError('SHOAL_SCHEMA_NOT_REGISTERED', `Cannot encode ${eventType}: subject "${subject}" has no schema at ${this.registry.url}`, {
        details: { type: eventType, subject },
      });
    }
    const writer = { id: latest.id, type: await this.writerType(latest.id) };
    this.writersBySubject.set(subject, writer);
    return writer;
  }

  private async loadReader(schemaId: number, eventType: string): Promise<Reader> {
    const writer = await this.writerType(schemaId);
    const readerType = this.catalog?.events.has(eventType) ? this.catalog.avroType(eventType) : undefined;
    let reader: Reader;
    if (readerType === undefined || readerType.equals(writer)) {
      reader = { type: readerType ?? writer, resolver: undefined };
    } else {
      try {
        reader = { type: readerType, resolver: readerType.createResolver(writer) };
      } catch (error) {
        throw decodeError(`writer schema ${schemaId} (${writer.name ?? writer.typeName}) cannot be read as ${eventType}: ${(error as Error).message}`, error);
      }
    }
    let byType = this.readers.get(schemaId);
    if (byType === undefined) this.readers.set(schemaId, (byType = new Map()));
    byType.set(eventType, reader);
    return reader;
  }

  private writerType(schemaId: number): Promise<Type> {
    let type = this.writerTypes.get(schemaId);
    if (type === undefined) {
      type = this.registry.schemaType(schemaId);
      this.writerTypes.set(schemaId, type);
      // An outage is forgotten at once (the registry may come back); an unknown id after a while (a producer
      // may have used an id of another registry that this one is about to import).
      type.catch((error: unknown) => {
        const forget = () => {
          if (this.writerTypes.get(schemaId) === type) this.writerTypes.delete(schemaId);
        };
        if (isShoalError(error, 'SHOAL_SCHEMA_UNKNOWN_ID') && this.unknownIdTtlMs > 0) setTimeout(forget, this.unknownIdTtlMs).unref();
        else forget();
      });
    }
    return type;
  }

  /** Data that is not Avro bytes: JSON (structured-mode `data`, or application/json bytes), or none. */
  private otherData(event: CloudEvent<unknown>): unknown {
    const readerType = this.catalog?.events.has(event.type) ? this.catalog.avroType(event.type) : undefined;
    let data = event.data;
    if (Buffer.isBuffer(data)) {
      if (!isJson(event.datacontenttype)) {
        throw decodeError(`datacontenttype "${event.datacontenttype}" is neither ${AVRO_CONTENT_TYPE} (Confluent wire format) nor JSON`);
      }
      try {
        data = JSON.parse(data.toString('utf8'));
      } catch (error) {
        throw decodeError(`data declared ${event.datacontenttype} is not JSON: ${(error as Error).message}`, error);
      }
    }
    if (readerType === undefined) return data;
    if (data === undefined) throw decodeError(`${event.type} event ${event.id} has no data`);
    if (!readerType.isValid(data)) throw dataInvalid(event.type, readerType, data);
    return data;
  }
}

function mediaType(contentType: string): string {
  return contentType.split(';', 1)[0]!.trim().toLowerCase();
}

// Binary-mode data without a content type is taken for Shoal's own: the wire format check refuses anything else.
function isAvro(contentType: string | undefined): boolean {
  return contentType === undefined || contentType === AVRO_CONTENT_TYPE || mediaType(contentType) === AVRO_CONTENT_TYPE;
}

function isJson(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const type = mediaType(contentType);
  return type === JSON_CONTENT_TYPE || type.endsWith('+json');
}
