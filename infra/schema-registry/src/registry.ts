import { ShoalError } from '@shoal/core';
import { compatibilityMessages, InvalidAvroSchemaError, parseAvroSchema, type CompatibilityLevel, type ParsedAvroSchema, type ResolvedReference } from './avro/index.js';
import { errorCodeOf, RegistryErrorCode, registryErrors } from './registry-errors.js';
import type { RegistryStore, SchemaReference, StoredSchemaRow, SubjectVersionRow } from './registry-store.js';
import { ScopedSetting } from './scoped-setting.js';
import { parseSchemaRequest, type Mode, type SchemaRequest, type VersionParam } from './request-bodies.js';

/**
 * What the registry does, without HTTP: Confluent Schema Registry's semantics over a RegistryStore.
 *
 * - A schema's identity is its normalized text plus its reference list; one identity has one id under
 *   every subject. Registering an identity a subject already holds (not soft-deleted) returns the
 *   existing version instead of creating one.
 * - A new version must pass the subject's compatibility level (or the global one) against the
 *   subject's versions that are not soft-deleted.
 * - Soft-deleted versions are hidden unless asked for and never used for compatibility; a permanent
 *   delete needs a soft delete first; a version another schema references cannot be deleted.
 *
 * Every method is synchronous, and so is SQLite: one request's reads and writes cannot interleave with
 * another's, and each write runs in one transaction (so a crash leaves all of it or none).
 */
export interface RegistryDeps {
  store: RegistryStore;
  defaultCompatibility: CompatibilityLevel;
}

/** A subject version as GET /subjects/{s}/versions/{v} shows it (Confluent's key order). */
export interface SubjectVersionView {
  subject: string;
  version: number;
  id: number;
  references?: SchemaReference[];
  schema: string;
}

export interface CompatibilityResult {
  is_compatible: boolean;
  messages?: string[];
}

export interface SubjectListOptions {
  deleted?: boolean;
  deletedOnly?: boolean;
  prefix?: string;
}

/** A stored schema, parsed at most once per process. */
interface CachedSchema {
  row: StoredSchemaRow;
  /** Its references with their schema texts, recursively, as the avro module takes them. */
  resolved: ResolvedReference[];
  parsed?: ParsedAvroSchema;
}

interface Candidate {
  parsed: ParsedAvroSchema;
  /** The request's references with -1 resolved to the version it meant. */
  references: SchemaReference[];
}

const DEFAULT_MODE: Mode = 'READWRITE';
/** Request schemas parsed recently (text + resolved references): idempotent re-registration skips the parse. */
const PARSE_CACHE_ENTRIES = 512;

export class Registry {
  private readonly store: RegistryStore;
  /** The compatibility level, global (default: the configured one) and per subject. */
  readonly compatibility: ScopedSetting<CompatibilityLevel>;
  /** The mode, global (default READWRITE) and per subject; set it through `setMode`. */
  readonly mode: ScopedSetting<Mode>;
  private readonly schemas = new Map<number, CachedSchema>();
  /** GET /schemas/ids/{id} bodies, only for ids that some subject version (deleted or not) still uses. */
  private readonly byIdBodies = new Map<number, string>();
  private readonly requestParses = new Map<string, ParsedAvroSchema>();

  constructor(deps: RegistryDeps) {
    this.store = deps.store;
    this.compatibility = new ScopedSetting<CompatibilityLevel>(this.store, 'compatibility', () => deps.defaultCompatibility, registryErrors.compatibilityNotConfigured, registryErrors.subjectNotFound);
    this.mode = new ScopedSetting<Mode>(this.store, 'mode', () => DEFAULT_MODE, registryErrors.modeNotConfigured, registryErrors.subjectNotFound);
  }

  // ---- schemas by id -------------------------------------------------------------------------------

  /** The JSON body of GET /schemas/ids/{id}, serialized once per id. */
  schemaByIdBody(id: number): string {
    const cached = this.byIdBodies.get(id);
    if (cached !== undefined) return cached;
    const schema = this.servableSchema(id);
    const { normalized, references } = schema.row;
    const body = JSON.stringify(references.length > 0 ? { schema: normalized, references } : { schema: normalized });
    this.byIdBodies.set(id, body);
    return body;
  }

  /** The schema text of `id`, for GET /schemas/ids/{id}/schema. */
  schemaText(id: number): string {
    return this.servableSchema(id).row.normalized;
  }

  /** The subjects that use schema `id` (not soft-deleted unless `deleted`). */
  subjectsOfSchema(id: number, deleted: boolean): string[] {
    return [...new Set(this.versionsOfSchema(id, deleted).map((v) => v.subject))];
  }

  /** The subject versions that use schema `id` (not soft-deleted unless `deleted`). */
  versionsOfSchema(id: number, deleted: boolean): { subject: string; version: number }[] {
    const versions = this.store.versionsOfSchema(id);
    if (versions.length === 0) throw registryErrors.schemaNotFound(id);
    return versions.filter((v) => deleted || !v.deleted).map((v) => ({ subject: v.subject, version: v.version }));
  }

  // ---- subjects and versions -----------------------------------------------------------------------

  subjects(options: SubjectListOptions = {}): string[] {
    return this.store
      .subjects()
      .filter((s) => (options.deletedOnly ? s.allDeleted : options.deleted || !s.allDeleted))
      .filter((s) => options.prefix === undefined || s.subject.startsWith(options.prefix))
      .map((s) => s.subject);
  }

  versions(subject: string, deleted: boolean): number[] {
    const versions = this.store.versionsOfSubject(subject).filter((v) => deleted || !v.deleted);
    if (versions.length === 0) throw registryErrors.subjectNotFound(subject);
    return versions.map((v) => v.version);
  }

  version(subject: string, param: VersionParam, deleted: boolean): SubjectVersionView {
    return this.view(this.findVersion(subject, param, deleted));
  }

  /** Ids of the schemas that reference `subject` version `param` (those with live versions unless `deleted`). */
  referencedBy(subject: string, param: VersionParam, deleted: boolean): number[] {
    const target = this.findVersion(subject, param, true);
    return this.referrerIds(target.subject, target.version, deleted);
  }

  register(subject: string, request: SchemaRequest): { id: number; version: number } {
    const importing = request.id !== undefined;
    const mode = this.mode.inScope(subject);
    if (mode === 'READONLY') throw registryErrors.operationNotPermitted(`Subject ${subject} is in read-only mode`);
    if (importing && mode !== 'IMPORT') throw registryErrors.operationNotPermitted(`Subject ${subject} is not in import mode`);
    if (!importing && mode !== 'READWRITE') throw registryErrors.operationNotPermitted(`Subject ${subject} is not in read-write mode`);
    const candidate = this.candidate(request, { lookupDeleted: false });

    return this.store.transaction(() => {
      const { normalized } = candidate.parsed;
      const existingId = this.store.schemaIdFor(normalized, candidate.references);
      const versions = this.store.versionsOfSubject(subject);
      if (importing) return this.importVersion(subject, request, candidate, existingId, versions);

      const live = versions.filter((v) => !v.deleted);
      const already = existingId === undefined ? undefined : live.find((v) => v.schemaId === existingId);
      if (already) return { id: already.schemaId, version: already.version };

      const messages = this.compatibilityProblems(subject, candidate.parsed, live);
      if (messages.length > 0) throw registryErrors.incompatibleSchema(subject, messages);

      const id = existingId ?? this.store.insertSchema(normalized, candidate.references);
      const version = Math.max(0, ...versions.map((v) => v.version)) + 1;
      // Like Confluent: an older soft-deleted version of the same schema gives way to the new one, so
      // one subject never maps one schema to two versions (unless something still references it).
      for (const old of versions) {
        if (old.deleted && old.schemaId === id && this.referrerIds(subject, old.version, true).length === 0) this.store.deleteVersion(subject, old.version);
      }
      this.store.insertVersion(subject, version, id);
      return { id, version };
    });
  }

  /** IMPORT mode: the caller chooses the id (and maybe the version); no compatibility check. */
  private importVersion(subject: string, request: SchemaRequest, candidate: Candidate, existingId: number | undefined, versions: SubjectVersionRow[]) {
    const id = request.id!;
    if (existingId !== undefined && existingId !== id) {
      throw registryErrors.operationNotPermitted(`Schema is already registered with id ${existingId}; importing it as id ${id} is not permitted.`);
    }
    if (existingId === undefined && this.store.schemaById(id)) {
      throw registryErrors.operationNotPermitted(`Overwrite new schema with id ${id} is not permitted.`);
    }
    const version = request.version ?? Math.max(0, ...versions.map((v) => v.version)) + 1;
    const taken = versions.find((v) => v.version === version);
    if (taken) {
      if (taken.schemaId === id && !taken.deleted) return { id, version };
      throw registryErrors.operationNotPermitted(`Overwrite of version ${version} of subject '${subject}' (schema id ${taken.schemaId}) is not permitted.`);
    }
    if (existingId === undefined) this.store.insertSchema(candidate.parsed.normalized, candidate.references, id);
    this.store.insertVersion(subject, version, id);
    return { id, version };
  }

  /** POST /subjects/{s}: which version of `subject` holds this schema. */
  lookup(subject: string, request: SchemaRequest, deleted: boolean): SubjectVersionView {
    const candidate = this.candidate(request, { lookupDeleted: true });
    const id = this.store.schemaIdFor(candidate.parsed.normalized, candidate.references);
    const versions = this.store.versionsOfSubject(subject).filter((v) => deleted || !v.deleted);
    const match = id === undefined ? undefined : versions.findLast((v) => v.schemaId === id);
    if (match) return this.view(match);
    throw versions.length === 0 ? registryErrors.subjectNotFound(subject) : registryErrors.schemaNotFound();
  }

  deleteSubject(subject: string, permanent: boolean): number[] {
    return this.store.transaction(() => {
      const versions = this.store.versionsOfSubject(subject);
      if (versions.length === 0) throw registryErrors.subjectNotFound(subject);
      const live = versions.filter((v) => !v.deleted);
      if (!permanent && live.length === 0) throw registryErrors.subjectSoftDeleted(subject);
      this.assertWritable(subject);
      const targets = permanent ? versions : live;
      for (const target of targets) {
        // References from the subject's own versions go away with it.
        const others = this.referrerSubjects(subject, target.version, permanent).filter((s) => s !== subject);
        if (others.length > 0) throw registryErrors.referenceExists(subject, target.version);
        if (permanent && !target.deleted) throw registryErrors.subjectNotSoftDeleted(subject);
      }
      if (permanent) {
        for (const target of [...targets].reverse()) this.store.deleteVersion(subject, target.version);
        this.forgetSubjectSettings(subject);
        this.forgetOrphans(targets);
      } else {
        for (const target of targets) this.store.markDeleted(subject, target.version);
      }
      return targets.map((v) => v.version);
    });
  }

  deleteVersion(subject: string, param: VersionParam, permanent: boolean): number {
    return this.store.transaction(() => {
      const versions = this.store.versionsOfSubject(subject);
      const target = param === 'latest' ? versions.findLast((v) => !v.deleted) : versions.find((v) => v.version === param);
      if (target?.deleted && !permanent) throw registryErrors.versionSoftDeleted(subject, target.version);
      if (!target) throw versions.length === 0 ? registryErrors.subjectNotFound(subject) : registryErrors.versionNotFound(param === 'latest' ? -1 : param);
      this.assertWritable(subject);
      if (this.referrerIds(subject, target.version, permanent).length > 0) throw registryErrors.referenceExists(subject, target.version);
      if (permanent && !target.deleted) throw registryErrors.versionNotSoftDeleted(subject, target.version);
      if (permanent) {
        this.store.deleteVersion(subject, target.version);
        if (versions.length === 1) this.forgetSubjectSettings(subject);
        this.forgetOrphans([target]);
      } else {
        this.store.markDeleted(subject, target.version);
      }
      return target.version;
    });
  }

  // ---- compatibility -------------------------------------------------------------------------------

  /**
   * POST /compatibility/subjects/{s}/versions[/{v}]: checks `body` against one live version (`'latest'`:
   * the newest, or none at all when the subject has no live version) or against the versions the subject's
   * level looks at (`'all'`). With `verbose`, an invalid schema is a message rather than an error, like Confluent.
   */
  checkCompatibility(subject: string, target: VersionParam | 'all', body: unknown, verbose: boolean): CompatibilityResult {
    const live = this.store.versionsOfSubject(subject).filter((v) => !v.deleted);
    let previous: SubjectVersionRow[];
    if (target === 'all') previous = live;
    else if (target === 'latest') previous = live.slice(-1);
    else {
      const found = live.find((v) => v.version === target);
      if (!found) throw registryErrors.versionNotFound(target);
      previous = [found];
    }
    let messages: string[];
    try {
      const candidate = this.candidate(parseSchemaRequest(body), { lookupDeleted: true });
      messages = this.compatibilityProblems(subject, candidate.parsed, previous);
    } catch (error) {
      if (!verbose || errorCodeOf(error) !== RegistryErrorCode.InvalidSchema) throw error;
      messages = [(error as Error).message];
    }
    return verbose ? { is_compatible: messages.length === 0, messages } : { is_compatible: messages.length === 0 };
  }

  // ---- config and mode ------------------------------------------------------------------------------

  /**
   * Sets the mode of `subject`, or the global mode when `subject` is undefined. Entering IMPORT while
   * the scope holds schemas needs `force`: imported ids could collide with the ones already given out.
   */
  setMode(subject: string | undefined, mode: Mode, force: boolean): void {
    this.store.transaction(() => {
      const current = subject === undefined ? this.mode.global() : this.mode.inScope(subject);
      if (mode === 'IMPORT' && current !== 'IMPORT' && !force) {
        const occupied = subject === undefined ? this.subjects().length > 0 : this.store.versionsOfSubject(subject).some((v) => !v.deleted);
        if (occupied) throw registryErrors.operationNotPermitted('Cannot import since found existing subjects');
      }
      if (subject === undefined) this.mode.setGlobal(mode);
      else this.mode.setForSubject(subject, mode);
    });
  }

  // ---- internals -----------------------------------------------------------------------------------

  private assertWritable(subject: string): void {
    if (this.mode.inScope(subject) === 'READONLY') throw registryErrors.operationNotPermitted(`Subject ${subject} is in read-only mode`);
  }

  /** The version `param` names: 'latest' is the newest version that is not soft-deleted. */
  private findVersion(subject: string, param: VersionParam, deleted: boolean): SubjectVersionRow {
    const versions = this.store.versionsOfSubject(subject);
    const found = param === 'latest' ? versions.findLast((v) => !v.deleted) : versions.find((v) => v.version === param && (deleted || !v.deleted));
    if (found) return found;
    throw versions.some((v) => deleted || !v.deleted) ? registryErrors.versionNotFound(param === 'latest' ? -1 : param) : registryErrors.subjectNotFound(subject);
  }

  private view(version: SubjectVersionRow): SubjectVersionView {
    const { normalized, references } = this.cachedSchema(version.schemaId).row;
    return {
      subject: version.subject,
      version: version.version,
      id: version.schemaId,
      ...(references.length > 0 ? { references } : {}),
      schema: normalized,
    };
  }

  /**
   * Why `candidate` may not follow `previous` under the subject's level. The avro module names a previous
   * schema by its position in the list it was given; clients need the subject's version number.
   */
  private compatibilityProblems(subject: string, candidate: ParsedAvroSchema, previous: readonly SubjectVersionRow[]): string[] {
    const messages = compatibilityMessages(
      this.compatibility.inScope(subject),
      candidate,
      previous.map((v) => this.parsedSchema(v.schemaId)),
    );
    return messages.map((message) => message.replace(/^version (\d+) /, (text, position: string) => {
      const version = previous[Number(position) - 1]?.version;
      return version === undefined ? text : `version ${version} `;
    }));
  }

  /** Ids of schemas referencing subject/version that still have a version (a live one unless `deleted`). */
  private referrerIds(subject: string, version: number, deleted: boolean): number[] {
    return this.store.referrers(subject, version).filter((id) => this.store.versionsOfSchema(id).some((v) => deleted || !v.deleted));
  }

  private referrerSubjects(subject: string, version: number, deleted: boolean): string[] {
    return this.store.referrers(subject, version).flatMap((id) =>
      this.store
        .versionsOfSchema(id)
        .filter((v) => deleted || !v.deleted)
        .map((v) => v.subject),
    );
  }

  private forgetSubjectSettings(subject: string): void {
    this.store.deleteSubjectSetting('compatibility', subject);
    this.store.deleteSubjectSetting('mode', subject);
  }

  /** After permanent deletes: GET /schemas/ids/{id} answers 40403 for an id no version uses any more. */
  private forgetOrphans(deleted: readonly SubjectVersionRow[]): void {
    for (const { schemaId } of deleted) {
      if (this.store.hasVersionsOfSchema(schemaId)) continue;
      this.byIdBodies.delete(schemaId);
      // Its references may be deleted and their subject/version reused now: resolve afresh if it returns.
      this.schemas.delete(schemaId);
    }
  }

  /** A schema some subject version (soft-deleted or not) still uses, else 40403. */
  private servableSchema(id: number): CachedSchema {
    if (!Number.isSafeInteger(id) || !this.store.hasVersionsOfSchema(id)) throw registryErrors.schemaNotFound(id);
    return this.cachedSchema(id);
  }

  private cachedSchema(id: number): CachedSchema {
    const cached = this.schemas.get(id);
    if (cached) return cached;
    const row = this.store.schemaById(id);
    if (!row) throw new ShoalError('SHOAL_REGISTRY_STORAGE', `schema ${id} is referenced by a subject version but missing from the store`, { details: { errorCode: RegistryErrorCode.StoreError } });
    const resolved = row.references.map((reference) => this.resolveStoredReference(reference));
    const entry: CachedSchema = { row, resolved };
    this.schemas.set(id, entry);
    return entry;
  }

  private resolveStoredReference(reference: SchemaReference): ResolvedReference {
    const target = this.store.subjectVersion(reference.subject, reference.version);
    if (!target) {
      throw new ShoalError('SHOAL_REGISTRY_STORAGE', `reference ${reference.name} points at ${reference.subject} version ${reference.version}, which is missing`, {
        details: { errorCode: RegistryErrorCode.StoreError },
      });
    }
    const schema = this.cachedSchema(target.schemaId);
    return { name: reference.name, schema: schema.row.normalized, references: schema.resolved };
  }

  private parsedSchema(id: number): ParsedAvroSchema {
    const cached = this.cachedSchema(id);
    cached.parsed ??= parseAvroSchema({ schema: cached.row.normalized, references: cached.resolved });
    return cached.parsed;
  }

  /**
   * Resolves a request's references (registration only to versions that are not soft-deleted) and
   * parses its schema with them; a missing reference or an invalid schema is 42201.
   */
  private candidate(request: SchemaRequest, options: { lookupDeleted: boolean }): Candidate {
    const references: SchemaReference[] = [];
    const resolved: ResolvedReference[] = [];
    const referencedIds: number[] = [];
    for (const reference of request.references) {
      const versions = this.store.versionsOfSubject(reference.subject).filter((v) => options.lookupDeleted || !v.deleted);
      const target = reference.version === -1 ? versions.at(-1) : versions.find((v) => v.version === reference.version);
      if (!target) throw registryErrors.invalidSchema(`No schema reference found for subject "${reference.subject}" and version ${reference.version}`);
      const schema = this.cachedSchema(target.schemaId);
      references.push({ name: reference.name, subject: reference.subject, version: target.version });
      referencedIds.push(target.schemaId);
      resolved.push({ name: reference.name, schema: schema.row.normalized, references: schema.resolved });
    }
    // Keyed by the referenced schema ids, not subject/version: an id's content never changes.
    const key = `${request.references.map((r, i) => `${r.name}=${referencedIds[i]}`).join(',')}\n${request.schema}`;
    let parsed = this.requestParses.get(key);
    if (!parsed) {
      try {
        parsed = parseAvroSchema({ schema: request.schema, references: resolved });
      } catch (error) {
        if (error instanceof InvalidAvroSchemaError) throw registryErrors.invalidSchema(error.message);
        // Thousands of nested arrays or records exhaust the parser's stack: a hostile schema, not a bug.
        if (error instanceof RangeError) throw registryErrors.invalidSchema(`the schema nests too deeply (${error.message})`);
        throw error;
      }
      if (this.requestParses.size >= PARSE_CACHE_ENTRIES) this.requestParses.delete(this.requestParses.keys().next().value!);
      this.requestParses.set(key, parsed);
    }
    return { parsed, references };
  }
}
