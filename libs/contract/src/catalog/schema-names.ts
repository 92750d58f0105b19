/**
 * Avro names (specification 1.11, "Names"): a record, enum or fixed has a full name `<namespace>.<name>`. A
 * name that contains a dot is already full; otherwise it takes the type's `namespace` attribute, or else the
 * namespace of the nearest enclosing named type. A name in type position refers to a named type; the
 * primitive type names are never references.
 *
 *   { "type": "record", "name": "OrderPlaced", "namespace": "shoal.orders",   defines shoal.orders.OrderPlaced
 *     "fields": [ { "name": "total", "type": "shoal.common.Money" },          references shoal.common.Money
 *                 { "name": "reason", "type": { "type": "enum",
 *                     "name": "Reason", ... } } ] }                             defines shoal.orders.Reason
 */

export { AVRO_PRIMITIVES, namespaceOf, simpleNameOf as simpleName } from '@shoal/core';
import { AVRO_PRIMITIVES, namespaceOf, resolveFullName } from '@shoal/core';

/**
 * The full name `name` stands for in `namespace` (@shoal/core's resolution, leading dot included); a name
 * that is not valid Avro is kept as written, for avsc to refuse with its own message.
 */
export function fullName(name: string, namespace: string | undefined): string {
  return resolveFullName(name, namespace ?? '') ?? name;
}

export interface SchemaNames {
  /** Full names of the named types the schema defines, outermost first. */
  defined: string[];
  /** Full names used in type position but defined elsewhere, in order of first use. */
  referenced: string[];
}

/**
 * The named types a parsed schema defines and the ones it needs from elsewhere. Tolerant of malformed
 * shapes (they are left for avsc to reject with its own message).
 */
export function schemaNames(schema: unknown): SchemaNames {
  const defined: string[] = [];
  const used: string[] = [];
  const visit = (node: unknown, namespace: string | undefined): void => {
    if (typeof node === 'string') {
      if (!AVRO_PRIMITIVES.has(node)) used.push(fullName(node, namespace));
      return;
    }
    if (Array.isArray(node)) {
      for (const branch of node) visit(branch, namespace);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const type = (node as { type?: unknown }).type;
    switch (type) {
      case 'record':
      case 'error': {
        const name = definedName(node, namespace);
        if (name === undefined) return;
        defined.push(name);
        const fields = (node as { fields?: unknown }).fields;
        if (Array.isArray(fields)) {
          for (const field of fields) {
            if (field !== null && typeof field === 'object') visit((field as { type?: unknown }).type, namespaceOf(name));
          }
        }
        return;
      }
      case 'enum':
      case 'fixed': {
        const name = definedName(node, namespace);
        if (name !== undefined) defined.push(name);
        return;
      }
      case 'array':
        visit((node as { items?: unknown }).items, namespace);
        return;
      case 'map':
        visit((node as { values?: unknown }).values, namespace);
        return;
      default:
        // `{"type": "long", "logicalType": ...}`, `{"type": "some.Name"}` or `{"type": [...]}`.
        visit(type, namespace);
    }
  };
  visit(schema, undefined);
  const definedSet = new Set(defined);
  const referenced = [...new Set(used)].filter((name) => !definedSet.has(name));
  return { defined, referenced };
}

function definedName(node: object, enclosing: string | undefined): string | undefined {
  const { name, namespace } = node as { name?: unknown; namespace?: unknown };
  if (typeof name !== 'string') return undefined;
  return fullName(name, typeof namespace === 'string' ? namespace : enclosing);
}
