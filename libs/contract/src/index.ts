/**
 * @shoal/contract: Shoal's event contract (docs/events.md). The CloudEvent envelope and its Kafka binding
 * (binary content mode), Avro data in the Confluent wire format, the schema registry client, and the schema
 * catalog with its generated TypeScript types. Nothing here opens a Kafka connection: that is
 * @shoal/transport's job.
 */
export { createEvent } from './create-event.js';
export type { CreateEventOptions } from './create-event.js';
export { CLOUDEVENTS_SPEC_VERSION, AVRO_CONTENT_TYPE, JSON_CONTENT_TYPE, STRUCTURED_JSON_CONTENT_TYPE } from './cloud-event.js';
export type { CloudEvent, CloudEventAttributes, ExtensionValue, ShoalEvent } from './cloud-event.js';

export { toKafkaMessage, fromKafkaMessage, peekEventType } from './kafka-binding.js';
export type { KafkaMessageIn, KafkaMessageOut } from './kafka-binding.js';
export { validateAttributes } from './event-validation.js';
export { EventCodec } from './event-codec.js';
export type { EventCodecOptions, EncodeOptions } from './event-codec.js';
export { encodeWireFormat, wireSchemaId, decodeWireFormat, WIRE_MAGIC_BYTE, WIRE_HEADER_SIZE } from './wire-format.js';
export { dataProblems } from './avro-data.js';
export type { DataProblem } from './avro-data.js';

export { RegistryClient, registryClientDefaults } from './registry-client.js';
export { COMPATIBILITY_LEVELS, type CompatibilityLevel } from '@shoal/core';
export type {
  RegistryClientOptions,
  RegistryRequest,
  RegistrySchema,
  SchemaReference,
  SubjectVersion,
  CompatibilityVerdict,
} from './registry-client.js';
export { registerCatalog, checkCatalog, findCatalogSchema } from './catalog-registration.js';
export type { RegisteredCatalogSchema, CatalogSchemaCheck, CatalogLookups } from './catalog-registration.js';

export { loadSchemaCatalog, schemaCatalogFromFiles, DEFAULT_SCHEMAS_DIR, avroTypeOptions } from './catalog/index.js';
export type { SchemaCatalog, SchemaFile, EventDefinition, TopicDefinition } from './catalog/index.js';
export * from './generated/events.js';
export { checkEvent } from './event-check.js';
