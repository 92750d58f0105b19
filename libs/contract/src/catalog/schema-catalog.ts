/**
 * The schema catalog: every Avro schema of schemas/ with its registry subject, Confluent references and topic,
 * validated as a whole. Layout of a schemas folder (relative paths):
 *
 *   manifest.json                  topics, their owner, partitions, key and event types (see manifest.ts)
 *   common/<Name>.avsc             shared named types, namespace shoal.common, subject = full name
 *   <service>/<EventName>.avsc     one event type, namespace shoal.<service>, listed on a topic owned by
 *                                  <service>; subject = <topic>-<full name> (TopicRecordNameStrategy)
 *
 * Schemas use other catalog schemas by full name only; those names become Confluent schema references, so
 * a shared type is registered once and evolves in one place.
 */
import avsc from 'avsc';
import type { Type } from 'avsc';
import { ShoalError } from '@shoal/core';
import { avroTypeOptions } from './avro-type-options.js';
import { MANIFEST_FILE, parseManifest } from './manifest.js';
import { schemaInvalid } from './schema-errors.js';
import { namespaceOf, schemaNames, simpleName } from './schema-names.js';

export interface SchemaFile {
  /** Record full name, e.g. 'shoal.common.Money'. */
  name: string;
  /** Registry subject. */
  subject: string;
  /** Path relative to the schemas folder, e.g. 'common/Money.avsc'. */
  file: string;
  /** The schema as it is registered: the file's JSON without insignificant whitespace. */
  schema: string;
  /** Full names of the other catalog schemas it uses directly (the Confluent reference names). */
  references: readonly string[];
}

export interface EventDefinition extends SchemaFile {
  /** The CloudEvent type, equal to `name`. */
  type: string;
  /** The emitting service, the schema's folder. */
  service: string;
  topic: string;
}

export interface TopicDefinition {
  name: string;
  owner: string;
  partitions: number;
  /** The field of every event on the topic that holds the Kafka key (the aggregate id). */
  key: string;
  events: readonly string[];
}

export interface SchemaCatalog {
  /** The folder it was loaded from, undefined when built from files in memory. */
  readonly dir: string | undefined;
  /** Default compatibility level for the registry. */
  readonly compatibility: string;
  /** Shared types by full name, referenced types first. */
  readonly common: ReadonlyMap<string, SchemaFile>;
  /** Event definitions by type, in manifest order. */
  readonly events: ReadonlyMap<string, EventDefinition>;
  /** Topics by name, in manifest order. */
  readonly topics: ReadonlyMap<string, TopicDefinition>;
  /** The definition of an event type; throws SHOAL_SCHEMA_UNKNOWN_TYPE for a type not in the catalog. */
  event(type: string): EventDefinition;
  /** The avsc type of a catalog schema with its references resolved, parsed once per catalog. */
  avroType(name: string): Type;
  /** Every schema, each after the schemas it references: the order to register them in. */
  registrationOrder(): readonly SchemaFile[];
}

const COMMON_FOLDER = 'common';

interface ParsedFile {
  name: string;
  file: string;
  folder: string;
  json: Record<string, unknown>;
  defined: string[];
  references: string[];
}

/**
 * Builds and validates a catalog from file contents: `files` maps paths relative to a schemas folder
 * ('orders/OrderPlaced.avsc', 'manifest.json') to their text. Paths that are neither `.avsc` files nor the
 * manifest are ignored (README.md). Throws SHOAL_SCHEMA_INVALID naming the file at fault.
 */
export function schemaCatalogFromFiles(files: ReadonlyMap<string, string>, dir?: string): SchemaCatalog {
  const manifestText = files.get(MANIFEST_FILE);
  if (manifestText === undefined) throw schemaInvalid(MANIFEST_FILE, 'missing: every schemas folder needs one');
  const manifest = parseManifest(manifestText);
  const topicOfType = new Map<string, TopicDefinition>();
  for (const topic of manifest.topics) for (const type of topic.events) topicOfType.set(type, topic);

  const parsed = new Map<string, ParsedFile>();
  for (const file of [...files.keys()].filter((path) => path.endsWith('.avsc')).sort()) {
    const entry = parseSchemaFile(file, files.get(file) ?? '');
    parsed.set(entry.name, entry);
  }

  for (const entry of parsed.values()) checkSchemaFile(entry, parsed, topicOfType);
  for (const [type, topic] of topicOfType) {
    if (!parsed.has(type)) {
      const match = /^shoal\.([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(type);
      const expected = match ? `there is no schema file ${match[1]}/${match[2]}.avsc` : 'event types are named shoal.<service>.<EventName>';
      throw schemaInvalid(MANIFEST_FILE, `topic "${topic.name}" lists "${type}", but ${expected}`);
    }
  }

  const order = referencesFirst(parsed, manifest.topics);
  const types = parseAvroTypes(order);

  const common = new Map<string, SchemaFile>();
  const eventsByName = new Map<string, EventDefinition>();
  const registration: SchemaFile[] = [];
  for (const entry of order) {
    const described = {
      name: entry.name,
      file: entry.file,
      schema: JSON.stringify(entry.json),
      references: Object.freeze([...entry.references]),
    };
    const topic = topicOfType.get(entry.name);
    if (topic === undefined) {
      const schemaFile: SchemaFile = Object.freeze({ ...described, subject: entry.name });
      common.set(entry.name, schemaFile);
      registration.push(schemaFile);
    } else {
      const event: EventDefinition = Object.freeze({
        ...described,
        subject: `${topic.name}-${entry.name}`,
        type: entry.name,
        service: topic.owner,
        topic: topic.name,
      });
      eventsByName.set(entry.name, event);
      registration.push(event);
    }
  }
  Object.freeze(registration);
  // Every listed type has a schema (checked above), so this is the manifest's order over all events.
  const events = new Map([...topicOfType.keys()].map((type) => [type, eventsByName.get(type)!]));
  const topics = new Map(manifest.topics.map((topic) => [topic.name, topic]));
  const source = dir === undefined ? 'built from files' : `loaded from ${dir}`;

  return Object.freeze({
    dir,
    compatibility: manifest.compatibility,
    common,
    events,
    topics,
    event(type: string): EventDefinition {
      const event = events.get(type);
      if (event === undefined) {
        throw new ShoalError(
          'SHOAL_SCHEMA_UNKNOWN_TYPE',
          `Unknown event type "${type}": the schema catalog ${source} has ${events.size} event types`,
          { details: { type, known: [...events.keys()] } },
        );
      }
      return event;
    },
    avroType(name: string): Type {
      const type = types.get(name);
      if (type === undefined) {
        throw new ShoalError('SHOAL_SCHEMA_UNKNOWN_TYPE', `No schema named "${name}" in the schema catalog ${source}`, {
          details: { name, known: [...types.keys()] },
        });
      }
      return type;
    },
    registrationOrder: () => registration,
  });
}

function parseSchemaFile(file: string, text: string): ParsedFile {
  const segments = file.split('/');
  const [folder, base] = segments;
  if (segments.length !== 2 || folder === undefined || base === undefined) {
    throw schemaInvalid(file, 'schema files live at <service>/<RecordName>.avsc or common/<RecordName>.avsc');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw schemaInvalid(file, `not valid JSON: ${(error as Error).message}`, error);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json) || (json as { type?: unknown }).type !== 'record') {
    throw schemaInvalid(file, 'the top-level type must be a record');
  }
  const record = json as Record<string, unknown>;
  const names = schemaNames(record);
  const name = names.defined[0];
  if (name === undefined) throw schemaInvalid(file, 'the record has no name');
  const expectedNamespace = `shoal.${folder}`;
  if (namespaceOf(name) !== expectedNamespace) {
    throw schemaInvalid(file, `namespace is "${namespaceOf(name)}" but files in ${folder}/ use "${expectedNamespace}"`);
  }
  const expectedName = base.slice(0, -'.avsc'.length);
  if (simpleName(name) !== expectedName) {
    throw schemaInvalid(file, `record name "${simpleName(name)}" differs from the file name "${expectedName}"`);
  }
  return { name, file, folder, json: record, defined: names.defined, references: names.referenced };
}

/** Cross-file rules: references resolve, common types are not copied, an event is on its owner's topic with its key. */
function checkSchemaFile(
  entry: ParsedFile,
  parsed: ReadonlyMap<string, ParsedFile>,
  topicOfType: ReadonlyMap<string, TopicDefinition>,
): void {
  for (const reference of entry.references) {
    if (!parsed.has(reference)) {
      throw schemaInvalid(
        entry.file,
        `uses "${reference}", which is neither defined in the file nor a catalog schema (catalog names: ${[...parsed.keys()].join(', ')})`,
      );
    }
  }
  for (const name of entry.defined.slice(1)) {
    if (parsed.has(name)) {
      throw schemaInvalid(entry.file, `defines "${name}" inline, but it is a catalog schema: use it by its full name`);
    }
  }
  const topic = topicOfType.get(entry.name);
  if (entry.folder === COMMON_FOLDER) {
    if (topic !== undefined) {
      throw schemaInvalid(MANIFEST_FILE, `lists the common type "${entry.name}" as an event; events live in <service>/`);
    }
    return;
  }
  if (topic === undefined) throw schemaInvalid(entry.file, `event type "${entry.name}" is not listed on any topic in ${MANIFEST_FILE}`);
  if (topic.owner !== entry.folder) {
    throw schemaInvalid(
      entry.file,
      `is on topic "${topic.name}" owned by "${topic.owner}", but an event's schema lives in its emitter's folder ${topic.owner}/`,
    );
  }
  if (!hasStringField(entry.json, topic.key)) {
    throw schemaInvalid(entry.file, `has no string field "${topic.key}", the key of topic "${topic.name}"`);
  }
}

/**
 * avsc types in registration order. A schema sees the named types of everything it references, transitively,
 * as a registry resolves Confluent references recursively, and shares the referenced types' instances.
 */
function parseAvroTypes(order: readonly ParsedFile[]): Map<string, Type> {
  const types = new Map<string, Type>();
  const registries = new Map<string, Record<string, Type>>();
  for (const entry of order) {
    const registry: Record<string, Type> = {};
    for (const reference of entry.references) Object.assign(registry, registries.get(reference));
    try {
      types.set(entry.name, avsc.Type.forSchema(entry.json as avsc.Schema, avroTypeOptions(registry)));
    } catch (error) {
      throw schemaInvalid(entry.file, `invalid Avro: ${(error as Error).message}`, error);
    }
    registries.set(entry.name, registry);
  }
  return types;
}

function hasStringField(record: Record<string, unknown>, field: string): boolean {
  const fields = record.fields;
  return (
    Array.isArray(fields) &&
    fields.some((candidate: { name?: unknown; type?: unknown } | null) => candidate?.name === field && candidate.type === 'string')
  );
}

/**
 * Depth-first over references: common schemas in file order, then events in manifest order, each preceded by
 * whatever it references. A reference cycle cannot be registered (each subject needs the others' versions
 * first), so it is an error.
 */
function referencesFirst(parsed: ReadonlyMap<string, ParsedFile>, topics: readonly TopicDefinition[]): ParsedFile[] {
  const order: ParsedFile[] = [];
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (entry: ParsedFile): void => {
    if (done.has(entry.name)) return;
    const start = path.indexOf(entry.name);
    if (start >= 0) {
      throw schemaInvalid(entry.file, `reference cycle: ${[...path.slice(start), entry.name].join(' -> ')}`);
    }
    path.push(entry.name);
    for (const reference of entry.references) {
      const referenced = parsed.get(reference);
      if (referenced !== undefined) visit(referenced);
    }
    path.pop();
    done.add(entry.name);
    order.push(entry);
  };
  for (const entry of parsed.values()) if (entry.folder === COMMON_FOLDER) visit(entry);
  for (const topic of topics) {
    for (const type of topic.events) {
      const entry = parsed.get(type);
      if (entry !== undefined) visit(entry);
    }
  }
  return order;
}
