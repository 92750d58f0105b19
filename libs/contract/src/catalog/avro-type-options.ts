import type { ForSchemaOptions, Type } from 'avsc';
// For its effect: avsc reads record defaults that leave out a field of a wrapped union type.
import '@shoal/core/avsc-record-defaults';

/**
 * The avsc options every Shoal schema is parsed with, the catalog's reader types and any writer schema fetched
 * from the registry alike, so both sides of Avro schema resolution see values the same way:
 * - a union is unwrapped when every branch reads as its own kind of JavaScript value (`isWrappedUnion`):
 *   `["null", X]` is `X | null`, `["null", "string", "int"]` is `string | number | null`;
 * - any other union is wrapped, as Avro's JSON encoding writes unions: `null`, or an object whose one key is
 *   the branch's name (its full name for a record, enum or fixed, else its type) and whose value is the
 *   branch's value, `{"shoal.payments.Card": {...}}`, `{"long": 5}`. Two records, or `int` and `long`, are
 *   then told apart by what the value says rather than guessed from its shape;
 * - no logical types are registered, so `timestamp-millis` longs decode as plain numbers.
 * The generated TypeScript types (codegen) state the same choice for every union, with `isWrappedUnion`.
 * A fresh object each time: avsc writes the registry it is given.
 */
export function avroTypeOptions(registry: Record<string, Type> = {}): Partial<ForSchemaOptions> {
  return { wrapUnions: 'auto', registry };
}

/**
 * The kind of JavaScript value avsc reads an unwrapped union branch of each Avro type as, and so looks for
 * when it writes one: a union with two branches of one kind could only be guessed between.
 */
const UNWRAPPED_VALUE_KINDS: Readonly<Record<string, string>> = {
  int: 'number',
  long: 'number',
  float: 'number',
  double: 'number',
  bytes: 'Buffer',
  fixed: 'Buffer',
  string: 'string',
  enum: 'string',
  record: 'object',
  error: 'object',
  map: 'object',
};

/**
 * Whether a union whose branches are of these Avro types (`null`, `int`, `array`, ..., a named type as
 * `record`, `enum` or `fixed`) is wrapped: when two branches read as the same kind of JavaScript value. This
 * is avsc's rule for `wrapUnions: 'auto'` (isAmbiguous in avsc's lib/types.js), restated so that the codegen
 * can type each union the way the codec reads it; a test holds the two to the same answers.
 */
export function isWrappedUnion(branchTypes: readonly string[]): boolean {
  const kinds = branchTypes.map((type) => UNWRAPPED_VALUE_KINDS[type] ?? type);
  return new Set(kinds).size < kinds.length;
}
