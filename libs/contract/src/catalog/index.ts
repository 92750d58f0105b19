/** The schema catalog: schemas/ loaded, validated and parsed with avsc. */
export { loadSchemaCatalog, DEFAULT_SCHEMAS_DIR } from './load-schema-catalog.js';
export { schemaCatalogFromFiles } from './schema-catalog.js';
export type { SchemaCatalog, SchemaFile, EventDefinition, TopicDefinition } from './schema-catalog.js';
export { avroTypeOptions, isWrappedUnion } from './avro-type-options.js';
