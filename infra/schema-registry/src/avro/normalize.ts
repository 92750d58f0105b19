import { AVRO_PRIMITIVES, isValidNamespace, isValidSimpleName, namespaceOf, resolveFullName, simpleNameOf, spellingOf } from './avro-names.js';
import { defaultValueProblem } from './default-values.js';
import { InvalidAvroSchemaError } from './invalid-avro-schema-error.js';
import { compareKeys, hasOwn, isJsonObject, show, withSortedKeys, type Json, type JsonObject } from './json-value.js';
import { fullNameOfNormalized, type FieldDefinition, type NamedDefinitions } from './named-types.js';

/**
 * The normalized form of an Avro schema: the registry's identity of a schema text. Compact JSON in which
 *
 *   "string"                                       primitives without attributes are bare names
 *   {"type":"record","name":"shoal.orders.Order",  full names, no "namespace" (kept as "" only where a
 *    "doc":..,"fields":[..],"aliases":[..],..}     null-namespace type sits inside a namespaced one)
 *   {"type":"int","name":"qty","doc":..,"default":..,"aliases":..,"order":..}     fields: the same order
 *   "shoal.common.Money"                           named types after their definition, never re-expanded
 *
 * Every object's keys are written `type`, `name`, then `doc`, `fields`/`symbols`/`items`/`values`/`size`,
 * `default`, `aliases`, `order`, then the remaining (custom) attributes such as `logicalType` sorted by
 * name; default and custom values have their own object keys sorted. Everything the writer of the schema
 * said is kept, docs and defaults included, because two schemas that differ there are different schemas.
 * Attributes the specification reserves for another kind of type (a `doc` on an array, a `name` on a
 * primitive) carry nothing and are dropped, as Java Avro does.
 *
 * Normalizing also validates: every problem is an InvalidAvroSchemaError naming where it is. Named types are
 * added to `definitions`, which references share with the schema that uses them.
 */
export function normalizeSchema(schema: unknown, definitions: NamedDefinitions, origin = ''): Json {
  return new SchemaNormalizer(definitions, origin).normalize(schema);
}

/** Where the walk is: the namespace names resolve against, a JSON pointer and the enclosing field names. */
interface Position {
  readonly namespace: string;
  readonly pointer: readonly string[];
  readonly fields: readonly string[];
}

interface PendingDefault {
  readonly value: Json;
  readonly type: Json;
  readonly at: Position;
}

/** Attributes with a meaning for some kind of type; any other attribute is a custom property. */
const TYPE_ATTRIBUTES = new Set(['type', 'name', 'namespace', 'doc', 'aliases', 'fields', 'symbols', 'items', 'values', 'size']);
const ENUM_ATTRIBUTES = new Set([...TYPE_ATTRIBUTES, 'default']);
const FIELD_ATTRIBUTES = new Set(['type', 'name', 'doc', 'default', 'aliases', 'order']);
const FIELD_ORDERS = new Set(['ascending', 'descending', 'ignore']);
const INT_MAX = 2 ** 31 - 1;

class SchemaNormalizer {
  private readonly pendingDefaults: PendingDefault[] = [];

  constructor(
    private readonly definitions: NamedDefinitions,
    private readonly origin: string,
  ) {}

  normalize(schema: unknown): Json {
    const normalized = this.type(schema, { namespace: '', pointer: [], fields: [] });
    // Checked at the end: a default may be of a record whose fields were still being walked (a recursive one).
    for (const { value, type, at } of this.pendingDefaults) {
      const problem = defaultValueProblem(value, type, this.definitions);
      if (problem !== undefined) this.fail(`invalid default value ${show(value)}`, at, problem);
    }
    return normalized;
  }

  private type(node: unknown, at: Position): Json {
    if (typeof node === 'string') return this.typeName(node, at);
    if (Array.isArray(node)) return this.union(node, at);
    if (isJsonObject(node)) return this.typeObject(node, at);
    return this.fail(`expected a type name, a union array or a type object, got ${show(node)}`, at);
  }

  private typeName(name: string, at: Position): Json {
    if (AVRO_PRIMITIVES.has(name)) return name;
    const fullName = resolveFullName(name, at.namespace);
    if (fullName === undefined) return this.fail(`invalid type name '${name}'`, at);
    if (!this.definitions.has(fullName)) return this.fail(`unknown type '${fullName}'`, at);
    return spellingOf(fullName, at.namespace);
  }

  /**
   * Any union the specification allows (1.11.1, "Unions"): not empty, no union directly inside, and at most
   * one branch of each type, where named types count by full name (two records, two enums, a record and a
   * fixed are fine as long as their names differ). How one client represents a union's values in its
   * language (avsc's unwrapped unions cannot tell `int` from `long`) is no reason to refuse a schema that
   * every other client can use.
   */
  private union(branches: readonly unknown[], at: Position): Json {
    if (branches.length === 0) return this.fail('a union needs at least one branch', at);
    const keys = new Set<string>();
    return branches.map((branch, index) => {
      const branchAt = inside(at, String(index));
      if (Array.isArray(branch)) return this.fail('a union may not directly contain another union', branchAt);
      const normalized = this.type(branch, branchAt);
      const key = this.branchKey(normalized);
      if (keys.has(key)) return this.fail(`union has two branches of type '${key}'`, at);
      keys.add(key);
      return normalized;
    });
  }

  /** What a branch may share with no other branch of its union: its full name when named, else its type. */
  private branchKey(branch: Json): string {
    if (typeof branch === 'string') {
      return AVRO_PRIMITIVES.has(branch) ? branch : fullNameOfNormalized(branch);
    }
    const object = branch as JsonObject;
    return typeof object['name'] === 'string' ? object['name'] : (object['type'] as string);
  }

  private typeObject(node: JsonObject, at: Position): Json {
    if (!hasOwn(node, 'type')) return this.fail(`missing 'type' in ${show(node)}`, at);
    const type = node['type'];
    if (typeof type !== 'string') {
      return this.fail(`'type' must be a type name, got ${show(type)} (write unions and nested types without a wrapping object)`, at);
    }
    switch (type) {
      case 'record':
      case 'error':
        return this.record(node, type, at);
      case 'enum':
        return this.enumType(node, at);
      case 'fixed':
        return this.fixed(node, at);
      case 'array':
        return { type, items: this.required(node, 'items', 'an array', at), ...customProperties(node, TYPE_ATTRIBUTES) };
      case 'map':
        return { type, values: this.required(node, 'values', 'a map', at), ...customProperties(node, TYPE_ATTRIBUTES) };
      default: {
        if (!AVRO_PRIMITIVES.has(type)) {
          // `{"type": "shoal.common.Money"}` is a name in type position, as Java Avro reads it.
          return this.typeName(type, at);
        }
        const custom = customProperties(node, TYPE_ATTRIBUTES);
        return Object.keys(custom).length === 0 ? type : { type, ...custom };
      }
    }
  }

  private required(node: JsonObject, attribute: 'items' | 'values', what: string, at: Position): Json {
    if (!hasOwn(node, attribute)) return this.fail(`${what} needs '${attribute}'`, at);
    return this.type(node[attribute], inside(at, attribute));
  }

  private record(node: JsonObject, type: 'record' | 'error', at: Position): Json {
    const named = this.namedHeader(node, 'record', at);
    const fieldDefinitions: FieldDefinition[] = [];
    // Defined before its fields are walked, so that a field can refer to the record itself.
    this.definitions.set(named.fullName, { kind: 'record', fullName: named.fullName, fields: fieldDefinitions });
    const fields = node['fields'];
    if (!Array.isArray(fields)) return this.fail(`record '${named.fullName}' needs a 'fields' array`, at);
    const recordAt: Position = { ...at, namespace: named.namespace };
    const fieldNames = new Set<string>();
    const normalizedFields = fields.map((field: unknown, index) => {
      const fieldAt = inside(recordAt, 'fields', String(index));
      if (!isJsonObject(field)) return this.fail(`a field must be an object, got ${show(field)}`, fieldAt);
      const name = field['name'];
      if (typeof name !== 'string' || !isValidSimpleName(name)) return this.fail(`invalid field name ${show(name)}`, fieldAt);
      if (fieldNames.has(name)) return this.fail(`duplicate field '${name}' in record '${named.fullName}'`, at);
      fieldNames.add(name);
      const normalized = this.field(field, name, { ...fieldAt, fields: [...at.fields, name] });
      fieldDefinitions.push({ name, type: normalized['type'] as Json, hasDefault: hasOwn(normalized, 'default') });
      return normalized;
    });
    return { ...named.header(type), ...named.doc, fields: normalizedFields, ...named.aliases, ...named.custom(TYPE_ATTRIBUTES) };
  }

  private field(field: JsonObject, name: string, at: Position): JsonObject {
    if (!hasOwn(field, 'type')) return this.fail(`field '${name}' has no 'type'`, at);
    const type = this.type(field['type'], inside(at, 'type'));
    const normalized: Record<string, Json> = { type, name };
    if (hasOwn(field, 'doc')) normalized['doc'] = this.doc(field, at);
    if (hasOwn(field, 'default')) {
      const value = field['default'] as Json;
      normalized['default'] = withSortedKeys(value);
      this.pendingDefaults.push({ value, type, at });
    }
    if (hasOwn(field, 'aliases')) {
      normalized['aliases'] = this.stringList(field, 'aliases', at).map((alias) =>
        isValidSimpleName(alias) ? alias : this.fail(`invalid field alias '${alias}'`, at),
      );
    }
    if (hasOwn(field, 'order')) {
      const order = field['order'];
      if (typeof order !== 'string' || !FIELD_ORDERS.has(order)) {
        return this.fail(`invalid order ${show(order)} (expected ascending, descending or ignore)`, at);
      }
      normalized['order'] = order;
    }
    return { ...normalized, ...customProperties(field, FIELD_ATTRIBUTES) };
  }

  private enumType(node: JsonObject, at: Position): Json {
    const named = this.namedHeader(node, 'enum', at);
    const symbols = this.stringList(node, 'symbols', at);
    if (symbols.length === 0) return this.fail(`enum '${named.fullName}' needs at least one symbol`, at);
    const seen = new Set<string>();
    for (const symbol of symbols) {
      if (!isValidSimpleName(symbol)) return this.fail(`invalid symbol '${symbol}' in enum '${named.fullName}'`, at);
      if (seen.has(symbol)) return this.fail(`duplicate symbol '${symbol}' in enum '${named.fullName}'`, at);
      seen.add(symbol);
    }
    const enumDefault: Record<string, Json> = {};
    if (hasOwn(node, 'default')) {
      const value = node['default'];
      if (typeof value !== 'string' || !seen.has(value)) {
        return this.fail(`default ${show(value)} of enum '${named.fullName}' is not one of its symbols`, at);
      }
      enumDefault['default'] = value;
    }
    this.definitions.set(named.fullName, { kind: 'enum', fullName: named.fullName, symbols });
    return { ...named.header('enum'), ...named.doc, symbols, ...enumDefault, ...named.aliases, ...named.custom(ENUM_ATTRIBUTES) };
  }

  private fixed(node: JsonObject, at: Position): Json {
    const named = this.namedHeader(node, 'fixed', at);
    const size = node['size'];
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 0 || size > INT_MAX) {
      return this.fail(`fixed '${named.fullName}' needs a 'size' that is a non-negative integer, got ${show(size)}`, at);
    }
    this.definitions.set(named.fullName, { kind: 'fixed', fullName: named.fullName, size });
    return { ...named.header('fixed'), ...named.doc, size, ...named.aliases, ...named.custom(TYPE_ATTRIBUTES) };
  }

  /** The name, doc, aliases and custom properties shared by records, enums and fixed types. */
  private namedHeader(node: JsonObject, kind: string, at: Position) {
    const name = node['name'];
    if (name === undefined) return this.fail(`${kind} has no 'name'`, at);
    if (typeof name !== 'string') return this.fail(`${kind} name must be a string, got ${show(name)}`, at);
    let namespace = at.namespace;
    if (hasOwn(node, 'namespace')) {
      const attribute = node['namespace'];
      if (typeof attribute !== 'string' || !isValidNamespace(attribute)) return this.fail(`invalid namespace ${show(attribute)}`, at);
      namespace = attribute;
    }
    const fullName = resolveFullName(name, namespace);
    if (fullName === undefined) return this.fail(`invalid ${kind} name '${name}'`, at);
    if (AVRO_PRIMITIVES.has(simpleNameOf(fullName))) {
      return this.fail(`${kind} '${fullName}' redefines the primitive type '${simpleNameOf(fullName)}'`, at);
    }
    if (this.definitions.has(fullName)) return this.fail(`type '${fullName}' is defined twice`, at);
    const ownNamespace = namespaceOf(fullName);
    const doc: JsonObject = hasOwn(node, 'doc') ? { doc: this.doc(node, at) } : {};
    const aliases: JsonObject = hasOwn(node, 'aliases')
      ? {
          aliases: this.stringList(node, 'aliases', at).map((alias) => {
            const aliasName = resolveFullName(alias, ownNamespace);
            if (aliasName === undefined) return this.fail(`invalid alias '${alias}' of ${kind} '${fullName}'`, at);
            return spellingOf(aliasName, ownNamespace);
          }),
        }
      : {};
    return {
      fullName,
      namespace: ownNamespace,
      doc,
      aliases,
      // Without a namespace of its own, the name would take the enclosing one when read again.
      header: (type: string): JsonObject =>
        ownNamespace === '' && at.namespace !== '' ? { type, name: fullName, namespace: '' } : { type, name: fullName },
      custom: (attributes: ReadonlySet<string>) => customProperties(node, attributes),
    };
  }

  private doc(node: JsonObject, at: Position): string {
    const doc = node['doc'];
    return typeof doc === 'string' ? doc : this.fail(`'doc' must be a string, got ${show(doc)}`, at);
  }

  private stringList(node: JsonObject, attribute: string, at: Position): string[] {
    const list = node[attribute];
    if (!Array.isArray(list) || !list.every((item) => typeof item === 'string')) {
      return this.fail(`'${attribute}' must be an array of strings, got ${show(list)}`, at);
    }
    return list as string[];
  }

  private fail(problem: string, at: Position, detail?: string): never {
    const why = detail === undefined ? '' : `: ${detail}`;
    throw new InvalidAvroSchemaError(`Invalid schema: ${problem} at ${describePosition(at)}${this.origin}${why}`);
  }
}

function inside(at: Position, ...segments: string[]): Position {
  return { ...at, pointer: [...at.pointer, ...segments] };
}

function describePosition(at: Position): string {
  if (at.fields.length > 0) return `field '${at.fields.join('.')}'`;
  return at.pointer.length > 0 ? `/${at.pointer.join('/')}` : 'the top level';
}

function customProperties(node: JsonObject, attributes: ReadonlySet<string>): JsonObject {
  return Object.fromEntries(
    Object.keys(node)
      .filter((key) => !attributes.has(key))
      .sort(compareKeys)
      .map((key) => [key, withSortedKeys(node[key] as Json)]),
  );
}
