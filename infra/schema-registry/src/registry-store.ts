import Database from 'better-sqlite3';
import type { Database as SqliteDatabase } from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The registry's durable state in one SQLite database (`registry.db`, WAL):
 *
 *   schemas(id, normalized, refs JSON)             one row per distinct schema; ids are global and never reused
 *                                                  (AUTOINCREMENT); UNIQUE(normalized, refs) is the schema's identity
 *   subject_versions(subject, version, schema_id, deleted)
 *                                                  what each subject's versions point at; deleted = soft-deleted
 *   subject_configs(subject, compatibility)        subject-level compatibility levels
 *   subject_modes(subject, mode)                   subject-level modes
 *   global_settings(key, value)                    'compatibility' and 'mode' when set with PUT /config, PUT /mode
 *
 * `refs` is the JSON array of the schema's references, `[{"name","subject","version"}]` in request order
 * (versions resolved, never -1). A registry writes rarely and every write is a promise to a client (an
 * id, a version), so commits are fsynced (synchronous=FULL).
 */
export interface SchemaReference {
  name: string;
  subject: string;
  version: number;
}

export interface StoredSchemaRow {
  id: number;
  normalized: string;
  references: SchemaReference[];
}

export interface SubjectVersionRow {
  subject: string;
  version: number;
  schemaId: number;
  deleted: boolean;
}

export type GlobalSetting = 'compatibility' | 'mode';

interface RawVersionRow {
  subject: string;
  version: number;
  schema_id: number;
  deleted: number;
}

const toVersion = (row: RawVersionRow): SubjectVersionRow => ({ subject: row.subject, version: row.version, schemaId: row.schema_id, deleted: row.deleted !== 0 });

export class RegistryStore {
  readonly db: SqliteDatabase;
  private readonly statements: ReturnType<RegistryStore['prepare']>;
  // Built once: BEGIN IMMEDIATE takes the write lock before the reads that decide an id or a version.
  private readonly runInTransaction: { immediate: (work: () => unknown) => unknown };

  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true });
    this.db = new Database(join(dataDir, 'registry.db'));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS schemas (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        normalized TEXT NOT NULL,
        refs TEXT NOT NULL DEFAULT '[]',
        UNIQUE (normalized, refs)
      );
      CREATE TABLE IF NOT EXISTS subject_versions (
        subject TEXT NOT NULL,
        version INTEGER NOT NULL,
        schema_id INTEGER NOT NULL REFERENCES schemas (id),
        deleted INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (subject, version)
      ) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS subject_versions_by_schema ON subject_versions (schema_id);
      CREATE TABLE IF NOT EXISTS subject_configs (subject TEXT PRIMARY KEY, compatibility TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS subject_modes (subject TEXT PRIMARY KEY, mode TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS global_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
    `);
    this.statements = this.prepare();
    this.runInTransaction = this.db.transaction((work: () => unknown) => work());
  }

  private prepare() {
    const db = this.db;
    return {
      schemaById: db.prepare<[number], { id: number; normalized: string; refs: string }>('SELECT id, normalized, refs FROM schemas WHERE id = ?'),
      schemaIdByIdentity: db.prepare<[string, string], { id: number }>('SELECT id FROM schemas WHERE normalized = ? AND refs = ?'),
      insertSchema: db.prepare<[string, string]>('INSERT INTO schemas (normalized, refs) VALUES (?, ?)'),
      insertSchemaWithId: db.prepare<[number, string, string]>('INSERT INTO schemas (id, normalized, refs) VALUES (?, ?, ?)'),
      versionsOfSubject: db.prepare<[string], RawVersionRow>('SELECT subject, version, schema_id, deleted FROM subject_versions WHERE subject = ? ORDER BY version'),
      subjectVersion: db.prepare<[string, number], RawVersionRow>('SELECT subject, version, schema_id, deleted FROM subject_versions WHERE subject = ? AND version = ?'),
      versionsOfSchema: db.prepare<[number], RawVersionRow>('SELECT subject, version, schema_id, deleted FROM subject_versions WHERE schema_id = ? ORDER BY subject, version'),
      hasVersionsOfSchema: db.prepare<[number], { found: number }>('SELECT 1 AS found FROM subject_versions WHERE schema_id = ? LIMIT 1'),
      insertVersion: db.prepare<[string, number, number]>('INSERT INTO subject_versions (subject, version, schema_id) VALUES (?, ?, ?)'),
      markDeleted: db.prepare<[string, number]>('UPDATE subject_versions SET deleted = 1 WHERE subject = ? AND version = ?'),
      deleteVersion: db.prepare<[string, number]>('DELETE FROM subject_versions WHERE subject = ? AND version = ?'),
      subjects: db.prepare<[], { subject: string; all_deleted: number }>('SELECT subject, MIN(deleted) AS all_deleted FROM subject_versions GROUP BY subject ORDER BY subject'),
      // References are few and deletes rare: a scan of the refs JSON beats keeping a second index in step.
      referrers: db.prepare<[string, number], { id: number }>(
        `SELECT DISTINCT s.id FROM schemas s, json_each(s.refs) r
         WHERE json_extract(r.value, '$.subject') = ? AND json_extract(r.value, '$.version') = ? ORDER BY s.id`,
      ),
      subjectSettings: {
        compatibility: {
          get: db.prepare<[string], { value: string }>('SELECT compatibility AS value FROM subject_configs WHERE subject = ?'),
          set: db.prepare<[string, string]>(
            'INSERT INTO subject_configs (subject, compatibility) VALUES (?, ?) ON CONFLICT (subject) DO UPDATE SET compatibility = excluded.compatibility',
          ),
          delete: db.prepare<[string]>('DELETE FROM subject_configs WHERE subject = ?'),
        },
        mode: {
          get: db.prepare<[string], { value: string }>('SELECT mode AS value FROM subject_modes WHERE subject = ?'),
          set: db.prepare<[string, string]>('INSERT INTO subject_modes (subject, mode) VALUES (?, ?) ON CONFLICT (subject) DO UPDATE SET mode = excluded.mode'),
          delete: db.prepare<[string]>('DELETE FROM subject_modes WHERE subject = ?'),
        },
      } satisfies Record<GlobalSetting, unknown>,
      globalSetting: db.prepare<[string], { value: string }>('SELECT value FROM global_settings WHERE key = ?'),
      setGlobalSetting: db.prepare<[string, string]>('INSERT INTO global_settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
      deleteGlobalSetting: db.prepare<[string]>('DELETE FROM global_settings WHERE key = ?'),
    };
  }

  /** Runs `work` in one write transaction (BEGIN IMMEDIATE); nested calls become savepoints. */
  transaction<T>(work: () => T): T {
    return this.runInTransaction.immediate(work) as T;
  }

  schemaById(id: number): StoredSchemaRow | undefined {
    const row = this.statements.schemaById.get(id);
    return row && { id: row.id, normalized: row.normalized, references: JSON.parse(row.refs) as SchemaReference[] };
  }

  /** The id of the schema with exactly this text and these references, if any. */
  schemaIdFor(normalized: string, references: readonly SchemaReference[]): number | undefined {
    return this.statements.schemaIdByIdentity.get(normalized, referencesKey(references))?.id;
  }

  /** Stores a new schema; `id` only when importing (IMPORT mode), else the next id. */
  insertSchema(normalized: string, references: readonly SchemaReference[], id?: number): number {
    if (id !== undefined) {
      this.statements.insertSchemaWithId.run(id, normalized, referencesKey(references));
      return id;
    }
    return Number(this.statements.insertSchema.run(normalized, referencesKey(references)).lastInsertRowid);
  }

  /** Every version of `subject`, soft-deleted ones included, oldest first. */
  versionsOfSubject(subject: string): SubjectVersionRow[] {
    return this.statements.versionsOfSubject.all(subject).map(toVersion);
  }

  subjectVersion(subject: string, version: number): SubjectVersionRow | undefined {
    const row = this.statements.subjectVersion.get(subject, version);
    return row && toVersion(row);
  }

  /** Every subject version that points at schema `id`, soft-deleted ones included. */
  versionsOfSchema(id: number): SubjectVersionRow[] {
    return this.statements.versionsOfSchema.all(id).map(toVersion);
  }

  hasVersionsOfSchema(id: number): boolean {
    return this.statements.hasVersionsOfSchema.get(id) !== undefined;
  }

  insertVersion(subject: string, version: number, schemaId: number): void {
    this.statements.insertVersion.run(subject, version, schemaId);
  }

  markDeleted(subject: string, version: number): void {
    this.statements.markDeleted.run(subject, version);
  }

  deleteVersion(subject: string, version: number): void {
    this.statements.deleteVersion.run(subject, version);
  }

  /** Every subject with at least one version, sorted, and whether all its versions are soft-deleted. */
  subjects(): { subject: string; allDeleted: boolean }[] {
    return this.statements.subjects.all().map((row) => ({ subject: row.subject, allDeleted: row.all_deleted !== 0 }));
  }

  /** Ids of the schemas whose references include `subject` version `version`. */
  referrers(subject: string, version: number): number[] {
    return this.statements.referrers.all(subject, version).map((row) => row.id);
  }

  subjectSetting(key: GlobalSetting, subject: string): string | undefined {
    return this.statements.subjectSettings[key].get.get(subject)?.value;
  }

  setSubjectSetting(key: GlobalSetting, subject: string, value: string): void {
    this.statements.subjectSettings[key].set.run(subject, value);
  }

  deleteSubjectSetting(key: GlobalSetting, subject: string): void {
    this.statements.subjectSettings[key].delete.run(subject);
  }

  globalSetting(key: GlobalSetting): string | undefined {
    return this.statements.globalSetting.get(key)?.value;
  }

  setGlobalSetting(key: GlobalSetting, value: string): void {
    this.statements.setGlobalSetting.run(key, value);
  }

  deleteGlobalSetting(key: GlobalSetting): void {
    this.statements.deleteGlobalSetting.run(key);
  }

  close(): void {
    this.db.close();
  }
}

/** The stored form of a reference list: the identity of a schema includes it, so it must be canonical. */
export function referencesKey(references: readonly SchemaReference[]): string {
  return JSON.stringify(references.map((r) => ({ name: r.name, subject: r.subject, version: r.version })));
}
