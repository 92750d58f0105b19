/** JSON values as `JSON.parse` returns them, and the two ways this module writes them back. */
export type Json = null | boolean | number | string | readonly Json[] | JsonObject;
export interface JsonObject {
  readonly [key: string]: Json;
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function hasOwn(object: JsonObject, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(object, key);
}

/**
 * The same value with every object's keys sorted, so that defaults and custom properties written with keys in
 * another order normalize to the same text. `Object.fromEntries` defines own properties, so a `__proto__`
 * key stays data.
 */
export function withSortedKeys(value: Json): Json {
  if (Array.isArray(value)) return value.map(withSortedKeys);
  if (isJsonObject(value)) {
    return Object.fromEntries(
      Object.keys(value)
        .sort(compareKeys)
        .map((key) => [key, withSortedKeys(value[key] as Json)]),
    );
  }
  return value;
}

/** Code-unit order: the same on every machine, unlike `localeCompare`. */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A value as quoted in error messages: its JSON, cut short when long. */
export function show(value: unknown): string {
  const text = value === undefined ? 'undefined' : JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
