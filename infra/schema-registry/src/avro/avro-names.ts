/**
 * Avro names (specification 1.11.1, "Names"): records, enums and fixed types have a full name
 * `<namespace>.<name>`, resolved by @shoal/core's resolveFullName for the registry as for the catalog. What
 * only the registry needs is here: writing a full name back so that it resolves to itself.
 */
export { AVRO_PRIMITIVES, namespaceOf, simpleNameOf, resolveFullName, isValidSimpleName, isValidNamespace } from '@shoal/core';

/**
 * How to write `fullName` where names resolve against `namespace` so that it means `fullName` again: itself,
 * except for a null-namespace name inside a namespaced context, which needs the leading dot.
 */
export function spellingOf(fullName: string, namespace: string): string {
  return fullName.includes('.') || namespace === '' ? fullName : `.${fullName}`;
}
