import type { ForSchemaOptions, Type } from 'avsc';

/**
 * The avsc options every Shoal schema is parsed with, the catalog's reader types and any writer schema fetched
 * from the registry alike, so both sides of Avro schema resolution see values the same way:
 * - unions are never wrapped: `["null", X]` is `X | null`, exactly the generated TypeScript types, and a union
 *   whose branches cannot be told apart by their JavaScript value (two records, int and long) is rejected
 *   when the schema is parsed instead of being encoded ambiguously;
 * - no logical types are registered, so `timestamp-millis` longs decode as plain numbers.
 * A fresh object each time: avsc writes the registry it is given.
 */
export function avroTypeOptions(registry: Record<string, Type> = {}): Partial<ForSchemaOptions> {
  return { wrapUnions: 'never', registry };
}
