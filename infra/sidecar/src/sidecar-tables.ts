/**
 * The sidecar's own tables in its service database (SQLite or PostgreSQL: the host's `DATABASE_URL`), beside
 * the outbox, the inbox and the parked records that every service has:
 *
 *   sidecar_state      key TEXT PRIMARY KEY, value TEXT (JSON; NULL once deleted), version INTEGER (the ETag),
 *                      updated_at (ms since the epoch)                              state-table.ts
 *   sidecar_published  id TEXT PRIMARY KEY, topic TEXT, accepted_at (ms): the ids POST /v1/events was given,
 *                      kept for the configured retention (`publishedRetention`)    publish-routes.ts
 *   sidecar_timers     name TEXT PRIMARY KEY, last_period (ms): when each timer last fired   timers.ts
 *
 * Every statement on them is in the SQL both adapters speak (@shoal/store's SqlExecutor), so one piece of
 * code serves both; only the DDL differs (BIGINT for times on PostgreSQL).
 */
import { createTables, type ServiceDatabase } from '@shoal/store';

const SQLITE = [
  'CREATE TABLE IF NOT EXISTS sidecar_state (key TEXT PRIMARY KEY, value TEXT, version INTEGER NOT NULL, updated_at INTEGER NOT NULL)',
  'CREATE TABLE IF NOT EXISTS sidecar_published (id TEXT PRIMARY KEY, topic TEXT NOT NULL, accepted_at INTEGER NOT NULL)',
  'CREATE INDEX IF NOT EXISTS sidecar_published_accepted_at ON sidecar_published (accepted_at)',
  'CREATE TABLE IF NOT EXISTS sidecar_timers (name TEXT PRIMARY KEY, last_period INTEGER NOT NULL)',
];

const POSTGRES = [
  'CREATE TABLE IF NOT EXISTS sidecar_state (key TEXT PRIMARY KEY, value TEXT, version INTEGER NOT NULL, updated_at BIGINT NOT NULL)',
  'CREATE TABLE IF NOT EXISTS sidecar_published (id TEXT PRIMARY KEY, topic TEXT NOT NULL, accepted_at BIGINT NOT NULL)',
  'CREATE INDEX IF NOT EXISTS sidecar_published_accepted_at ON sidecar_published (accepted_at)',
  'CREATE TABLE IF NOT EXISTS sidecar_timers (name TEXT PRIMARY KEY, last_period BIGINT NOT NULL)',
];

/** Creates the sidecar's tables where they do not exist yet (instances starting together included). */
export function createSidecarTables(database: ServiceDatabase): Promise<void> {
  return createTables(database, { sqlite: SQLITE, postgres: POSTGRES });
}
