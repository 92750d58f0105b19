import type { Json } from './json-value.js';

/**
 * What the normalizer remembers of each named type it has defined (in a reference or in the schema itself),
 * keyed by full name: enough to check names in type position, union branches and field defaults.
 */
export type NamedDefinition =
  | { readonly kind: 'record'; readonly fullName: string; readonly fields: FieldDefinition[] }
  | { readonly kind: 'enum'; readonly fullName: string; readonly symbols: readonly string[] }
  | { readonly kind: 'fixed'; readonly fullName: string; readonly size: number };

export interface FieldDefinition {
  readonly name: string;
  /** The field's normalized type. */
  readonly type: Json;
  readonly hasDefault: boolean;
}

export type NamedDefinitions = Map<string, NamedDefinition>;

/**
 * The full name a name in a normalized schema stands for: normalized names are full names, with a leading dot
 * only when a null-namespace name sits inside a namespaced type.
 */
export function fullNameOfNormalized(name: string): string {
  return name.startsWith('.') ? name.slice(1) : name;
}
