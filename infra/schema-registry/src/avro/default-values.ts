import { AVRO_PRIMITIVES } from './avro-names.js';
import { hasOwn, isJsonObject, show, type Json } from './json-value.js';
import { fullNameOfNormalized, type NamedDefinition, type NamedDefinitions } from './named-types.js';

/**
 * Field default values (specification 1.11.1, "Complex Types", table of default values): a default is the
 * JSON encoding of a value of the field's type. bytes and fixed defaults are strings whose code points
 * 0-255 are the bytes; a record default is an object giving every field without a default of its own; a
 * union default belongs to the union's FIRST branch. Checked here, on the normalized schema, so that the
 * error can name the field: avsc checks the same rules while parsing but says only which value failed.
 * int and long bounds are avsc's (a long must fit a JavaScript number exactly), so both always agree.
 */
export function defaultValueProblem(value: Json, type: Json, definitions: NamedDefinitions): string | undefined {
  if (typeof type === 'string') {
    if (AVRO_PRIMITIVES.has(type)) return primitiveProblem(value, type);
    return namedProblem(value, lookUp(definitions, fullNameOfNormalized(type)), definitions);
  }
  if (Array.isArray(type)) {
    const first = type[0] as Json;
    const problem = defaultValueProblem(value, first, definitions);
    return problem === undefined ? undefined : `${problem}; a union's default belongs to its first branch`;
  }
  if (!isJsonObject(type)) throw new Error(`not a normalized Avro type: ${show(type)}`);
  const kind = type['type'] as string;
  switch (kind) {
    case 'array': {
      if (!Array.isArray(value)) return 'expected an array';
      for (const [index, item] of value.entries()) {
        const problem = defaultValueProblem(item, type['items'] as Json, definitions);
        if (problem !== undefined) return `item ${index}: ${problem}`;
      }
      return undefined;
    }
    case 'map': {
      if (!isJsonObject(value)) return 'expected an object (map)';
      for (const [key, item] of Object.entries(value)) {
        const problem = defaultValueProblem(item, type['values'] as Json, definitions);
        if (problem !== undefined) return `key '${key}': ${problem}`;
      }
      return undefined;
    }
    case 'record':
    case 'error':
    case 'enum':
    case 'fixed':
      return namedProblem(value, lookUp(definitions, type['name'] as string), definitions);
    default:
      return primitiveProblem(value, kind);
  }
}

function lookUp(definitions: NamedDefinitions, fullName: string): NamedDefinition {
  const definition = definitions.get(fullName);
  if (definition === undefined) throw new Error(`normalized schema names an undefined type '${fullName}'`);
  return definition;
}

function namedProblem(value: Json, definition: NamedDefinition, definitions: NamedDefinitions): string | undefined {
  switch (definition.kind) {
    case 'record': {
      if (!isJsonObject(value)) return `expected an object (record '${definition.fullName}')`;
      for (const field of definition.fields) {
        if (hasOwn(value, field.name)) {
          const problem = defaultValueProblem(value[field.name] as Json, field.type, definitions);
          if (problem !== undefined) return `field '${field.name}': ${problem}`;
        } else if (!field.hasDefault) {
          return `missing field '${field.name}' of record '${definition.fullName}'`;
        }
      }
      return undefined;
    }
    case 'enum':
      return typeof value === 'string' && definition.symbols.includes(value)
        ? undefined
        : `expected one of the symbols of enum '${definition.fullName}'`;
    case 'fixed':
      return isByteString(value) && value.length === definition.size
        ? undefined
        : `expected a string of ${definition.size} bytes (fixed '${definition.fullName}')`;
  }
}

const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;
/** avsc's bound for longs read as JavaScript numbers (`isSafeLong` in avsc's types.js). */
const LONG_MAX = 2 ** 53 - 2;

function primitiveProblem(value: Json, primitive: string): string | undefined {
  switch (primitive) {
    case 'null':
      return value === null ? undefined : 'expected null';
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'expected a boolean';
    case 'int':
      return Number.isInteger(value) && (value as number) >= INT_MIN && (value as number) <= INT_MAX
        ? undefined
        : 'expected an int (32-bit integer)';
    case 'long':
      return Number.isInteger(value) && Math.abs(value as number) <= LONG_MAX
        ? undefined
        : `expected a long (an integer between -${LONG_MAX} and ${LONG_MAX}, the ones avsc reads exactly)`;
    case 'float':
    case 'double':
      return typeof value === 'number' ? undefined : `expected a ${primitive} (a JSON number)`;
    case 'string':
      return typeof value === 'string' ? undefined : 'expected a string';
    case 'bytes':
      return isByteString(value) ? undefined : 'expected a string of bytes (code points 0-255)';
    default:
      throw new Error(`not an Avro primitive type: ${primitive}`);
  }
}

function isByteString(value: Json): value is string {
  return typeof value === 'string' && /^[\u0000-\u00ff]*$/.test(value);
}
