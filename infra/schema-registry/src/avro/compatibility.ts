import type { CompatibilityLevel } from '@shoal/core';
import type { ParsedAvroSchema } from './parse.js';
import { readerCanReadWriter } from './schema-resolution.js';

/**
 * Compatibility levels, as Confluent Schema Registry defines them for a subject's new schema against the
 * versions already registered:
 *
 *   NONE                 no check
 *   BACKWARD             the new schema reads data written with the latest version
 *   FORWARD              the latest version reads data written with the new schema
 *   FULL                 both
 *   *_TRANSITIVE         the same against every earlier version, not only the latest
 */
export { COMPATIBILITY_LEVELS, type CompatibilityLevel } from '@shoal/core';

/**
 * Messages explaining why `candidate` may not be registered after `previous` (oldest first) under `level`;
 * [] when it may. Each message starts with the previous version it concerns, by its 1-based position in
 * `previous`, and whether that version was the writer (the new schema failed to read its data) or the reader
 * (it failed to read the new schema's data): `version 2 (as writer): READER_FIELD_MISSING_DEFAULT_VALUE: ...`.
 */
export function compatibilityMessages(
  level: CompatibilityLevel,
  candidate: ParsedAvroSchema,
  previous: readonly ParsedAvroSchema[],
): string[] {
  if (level === 'NONE' || previous.length === 0) return [];
  const transitive = level.endsWith('_TRANSITIVE');
  const backward = level.startsWith('BACKWARD') || level.startsWith('FULL');
  const forward = level.startsWith('FORWARD') || level.startsWith('FULL');
  const versions = previous.map((schema, index) => ({ schema, index }));
  return (transitive ? versions : versions.slice(-1)).flatMap(({ schema, index }) => [
    ...(backward ? readerCanReadWriter(candidate.type, schema.type).map((message) => `version ${index + 1} (as writer): ${message}`) : []),
    ...(forward ? readerCanReadWriter(schema.type, candidate.type).map((message) => `version ${index + 1} (as reader): ${message}`) : []),
  ]);
}
