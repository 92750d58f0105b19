/**
 * Avro schemas -> TypeScript declarations for the values avsc produces with the catalog's options
 * (avro-type-options.ts: unions unwrapped unless two branches read as one kind of value, no logical types):
 *
 *   record { name: T, ... }       export interface Name { name: T; ... }   (every field present, defaults or not)
 *   enum { symbols: [A, B] }      export type Name = 'A' | 'B';
 *   fixed                         export type Name = Buffer;
 *   null boolean string           null boolean string
 *   int long float double         number (a timestamp-millis long too)
 *   bytes                         Buffer
 *   { array, items: T }           T[]
 *   { map, values: T }            Record<string, T>
 *   ["null", T]                   T | null
 *   ["null", A, B] (records)      { 'ns.A': A } | { 'ns.B': B } | null     (a wrapped union: see below)
 *   ["int", "long"]               { int: number } | { long: number }
 *
 * A union is wrapped, as avsc reads it, when two of its branches read as the same kind of JavaScript value
 * (isWrappedUnion): each branch but `null` is then an object with one key, the branch's name (the full name
 * of a named type, else the type), so the type says which branch a value is in.
 *
 * Interfaces are named by the record's simple name, so two different types with one simple name are an error
 * (rename one) rather than a silently prefixed name that differs from the event type. Then the event index:
 * ShoalEventDataMap, ShoalEventType, SHOAL_EVENT_TYPES, EVENT_TOPICS and ShoalTopic.
 */
import { ShoalError } from '@shoal/core';
import { isWrappedUnion, type SchemaCatalog, type SchemaFile } from '../catalog/index.js';
import { AVRO_PRIMITIVES, fullName, namespaceOf, simpleName } from '../catalog/schema-names.js';

export const GENERATED_HEADER = '// Generated from schemas/ by npm run codegen, do not edit.';

const PRIMITIVE_TYPES: Readonly<Record<string, string>> = {
  null: 'null',
  boolean: 'boolean',
  int: 'number',
  long: 'number',
  float: 'number',
  double: 'number',
  bytes: 'Buffer',
  string: 'string',
};

interface Declaration {
  name: string;
  file: string;
  code: string;
}

/** The TypeScript source of libs/contract/src/generated/events.ts for `catalog`. Pure. */
export function generateTypeScript(catalog: SchemaCatalog): string {
  const declarations = new Map<string, Declaration>();
  const fullNameOf = new Map<string, string>();
  /** The kind (record, enum, fixed) of every named type declared so far, for the union branches naming one. */
  const kinds = new Map<string, string>();

  const declare = (full: string, kind: string, file: string, code: () => string): string => {
    const name = simpleName(full);
    const other = fullNameOf.get(name);
    if (other !== undefined && other !== full) {
      throw new ShoalError(
        'SHOAL_SCHEMA_INVALID',
        `${file}: "${full}" and "${other}" (${declarations.get(other)?.file}) share the simple name "${name}", which names their TypeScript type; rename one`,
        { details: { file, names: [full, other] } },
      );
    }
    const existing = declarations.get(full);
    // Reserve the slot before generating nested types, so an outer record comes before the types it defines.
    const declaration: Declaration = existing ?? { name, file, code: '' };
    if (existing === undefined) {
      fullNameOf.set(name, full);
      declarations.set(full, declaration);
      kinds.set(full, kind);
    }
    const generated = code();
    if (existing !== undefined && existing.code !== generated) {
      throw new ShoalError(
        'SHOAL_SCHEMA_INVALID',
        `${file}: defines "${full}" differently from ${existing.file}; a type shared by several schemas belongs in common/`,
        { details: { file, name: full } },
      );
    }
    declaration.code = generated;
    return name;
  };

  /** A union branch's Avro type (a named type's kind) and its name in a wrapped union, as avsc's `branchName`. */
  const branchOf = (node: unknown, namespace: string): { type: string; name: string } => {
    if (typeof node === 'string') {
      if (AVRO_PRIMITIVES.has(node)) return { type: node, name: node };
      const full = fullName(node, namespace);
      return { type: kinds.get(full) ?? 'record', name: full };
    }
    const complex = node as Record<string, unknown>;
    const type = complex.type;
    if (typeof type === 'string' && ['record', 'error', 'enum', 'fixed'].includes(type)) {
      return { type, name: fullName(complex.name as string, typeof complex.namespace === 'string' ? complex.namespace : namespace) };
    }
    if (typeof type === 'string' && (AVRO_PRIMITIVES.has(type) || type === 'array' || type === 'map')) return { type, name: type };
    // `{"type": "shoal.common.Money"}`: a name in type position.
    return branchOf(type, namespace);
  };

  const typeExpression = (node: unknown, namespace: string, schema: SchemaFile): string => {
    if (typeof node === 'string') return PRIMITIVE_TYPES[node] ?? simpleName(fullName(node, namespace));
    if (Array.isArray(node)) {
      // Typed in order, so that a branch defining a named type comes before a branch naming it.
      const typed = node.map((branch) => ({ expression: typeExpression(branch, namespace, schema), ...branchOf(branch, namespace) }));
      const wrapped = isWrappedUnion(typed.map((branch) => branch.type));
      const branches = [
        ...new Set(
          typed.map(({ expression, type, name }) =>
            wrapped && type !== 'null' ? `{ ${/^[A-Za-z_$][\w$]*$/.test(name) ? name : `'${name}'`}: ${expression} }` : expression,
          ),
        ),
      ];
      // `null` last reads as "T, or nothing".
      return [...branches.filter((branch) => branch !== 'null'), ...branches.filter((branch) => branch === 'null')].join(' | ');
    }
    const complex = node as Record<string, unknown>;
    switch (complex.type) {
      case 'record':
      case 'error': {
        const full = fullName(complex.name as string, typeof complex.namespace === 'string' ? complex.namespace : namespace);
        return declare(full, 'record', schema.file, () => {
          const fields = (complex.fields as Record<string, unknown>[]).map((field) => {
            const type = typeExpression(field.type, namespaceOf(full), schema);
            return `${docComment(field.doc, '  ')}  ${field.name as string}: ${type};\n`;
          });
          return `${docComment(complex.doc, '')}export interface ${simpleName(full)} {\n${fields.join('')}}\n`;
        });
      }
      case 'enum': {
        const full = fullName(complex.name as string, typeof complex.namespace === 'string' ? complex.namespace : namespace);
        const symbols = (complex.symbols as string[]).map((symbol) => `'${symbol}'`).join(' | ');
        return declare(full, 'enum', schema.file, () => `${docComment(complex.doc, '')}export type ${simpleName(full)} = ${symbols};\n`);
      }
      case 'fixed': {
        const full = fullName(complex.name as string, typeof complex.namespace === 'string' ? complex.namespace : namespace);
        const doc = complex.doc ?? `Exactly ${complex.size as number} bytes.`;
        return declare(full, 'fixed', schema.file, () => `${docComment(doc, '')}export type ${simpleName(full)} = Buffer;\n`);
      }
      case 'array': {
        const items = typeExpression(complex.items, namespace, schema);
        return `${items.includes(' | ') ? `(${items})` : items}[]`;
      }
      case 'map':
        return `Record<string, ${typeExpression(complex.values, namespace, schema)}>`;
      default:
        // A primitive with attributes (`{"type": "long", "logicalType": "timestamp-millis"}`) or a wrapped name.
        return typeof complex.type === 'string' && AVRO_PRIMITIVES.has(complex.type)
          ? (PRIMITIVE_TYPES[complex.type] as string)
          : typeExpression(complex.type, namespace, schema);
    }
  };

  for (const schema of catalog.registrationOrder()) typeExpression(JSON.parse(schema.schema), '', schema);

  const events = [...catalog.events.values()];
  const topics = [...catalog.topics.keys()];
  const lines = (items: readonly string[], indent = '  ') => items.map((item) => `${indent}${item}\n`).join('');
  return [
    `${GENERATED_HEADER}\n`,
    ...[...declarations.values()].map((declaration) => declaration.code),
    '/** The data of every event type, by CloudEvent type (the Avro record full name). */\n' +
      `export interface ShoalEventDataMap {\n${lines(events.map((event) => `'${event.type}': ${simpleName(event.type)};`))}}\n`,
    'export type ShoalEventType = keyof ShoalEventDataMap;\n',
    `export const SHOAL_EVENT_TYPES = [\n${lines(events.map((event) => `'${event.type}',`))}] as const satisfies readonly ShoalEventType[];\n`,
    '/** The topic each event type is published to. */\n' +
      `export const EVENT_TOPICS = {\n${lines(events.map((event) => `'${event.type}': '${event.topic}',`))}} as const satisfies Record<ShoalEventType, string>;\n`,
    `export type ShoalTopic = ${topics.length === 0 ? 'never' : topics.map((topic) => `'${topic}'`).join(' | ')};\n`,
  ].join('\n');
}

/** A JSDoc block for an Avro `doc`, wrapped at about 110 columns; nothing when there is no doc. */
function docComment(doc: unknown, indent: string): string {
  if (typeof doc !== 'string' || doc.trim() === '') return '';
  const width = 110 - indent.length - ' * '.length;
  const lines: string[] = [];
  for (const paragraph of doc.replaceAll('*/', '*\\/').trim().split('\n')) {
    let line = '';
    for (const word of paragraph.split(/\s+/).filter((word) => word !== '')) {
      if (line !== '' && line.length + 1 + word.length > width) {
        lines.push(line);
        line = word;
      } else {
        line = line === '' ? word : `${line} ${word}`;
      }
    }
    lines.push(line);
  }
  if (lines.length === 1 && indent.length + lines[0]!.length + 7 <= 110) return `${indent}/** ${lines[0]} */\n`;
  return `${indent}/**\n${lines.map((line) => `${indent} *${line === '' ? '' : ` ${line}`}\n`).join('')}${indent} */\n`;
}
