/**
 * The schema catalog against a registry: register every schema, or ask the registry whether it would accept
 * them. Schemas go in `catalog.registrationOrder()`, each after the schemas it references, and a reference
 * is `{ name: <full name>, subject, version }` with the version its subject holds for the catalog's text.
 */
import { ShoalError } from '@shoal/core';
import type { SchemaCatalog, SchemaFile } from './catalog/index.js';
import type { CompatibilityLevel } from '@shoal/core';
import type { RegistryClient, RegistrySchema, SchemaReference, SubjectVersion } from './registry-client.js';

export interface RegisteredCatalogSchema {
  /** Record full name. */
  name: string;
  subject: string;
  id: number;
  version: number;
}

export interface CatalogSchemaCheck {
  name: string;
  subject: string;
  /** The subject has no version yet: anything valid is accepted. */
  isNew: boolean;
  compatible: boolean;
  /** Why not, in the registry's words, or why it could not be checked. */
  messages: string[];
}

/**
 * Registers every catalog schema under its subject at the catalog's compatibility level. Idempotent: a schema
 * the subject already holds keeps its id and version. Returns what each subject holds, in registration order.
 */
export async function registerCatalog(registry: RegistryClient, catalog: SchemaCatalog): Promise<RegisteredCatalogSchema[]> {
  const registered = new Map<string, RegisteredCatalogSchema>();
  for (const file of catalog.registrationOrder()) {
    const schema = withReferences(file, (name) => registered.get(name));
    const id = await registry.register(file.subject, schema, catalog.compatibility as CompatibilityLevel);
    // Registration answers only the id; the version, which references to this schema need, takes a lookup.
    const version = await registry.lookup(file.subject, schema);
    if (version === undefined || version.id !== id) {
      throw new ShoalError(
        'SHOAL_REGISTRY_REQUEST',
        `Schema registry at ${registry.url} registered ${file.name} under "${file.subject}" as id ${id} but its lookup answers ${version === undefined ? 'nothing' : `id ${version.id}`}`,
      );
    }
    registered.set(file.name, { name: file.name, subject: file.subject, id, version: version.version });
  }
  return [...registered.values()];
}

/**
 * The registry's verdict on every catalog schema against the versions its subject already holds, without
 * registering anything. A referenced schema is taken at the version that holds the catalog's text, else at
 * its subject's latest version (its own check reports the change).
 */
export async function checkCatalog(registry: RegistryClient, catalog: SchemaCatalog): Promise<CatalogSchemaCheck[]> {
  const held: CatalogLookups = new Map();
  const references = new Map<string, SchemaReference | undefined>();
  const referenceTo = async (name: string): Promise<SchemaReference | undefined> => {
    if (!references.has(name)) {
      const file = schemaFile(catalog, name);
      const version = (await findCatalogSchema(registry, catalog, name, held))?.version ?? (await registry.latestVersion(file.subject))?.version;
      references.set(name, version === undefined ? undefined : { name, subject: file.subject, version });
    }
    return references.get(name);
  };

  const checks: CatalogSchemaCheck[] = [];
  for (const file of catalog.registrationOrder()) {
    const isNew = (await registry.versions(file.subject)).length === 0;
    if (isNew) {
      checks.push({ name: file.name, subject: file.subject, isNew, compatible: true, messages: [] });
      continue;
    }
    const resolved: SchemaReference[] = [];
    const missing: string[] = [];
    for (const name of file.references) {
      const reference = await referenceTo(name);
      if (reference === undefined) missing.push(name);
      else resolved.push(reference);
    }
    if (missing.length > 0) {
      checks.push({
        name: file.name,
        subject: file.subject,
        isNew,
        compatible: false,
        messages: [`cannot be checked: it references ${missing.join(', ')}, which the registry does not hold yet; register those first`],
      });
      continue;
    }
    const verdict = await registry.checkCompatibility(file.subject, { schema: file.schema, references: resolved });
    checks.push({ name: file.name, subject: file.subject, isNew, ...verdict });
  }
  return checks;
}

/** Lookups by schema full name, in progress or answered; a promise of undefined (not registered) is dropped once settled. */
export type CatalogLookups = Map<string, Promise<SubjectVersion | undefined>>;

/**
 * The subject version that holds catalog schema `name` exactly as the catalog has it, references included
 * (each at the version holding the catalog's text of the referenced schema), or undefined when the registry
 * does not hold it. Schemas found are kept in `lookups` (a "not registered" answer is not).
 */
export function findCatalogSchema(registry: RegistryClient, catalog: SchemaCatalog, name: string, lookups: CatalogLookups = new Map()): Promise<SubjectVersion | undefined> {
  let found = lookups.get(name);
  if (found === undefined) {
    found = (async () => {
      const file = schemaFile(catalog, name);
      const references: SchemaReference[] = [];
      for (const reference of file.references) {
        const version = await findCatalogSchema(registry, catalog, reference, lookups);
        if (version === undefined) return undefined;
        references.push({ name: reference, subject: version.subject, version: version.version });
      }
      return registry.lookup(file.subject, { schema: file.schema, references });
    })();
    lookups.set(name, found);
    // Only a schema found is remembered: a failure (registry unreachable) is not an answer, and a schema not
    // registered yet may be registered by the next call (the outbox relay retries until it is).
    const forget = () => {
      if (lookups.get(name) === found) lookups.delete(name);
    };
    found.then((version) => {
      if (version === undefined) forget();
    }, forget);
  }
  return found;
}

function withReferences(file: SchemaFile, registered: (name: string) => RegisteredCatalogSchema | undefined): RegistrySchema {
  const references = file.references.map((name) => {
    const target = registered(name);
    // registrationOrder() puts every schema after the ones it references.
    if (target === undefined) throw new ShoalError('SHOAL_SCHEMA_INVALID', `${file.file} references ${name}, which was not registered before it`);
    return { name, subject: target.subject, version: target.version };
  });
  return { schema: file.schema, references };
}

function schemaFile(catalog: SchemaCatalog, name: string): SchemaFile {
  const file = catalog.common.get(name) ?? catalog.events.get(name);
  if (file === undefined) throw new ShoalError('SHOAL_SCHEMA_UNKNOWN_TYPE', `The schema catalog has no schema named ${name}`);
  return file;
}
