/**
 * Vocabulary of Avro schemas and the schema registry that more than one package speaks: the registry
 * (infra/schema-registry) checks and stores schemas, the contract lib (libs/contract) loads, registers and
 * generates code from them. Pure data and string functions, nothing that parses.
 */

/**
 * Confluent's compatibility levels of a subject, for a new schema against the versions already registered:
 * NONE no check; BACKWARD the new schema reads data written with the latest version; FORWARD the latest
 * version reads data written with the new one; FULL both; *_TRANSITIVE the same against every version.
 */
export const COMPATIBILITY_LEVELS = ['NONE', 'BACKWARD', 'BACKWARD_TRANSITIVE', 'FORWARD', 'FORWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE'] as const;

export type CompatibilityLevel = (typeof COMPATIBILITY_LEVELS)[number];

export function isCompatibilityLevel(value: unknown): value is CompatibilityLevel {
  return typeof value === 'string' && (COMPATIBILITY_LEVELS as readonly string[]).includes(value);
}

/** Avro's primitive type names (specification 1.11, "Primitive Types"): never names of defined types. */
export const AVRO_PRIMITIVES: ReadonlySet<string> = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);

/** The namespace part of a full name (`shoal.common` of `shoal.common.Money`), `''` for the null namespace. */
export function namespaceOf(fullName: string): string {
  const dot = fullName.lastIndexOf('.');
  return dot < 0 ? '' : fullName.slice(0, dot);
}

/** The simple name part of a full name (`Money` of `shoal.common.Money`). */
export function simpleNameOf(fullName: string): string {
  return fullName.slice(fullName.lastIndexOf('.') + 1);
}

const NAME_PART = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Whether `name` is an Avro simple name (a record's, a field's, an enum symbol). */
export function isValidSimpleName(name: string): boolean {
  return NAME_PART.test(name);
}

/** A namespace attribute: dot-separated simple names, or `""` for the null namespace. */
export function isValidNamespace(namespace: string): boolean {
  return namespace === '' || namespace.split('.').every(isValidSimpleName);
}

/**
 * The full name that `name` (a definition's `name` or a name in type position) stands for where names resolve
 * against `namespace` (specification 1.11.1, "Names"), or undefined when it is not a valid Avro name. A name
 * with a dot is already full; otherwise it takes the namespace. The empty namespace `""` is the null
 * namespace; like Java Avro and avsc, a leading dot (`.Money`) names a type of the null namespace from inside
 * a namespaced one, the specification having no other spelling.
 */
export function resolveFullName(name: string, namespace: string): string | undefined {
  const full = name.startsWith('.') ? name.slice(1) : name.includes('.') || namespace === '' ? name : `${namespace}.${name}`;
  return full.split('.').every(isValidSimpleName) ? full : undefined;
}

