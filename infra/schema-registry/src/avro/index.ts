export { COMPATIBILITY_LEVELS, compatibilityMessages, type CompatibilityLevel } from './compatibility.js';
export { InvalidAvroSchemaError } from './invalid-avro-schema-error.js';
export { parseAvroSchema, type AvroSchemaInput, type ParsedAvroSchema, type ResolvedReference } from './parse.js';
export { readerCanReadWriter } from './schema-resolution.js';
