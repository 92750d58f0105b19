import { COMPATIBILITY_LEVELS, type CompatibilityLevel } from './avro/index.js';
import { registryErrors } from './registry-errors.js';
import type { SchemaReference } from './registry-store.js';

/**
 * The request bodies and parameters of the REST API, checked by hand rather than by route JSON schemas:
 * Confluent answers a different error code depending on which field is wrong (42201 for the schema,
 * 42203 for a compatibility level, 42204 for a mode), and clients switch on those codes.
 *
 *   register / lookup / compatibility  { "schema": "<avro json>", "schemaType"?: "AVRO",
 *                                        "references"?: [{ "name", "subject", "version" }],
 *                                        "id"?: <int>, "version"?: <int> }      (id, version: IMPORT mode)
 *   PUT /config[/subject]              { "compatibility": "BACKWARD" }
 *   PUT /mode[/subject]                { "mode": "READWRITE" | "READONLY" | "IMPORT" }
 */
export interface SchemaRequest {
  schema: string;
  /** As sent, -1 meaning the latest version of the referenced subject. */
  references: SchemaReference[];
  /** Explicit id and version, accepted in IMPORT mode only. */
  id?: number;
  version?: number;
}

export type Mode = 'READWRITE' | 'READONLY' | 'IMPORT';
export const MODES: readonly Mode[] = ['READWRITE', 'READONLY', 'IMPORT'];

/** A version path parameter: a positive 32-bit integer, or 'latest' (also spelled -1). */
export type VersionParam = number | 'latest';

const MAX_INT32 = 2 ** 31 - 1;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const describe = (value: unknown) => (value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value);
const isInt32 = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value) && Math.abs(value) <= MAX_INT32;

export function parseSchemaRequest(body: unknown): SchemaRequest {
  if (!isObject(body)) throw registryErrors.invalidRequest(`The request body must be a JSON object with a "schema" string, got ${describe(body)}`);
  const { schema, schemaType, references, id, version } = body;
  if (schemaType !== undefined && schemaType !== null && schemaType !== 'AVRO') {
    throw registryErrors.invalidSchemaType(typeof schemaType === 'string' ? schemaType : JSON.stringify(schemaType));
  }
  if (schema === undefined || schema === null || (typeof schema === 'string' && schema.trim() === '')) throw registryErrors.invalidRequest('Empty schema');
  if (typeof schema !== 'string') throw registryErrors.invalidRequest(`"schema" must be a string holding the schema's JSON, got ${describe(schema)}`);
  if (id !== undefined && id !== null && (!isInt32(id) || id < 1)) throw registryErrors.invalidRequest(`"id" must be a positive integer, got ${JSON.stringify(id)}`);
  if (version !== undefined && version !== null && (!isInt32(version) || version < 1)) {
    throw registryErrors.invalidRequest(`"version" must be a positive integer, got ${JSON.stringify(version)}`);
  }
  return {
    schema,
    references: parseReferences(references),
    ...(typeof id === 'number' ? { id } : {}),
    ...(typeof version === 'number' ? { version } : {}),
  };
}

function parseReferences(references: unknown): SchemaReference[] {
  if (references === undefined || references === null) return [];
  if (!Array.isArray(references)) throw registryErrors.invalidRequest(`"references" must be an array, got ${describe(references)}`);
  const names = new Set<string>();
  return references.map((reference: unknown) => {
    if (!isObject(reference)) throw registryErrors.invalidRequest(`Invalid reference: ${JSON.stringify(reference)}`);
    const { name, subject, version } = reference;
    if (typeof name !== 'string' || name === '' || typeof subject !== 'string' || subject === '' || !isInt32(version) || (version < 1 && version !== -1)) {
      throw registryErrors.invalidRequest(`Invalid reference: ${JSON.stringify(reference)} (needs a "name", a "subject" and a "version" >= 1 or -1)`);
    }
    if (names.has(name)) throw registryErrors.invalidRequest(`Invalid reference: the name "${name}" is used twice`);
    names.add(name);
    return { name, subject, version };
  });
}

/** `body[key]` when it names one of `choices` in any case, as Confluent reads levels and modes. */
function choiceField<T extends string>(body: unknown, key: string, choices: readonly T[]): T | undefined {
  const value = isObject(body) ? body[key] : undefined;
  return typeof value === 'string' ? choices.find((choice) => choice === value.toUpperCase()) : undefined;
}

export function parseCompatibilityUpdate(body: unknown): CompatibilityLevel {
  const level = choiceField(body, 'compatibility', COMPATIBILITY_LEVELS);
  if (!level) throw registryErrors.invalidCompatibilityLevel();
  return level;
}

export function parseModeUpdate(body: unknown): Mode {
  const mode = choiceField(body, 'mode', MODES);
  if (!mode) throw registryErrors.invalidMode();
  return mode;
}

export function parseVersionParam(text: string): VersionParam {
  if (text === 'latest' || text === '-1') return 'latest';
  if (!/^\d{1,10}$/.test(text)) throw registryErrors.invalidVersion(text);
  const version = Number(text);
  if (version < 1 || version > MAX_INT32) throw registryErrors.invalidVersion(text);
  return version;
}

/** A boolean query parameter as JAX-RS reads one: "true" in any case is true, anything else false. */
export function queryFlag(value: unknown): boolean {
  return typeof value === 'string' && value.toLowerCase() === 'true';
}
