/**
 * Seeded Avro schema evolutions for the differential test of the registry's compatibility verdicts
 * (avro-compatibility.test.ts): a random schema, and a copy of it changed the ways teams change event
 * schemas, some compatible and some not.
 *
 *   schemas   a record of fields (2/3 of them), a union of records at the top level (the layout for several
 *             event types in one topic), or another union; fields of primitive types, records, enums,
 *             fixed, arrays, maps and unions: optional (["null", T]), of two or three records, of several
 *             numeric types (["null","int","double"], ["int","string","long"]) and of mixed kinds, with
 *             recursive records now and then
 *   changes   one to three of: a field added (with or without a default), removed, renamed (with or without
 *             an alias), a field alias that names another field; a named type renamed (with or without an
 *             alias); a primitive promoted or demoted; a type made optional, a union narrowed to one of its
 *             branches, a branch added, removed or moved; enum symbols added or removed, an enum default
 *             added or removed; a fixed resized; a type replaced by another
 *
 * Every schema is one the specification allows, with valid defaults, with two exceptions that both sides must
 * refuse alike: a change can give a union a second branch of one type (a promotion onto a branch that is
 * already there) or nest a union in a union. Names are written in full, aliases too: Apache Avro's Python
 * checker compares names as written, where the specification (and Shoal) compare full names, and a schema
 * with full names means the same to both.
 */
import type { Random } from '@shoal/testing';

export type AvroJson = null | boolean | number | string | AvroJson[] | { [key: string]: AvroJson };
type AvroObject = { [key: string]: AvroJson };

export interface Evolution {
  before: AvroJson;
  after: AvroJson;
  /** The changes made, for the failure report. */
  changes: string[];
}

const PRIMITIVES = ['boolean', 'int', 'long', 'float', 'double', 'string', 'bytes'];
const NUMBERS = ['int', 'long', 'float', 'double'];
const FIELD_NAMES = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
const SYMBOLS = ['A', 'B', 'C', 'D', 'E'];
/** What a primitive may become: the promotions, and their reverses (which break one direction). */
const RETYPINGS: Readonly<Record<string, readonly string[]>> = {
  boolean: ['int', 'string'],
  int: ['long', 'float', 'double', 'string'],
  long: ['int', 'float', 'double'],
  float: ['double', 'int', 'long'],
  double: ['float', 'long'],
  string: ['bytes', 'int'],
  bytes: ['string'],
  null: ['boolean'],
};
const NAMED_KINDS = new Set(['record', 'error', 'enum', 'fixed']);
const NAMESPACE = 'd';

/** A place where a type sits: a field's type, items, values, a union branch or the root. */
interface Slot {
  get(): AvroJson;
  set(type: AvroJson): void;
  /** Whether the slot is a union branch (where a union may not go). */
  inUnion: boolean;
}

interface Sites {
  slots: Slot[];
  records: AvroObject[];
  enums: AvroObject[];
  fixed: AvroObject[];
  unions: { union: AvroJson[]; slot: Slot }[];
}

export class SchemaEvolutions {
  private names = 0;

  constructor(private readonly random: Random) {}

  evolution(): Evolution {
    const before = this.root();
    const after = structuredClone(before);
    const holder = { root: after };
    const changes: string[] = [];
    const count = this.random.int(1, 3);
    for (let i = 0; i < count; i++) changes.push(this.change(holder));
    fixDefaults(holder.root);
    return { before, after: holder.root, changes };
  }

  // --- schemas ---------------------------------------------------------------------------------------

  private root(): AvroJson {
    const roll = this.random.next();
    if (roll < 0.65) return this.record(0, this.random.int(2, 5));
    if (roll < 0.9) return this.recordUnion(0);
    return this.union(1);
  }

  private fresh(prefix: string): string {
    this.names += 1;
    return `${NAMESPACE}.${prefix}${this.names}`;
  }

  private type(depth: number): AvroJson {
    const roll = this.random.next();
    if (depth >= 3 || roll < 0.35) return this.random.pick(PRIMITIVES);
    if (roll < 0.62) return this.union(depth);
    return this.nonUnion(depth);
  }

  private nonUnion(depth: number): AvroJson {
    const roll = this.random.next();
    if (depth >= 3 || roll < 0.4) return this.random.pick(PRIMITIVES);
    if (roll < 0.6) return this.record(depth + 1, this.random.int(1, 3));
    if (roll < 0.72) return this.enumType();
    if (roll < 0.8) return this.fixed();
    if (roll < 0.9) return { type: 'array', items: this.type(depth + 1) };
    return { type: 'map', values: this.type(depth + 1) };
  }

  private union(depth: number): AvroJson[] {
    switch (this.random.int(0, 3)) {
      case 0:
        return this.random.chance(0.8) ? ['null', this.nonUnion(depth + 1)] : [this.nonUnion(depth + 1), 'null'];
      case 1:
        return this.recordUnion(depth);
      case 2: {
        const numbers = this.shuffled(NUMBERS).slice(0, this.random.int(2, 3));
        if (this.random.chance(0.4)) numbers.splice(this.random.int(0, numbers.length), 0, 'string');
        return this.random.chance(0.5) ? ['null', ...numbers] : numbers;
      }
      default: {
        // Mixed kinds: each unnamed type at most once, named ones as often as picked.
        const kinds = ['null', 'boolean', 'int', 'long', 'string', 'bytes', 'enum', 'enum', 'fixed', 'record', 'array', 'map'];
        const picked = this.shuffled(kinds).slice(0, this.random.int(2, 4));
        const seen = new Set<string>();
        return picked.flatMap((kind): AvroJson[] => {
          if (seen.has(kind) && !NAMED_KINDS.has(kind)) return [];
          seen.add(kind);
          switch (kind) {
            case 'enum':
              return [this.enumType()];
            case 'fixed':
              return [this.fixed()];
            case 'record':
              return [this.record(depth + 1, this.random.int(1, 2))];
            case 'array':
              return [{ type: 'array', items: this.random.pick(PRIMITIVES) }];
            case 'map':
              return [{ type: 'map', values: this.random.pick(PRIMITIVES) }];
            default:
              return [kind];
          }
        });
      }
    }
  }

  private recordUnion(depth: number): AvroJson[] {
    const records = Array.from({ length: this.random.int(2, 3) }, () => this.record(depth + 1, this.random.int(1, 3)));
    return this.random.chance(0.4) ? ['null', ...records] : records;
  }

  private record(depth: number, fieldCount: number): AvroObject {
    const name = this.fresh('R');
    const fields: AvroJson[] = this.shuffled(FIELD_NAMES)
      .slice(0, fieldCount)
      .map((fieldName) => this.field(fieldName, this.type(depth)));
    // A linked list: the record refers to itself through an optional field.
    if (this.random.chance(0.08)) fields.push({ name: 'next', type: ['null', name], default: null });
    return { type: 'record', name, fields };
  }

  private field(name: string, type: AvroJson): AvroObject {
    const field: AvroObject = { name, type };
    if (this.random.chance(0.4)) {
      const value = valueOf(type, definitions(type));
      if (value !== undefined) field['default'] = value;
    }
    return field;
  }

  private enumType(): AvroObject {
    const symbols = this.shuffled(SYMBOLS).slice(0, this.random.int(1, 4));
    const type: AvroObject = { type: 'enum', name: this.fresh('E'), symbols };
    if (this.random.chance(0.3)) type['default'] = this.random.pick(symbols);
    return type;
  }

  private fixed(): AvroObject {
    return { type: 'fixed', name: this.fresh('F'), size: this.random.pick([2, 4, 8]) };
  }

  // --- changes ---------------------------------------------------------------------------------------

  /** One random change to the schema in `holder.root`, described. */
  private change(holder: { root: AvroJson }): string {
    const sites = collectSites(holder);
    const random = this.random;
    for (;;) {
      const roll = random.int(0, 17);
      switch (roll) {
        case 0:
        case 1: {
          const record = this.pickFrom(sites.records);
          if (record === undefined) continue;
          const fields = record['fields'] as AvroObject[];
          const name = FIELD_NAMES.find((candidate) => !fields.some((field) => field['name'] === candidate));
          if (name === undefined) continue;
          const field: AvroObject = { name, type: this.type(2) };
          const value = random.chance(0.7) ? valueOf(field['type']!, definitions(holder.root)) : undefined;
          if (value !== undefined) field['default'] = value;
          fields.splice(random.int(0, fields.length), 0, field);
          return `add field ${name}${'default' in field ? ' with a default' : ''} to ${String(record['name'])}`;
        }
        case 2: {
          const record = this.pickFrom(sites.records.filter((r) => (r['fields'] as AvroJson[]).length > 1));
          if (record === undefined) continue;
          const fields = record['fields'] as AvroObject[];
          const [removed] = fields.splice(random.int(0, fields.length - 1), 1);
          return `remove field ${String(removed?.['name'])} of ${String(record['name'])}`;
        }
        case 3: {
          const record = this.pickFrom(sites.records);
          const fields = (record?.['fields'] ?? []) as AvroObject[];
          const field = this.pickFrom(fields);
          const name = FIELD_NAMES.find((candidate) => !fields.some((f) => f['name'] === candidate));
          if (field === undefined || name === undefined) continue;
          const old = field['name'] as string;
          field['name'] = name;
          const aliased = random.chance(0.6);
          if (aliased) field['aliases'] = [old];
          return `rename field ${old} of ${String(record?.['name'])} to ${name}${aliased ? ' with an alias' : ''}`;
        }
        case 4: {
          // An alias that names another field: the reader field matches two writer fields.
          if (!random.chance(0.3)) continue;
          const record = this.pickFrom(sites.records.filter((r) => (r['fields'] as AvroJson[]).length > 1));
          if (record === undefined) continue;
          const [field, other] = this.shuffled(record['fields'] as AvroObject[]);
          field!['aliases'] = [other!['name'] as string];
          return `alias field ${String(field!['name'])} of ${String(record['name'])} as ${String(other!['name'])}`;
        }
        case 5: {
          const named = this.pickFrom([...sites.records, ...sites.enums, ...sites.fixed]);
          if (named === undefined) continue;
          const old = named['name'] as string;
          const name = this.fresh(old.slice(NAMESPACE.length + 1, NAMESPACE.length + 2));
          named['name'] = name;
          const aliased = random.chance(0.6);
          if (aliased) named['aliases'] = [old];
          holder.root = renameReferences(holder.root, old, name);
          return `rename ${old} to ${name}${aliased ? ' with an alias' : ''}`;
        }
        case 6:
        case 7: {
          const slot = this.pickFrom(sites.slots.filter((s) => typeof s.get() === 'string' && RETYPINGS[s.get() as string] !== undefined));
          if (slot === undefined) continue;
          const old = slot.get() as string;
          const type = random.pick(RETYPINGS[old]!);
          slot.set(type);
          return `retype ${old} as ${type}`;
        }
        case 8: {
          const slot = this.pickFrom(sites.slots.filter((s) => !Array.isArray(s.get())));
          if (slot === undefined) continue;
          // Inside a union this nests one, which both sides must refuse; rarely, as a team would.
          if (slot.inUnion && !random.chance(0.1)) continue;
          slot.set(random.chance(0.8) ? ['null', slot.get()] : [slot.get(), 'null']);
          return 'make a type optional';
        }
        case 9: {
          const union = this.pickFrom(sites.unions);
          if (union === undefined) continue;
          union.slot.set(random.pick(union.union));
          return 'narrow a union to one of its branches';
        }
        case 10:
        case 11: {
          const union = this.pickFrom(sites.unions);
          if (union === undefined) continue;
          const present = new Set(union.union.filter((branch) => typeof branch === 'string'));
          const candidates = ['null', ...NUMBERS, 'string', 'boolean'].filter((type) => !present.has(type));
          const branch: AvroJson = random.chance(0.5) || candidates.length === 0 ? this.record(2, random.int(1, 2)) : random.pick(candidates);
          union.union.splice(random.int(0, union.union.length), 0, branch);
          return `add branch ${typeof branch === 'string' ? branch : String((branch as AvroObject)['name'])} to a union`;
        }
        case 12: {
          const union = this.pickFrom(sites.unions.filter((u) => u.union.length > 1));
          if (union === undefined) continue;
          const [removed] = union.union.splice(random.int(0, union.union.length - 1), 1);
          // A removed branch that defined a type the schema names elsewhere would leave the name undefined.
          if (removed !== undefined && removed !== null && typeof removed === 'object' && !Array.isArray(removed)) {
            const name = removed['name'];
            if (typeof name === 'string' && JSON.stringify(holder.root).includes(`"${name}"`)) {
              union.union.push(removed);
              continue;
            }
          }
          return `remove branch ${typeof removed === 'string' ? removed : String((removed as AvroObject)['name'])} of a union`;
        }
        case 13: {
          const union = this.pickFrom(sites.unions.filter((u) => u.union.length > 1));
          if (union === undefined) continue;
          const order = this.shuffled(union.union);
          union.union.splice(0, union.union.length, ...order);
          return 'reorder the branches of a union';
        }
        case 14: {
          const enumType = this.pickFrom(sites.enums);
          if (enumType === undefined) continue;
          const symbols = enumType['symbols'] as string[];
          const missing = SYMBOLS.filter((symbol) => !symbols.includes(symbol));
          if (random.chance(0.5) && missing.length > 0) {
            const symbol = random.pick(missing);
            symbols.splice(random.int(0, symbols.length), 0, symbol);
            return `add symbol ${symbol} to ${String(enumType['name'])}`;
          }
          if (symbols.length < 2) continue;
          const [removed] = symbols.splice(random.int(0, symbols.length - 1), 1);
          return `remove symbol ${removed} of ${String(enumType['name'])}`;
        }
        case 15: {
          const enumType = this.pickFrom(sites.enums);
          if (enumType === undefined) continue;
          if ('default' in enumType) {
            delete enumType['default'];
            return `remove the default of ${String(enumType['name'])}`;
          }
          enumType['default'] = random.pick(enumType['symbols'] as string[]);
          return `give ${String(enumType['name'])} a default`;
        }
        case 16: {
          const fixed = this.pickFrom(sites.fixed);
          if (fixed === undefined) continue;
          fixed['size'] = random.pick([2, 4, 8, 16].filter((size) => size !== fixed['size']));
          return `resize ${String(fixed['name'])}`;
        }
        default: {
          const record = this.pickFrom(sites.records);
          const field = this.pickFrom((record?.['fields'] ?? []) as AvroObject[]);
          if (field === undefined) continue;
          if ('default' in field) {
            delete field['default'];
            return `remove the default of field ${String(field['name'])}`;
          }
          if (random.chance(0.5)) {
            field['type'] = this.type(2);
            return `replace the type of field ${String(field['name'])}`;
          }
          const value = valueOf(field['type'] as AvroJson, definitions(holder.root));
          if (value === undefined) continue;
          field['default'] = value;
          return `give field ${String(field['name'])} a default`;
        }
      }
    }
  }

  private pickFrom<T>(items: readonly T[]): T | undefined {
    return items.length === 0 ? undefined : this.random.pick(items);
  }

  private shuffled<T>(items: readonly T[]): T[] {
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = this.random.int(0, i);
      [copy[i], copy[j]] = [copy[j]!, copy[i]!];
    }
    return copy;
  }
}

function isObject(node: AvroJson | undefined): node is AvroObject {
  return node !== null && typeof node === 'object' && !Array.isArray(node);
}

function collectSites(holder: { root: AvroJson }): Sites {
  const sites: Sites = { slots: [], records: [], enums: [], fixed: [], unions: [] };
  const visit = (slot: Slot): void => {
    sites.slots.push(slot);
    const node = slot.get();
    if (Array.isArray(node)) {
      sites.unions.push({ union: node, slot });
      node.forEach((_, index) => visit({ get: () => node[index]!, set: (type) => (node[index] = type), inUnion: true }));
      return;
    }
    if (!isObject(node)) return;
    switch (node['type']) {
      case 'record':
        sites.records.push(node);
        for (const field of node['fields'] as AvroObject[]) visit({ get: () => field['type']!, set: (type) => (field['type'] = type), inUnion: false });
        return;
      case 'enum':
        sites.enums.push(node);
        return;
      case 'fixed':
        sites.fixed.push(node);
        return;
      case 'array':
        visit({ get: () => node['items']!, set: (type) => (node['items'] = type), inUnion: false });
        return;
      case 'map':
        visit({ get: () => node['values']!, set: (type) => (node['values'] = type), inUnion: false });
    }
  };
  visit({ get: () => holder.root, set: (type) => (holder.root = type), inUnion: false });
  return sites;
}

/** The named types a schema defines, by full name (every name is written in full). */
function definitions(schema: AvroJson): Map<string, AvroObject> {
  const found = new Map<string, AvroObject>();
  const visit = (node: AvroJson): void => {
    if (Array.isArray(node)) node.forEach(visit);
    if (!isObject(node)) return;
    if (typeof node['name'] === 'string' && NAMED_KINDS.has(node['type'] as string)) found.set(node['name'], node);
    if (Array.isArray(node['fields'])) for (const field of node['fields'] as AvroObject[]) visit(field['type']!);
    if (node['items'] !== undefined) visit(node['items']);
    if (node['values'] !== undefined) visit(node['values']);
  };
  visit(schema);
  return found;
}

function renameReferences(node: AvroJson, from: string, to: string): AvroJson {
  if (node === from) return to;
  if (Array.isArray(node)) return node.map((item) => renameReferences(item, from, to));
  if (!isObject(node)) return node;
  const renamed: AvroObject = {};
  for (const [key, value] of Object.entries(node)) {
    // Names and aliases are the definitions' own; only type positions refer to another type.
    renamed[key] = key === 'name' || key === 'aliases' || key === 'default' || key === 'symbols' ? value : renameReferences(value, from, to);
  }
  return renamed;
}

/** Every field default and enum default made valid again after the changes (or dropped when none can be). */
function fixDefaults(schema: AvroJson): void {
  const named = definitions(schema);
  for (const type of named.values()) {
    if (type['type'] === 'enum' && 'default' in type && !(type['symbols'] as string[]).includes(type['default'] as string)) {
      delete type['default'];
    }
  }
  for (const type of named.values()) {
    if (type['type'] !== 'record') continue;
    for (const field of type['fields'] as AvroObject[]) {
      if (!('default' in field) || isValid(field['default']!, field['type']!, named, 0)) continue;
      const value = valueOf(field['type']!, named);
      if (value === undefined) delete field['default'];
      else field['default'] = value;
    }
  }
}

const INT_MAX = 2 ** 31 - 1;

/** Whether `value` is a valid default (the JSON encoding of a value) of `type`; a union's is its first branch's. */
function isValid(value: AvroJson, type: AvroJson, named: ReadonlyMap<string, AvroObject>, depth: number): boolean {
  if (depth > 20) return false;
  if (Array.isArray(type)) return type.length > 0 && isValid(value, type[0]!, named, depth + 1);
  if (typeof type === 'string') {
    switch (type) {
      case 'null':
        return value === null;
      case 'boolean':
        return typeof value === 'boolean';
      case 'int':
        return Number.isInteger(value) && Math.abs(value as number) <= INT_MAX;
      case 'long':
        return Number.isInteger(value) && Math.abs(value as number) <= 2 ** 53 - 2;
      case 'float':
      case 'double':
        return typeof value === 'number';
      case 'string':
        return typeof value === 'string';
      case 'bytes':
        return typeof value === 'string' && /^[\u0000-\u00ff]*$/.test(value);
      default: {
        const definition = named.get(type);
        return definition !== undefined && isValid(value, definition, named, depth + 1);
      }
    }
  }
  if (!isObject(type)) return false;
  switch (type['type']) {
    case 'record':
      return (
        isObject(value) &&
        (type['fields'] as AvroObject[]).every((field) =>
          field['name'] as string in value ? isValid(value[field['name'] as string]!, field['type']!, named, depth + 1) : 'default' in field,
        )
      );
    case 'enum':
      return typeof value === 'string' && (type['symbols'] as string[]).includes(value);
    case 'fixed':
      return typeof value === 'string' && value.length === type['size'] && /^[\u0000-\u00ff]*$/.test(value);
    case 'array':
      return Array.isArray(value) && value.every((item) => isValid(item, type['items']!, named, depth + 1));
    case 'map':
      return isObject(value) && Object.values(value).every((item) => isValid(item, type['values']!, named, depth + 1));
    default:
      return isValid(value, type['type']!, named, depth + 1);
  }
}

/** A valid default of `type`, or undefined when there is none (a record whose first union branch is itself). */
function valueOf(type: AvroJson, named: ReadonlyMap<string, AvroObject>, depth = 0): AvroJson | undefined {
  if (depth > 12) return undefined;
  if (Array.isArray(type)) return type.length === 0 ? undefined : valueOf(type[0]!, named, depth + 1);
  if (typeof type === 'string') {
    switch (type) {
      case 'null':
        return null;
      case 'boolean':
        return true;
      case 'int':
      case 'long':
        return 7;
      case 'float':
      case 'double':
        return 1.5;
      case 'string':
        return 's';
      case 'bytes':
        return '\u00ff';
      default: {
        const definition = named.get(type);
        return definition === undefined ? undefined : valueOf(definition, named, depth + 1);
      }
    }
  }
  if (!isObject(type)) return undefined;
  switch (type['type']) {
    case 'record': {
      const value: AvroObject = {};
      for (const field of type['fields'] as AvroObject[]) {
        const fieldValue = valueOf(field['type']!, named, depth + 1);
        if (fieldValue === undefined) return undefined;
        value[field['name'] as string] = fieldValue;
      }
      return value;
    }
    case 'enum':
      return (type['symbols'] as string[])[0]!;
    case 'fixed':
      return 'x'.repeat(type['size'] as number);
    case 'array':
      return [];
    case 'map':
      return {};
    default:
      return valueOf(type['type']!, named, depth + 1);
  }
}

/** What a schema holds that the test must have covered: unions of records and of numbers, at the top too. */
export function unionKinds(schema: AvroJson): { recordUnion: boolean; numberUnion: boolean; topLevelUnion: boolean } {
  const kinds = { recordUnion: false, numberUnion: false, topLevelUnion: Array.isArray(schema) };
  const named = definitions(schema);
  const kindOf = (branch: AvroJson): string => {
    if (typeof branch === 'string') return (named.get(branch)?.['type'] as string | undefined) ?? branch;
    return isObject(branch) ? (branch['type'] as string) : 'union';
  };
  const visit = (node: AvroJson): void => {
    if (Array.isArray(node)) {
      const branchKinds = node.map(kindOf);
      if (branchKinds.filter((kind) => kind === 'record').length > 1) kinds.recordUnion = true;
      if (branchKinds.filter((kind) => NUMBERS.includes(kind)).length > 1) kinds.numberUnion = true;
      node.forEach(visit);
      return;
    }
    if (!isObject(node)) return;
    if (Array.isArray(node['fields'])) for (const field of node['fields'] as AvroObject[]) visit(field['type']!);
    if (node['items'] !== undefined) visit(node['items']);
    if (node['values'] !== undefined) visit(node['values']);
  };
  visit(schema);
  return kinds;
}
