import avsc from 'avsc';
import type { Type } from 'avsc';
// For its effect: avsc reads record defaults that leave out a field of a (wrapped) union type.
import '@shoal/core/avsc-record-defaults';
import { InvalidAvroSchemaError } from './invalid-avro-schema-error.js';
import type { NamedDefinitions } from './named-types.js';
import { normalizeSchema } from './normalize.js';

/** A schema reference resolved by the registry: the referenced schema text and, recursively, its own references. */
export interface ResolvedReference {
  name: string;
  schema: string;
  references: readonly ResolvedReference[];
}

export interface AvroSchemaInput {
  schema: string;
  references?: readonly ResolvedReference[];
}

export interface ParsedAvroSchema {
  /** The avsc type, named types from references resolved. */
  type: Type;
  /** Compact normalized JSON (see normalize.ts): what the registry stores and compares. */
  normalized: string;
}

type AvscSchema = Parameters<typeof avsc.Type.forSchema>[0];

/** Named types seen so far, by the normalizer and by avsc, shared by a schema and everything it references. */
interface ParseScope {
  readonly definitions: NamedDefinitions;
  readonly registry: Record<string, Type>;
  readonly referencesDone: Set<string>;
}

/**
 * Parses a schema text as a client posts it (any JSON Avro schema: a bare primitive, a record, a union...)
 * together with the schemas it references. References are parsed first, depth first, into one scope so that
 * the schema can use their named types by full name; a reference reached twice (a diamond) is parsed once,
 * by its reference name. Throws InvalidAvroSchemaError.
 */
export function parseAvroSchema(input: AvroSchemaInput): ParsedAvroSchema {
  const scope: ParseScope = { definitions: new Map(), registry: {}, referencesDone: new Set() };
  parseReferences(input.references ?? [], scope, []);
  return parseOne(input.schema, scope, '');
}

function parseReferences(references: readonly ResolvedReference[], scope: ParseScope, chain: readonly string[]): void {
  for (const reference of references) {
    if (scope.referencesDone.has(reference.name)) continue;
    if (chain.includes(reference.name)) {
      throw new InvalidAvroSchemaError(`Invalid schema: references form a cycle: ${[...chain, reference.name].join(' -> ')}`);
    }
    parseReferences(reference.references, scope, [...chain, reference.name]);
    parseOne(reference.schema, scope, ` in reference '${reference.name}'`);
    scope.referencesDone.add(reference.name);
  }
}

function parseOne(text: string, scope: ParseScope, origin: string): ParsedAvroSchema {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InvalidAvroSchemaError(`Invalid schema: not valid JSON (${(error as Error).message})${origin}`, { cause: error });
  }
  const normalized = normalizeSchema(json, scope.definitions, origin);
  let type: Type;
  try {
    // The normalized form goes to avsc, not the text: it is what the registry serves back, so avsc must
    // accept exactly it. Unions always wrapped: that is avsc's representation for every union the
    // specification allows, where an unwrapped one refuses two branches of one JavaScript kind (two records,
    // int and long). The registry checks schemas for clients in every language, so how one of them holds a
    // union's values must not decide which schemas exist. No logical type classes: resolution ignores them.
    type = avsc.Type.forSchema(normalized as AvscSchema, { wrapUnions: 'always', registry: scope.registry });
  } catch (error) {
    // The normalizer checks what avsc checks, with locations; this is the net for anything it missed.
    throw new InvalidAvroSchemaError(`Invalid schema: ${(error as Error).message}${origin}`, { cause: error });
  }
  return { type, normalized: JSON.stringify(normalized) };
}
