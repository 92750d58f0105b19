/**
 * Avro names (specification 1.11.1, "Names"): records, enums and fixed types have a full name
 * `<namespace>.<name>`. A name that contains a dot is already full; otherwise it takes the type's `namespace`
 * attribute, or else the namespace of the nearest enclosing named type. A name in type position is resolved
 * the same way. The empty namespace `""` is the null namespace. Like Java Avro and avsc, a leading dot (`.Money`)
 * names a type of the null namespace from inside a namespaced one: the specification has no other spelling.
 */
export { AVRO_PRIMITIVES, namespaceOf, simpleNameOf } from '@shoal/core';

const NAME_PART = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function isValidSimpleName(name: string): boolean {
  return NAME_PART.test(name);
}

/** A namespace attribute: dot-separated simple names, or `""` for the null namespace. */
export function isValidNamespace(namespace: string): boolean {
  return namespace === '' || namespace.split('.').every(isValidSimpleName);
}

/**
 * The full name that `name` (a definition's `name` or a name in type position) stands for, or undefined when
 * it is not a valid Avro name.
 */
export function resolveFullName(name: string, namespace: string): string | undefined {
  const full = name.startsWith('.') ? name.slice(1) : name.includes('.') || namespace === '' ? name : `${namespace}.${name}`;
  return full.split('.').every(isValidSimpleName) ? full : undefined;
}

/**
 * How to write `fullName` where names resolve against `namespace` so that it means `fullName` again: itself,
 * except for a null-namespace name inside a namespaced context, which needs the leading dot.
 */
export function spellingOf(fullName: string, namespace: string): string {
  return fullName.includes('.') || namespace === '' ? fullName : `.${fullName}`;
}
