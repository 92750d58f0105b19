/**
 * `shoal dev --postgres <url>`: a PostgreSQL database of its own for every service, as an operator would set
 * one up, and the `DATABASE_URL` each of its instances gets.
 *
 * `<url>` names a server and a role that may create roles and databases (a superuser, or one with CREATEROLE
 * and CREATEDB). For each service this creates, when missing, a login role and a database that role owns,
 * both named after the service with `-` as `_` (`order-view` -> `order_view`: a plain identifier needs no
 * quoting anywhere a person types it), and takes the right to connect from PUBLIC: only the service's own
 * role (and superusers) may open its database, so a service never reads another's. The role's password is
 * set again on every run, so a run never depends on what an earlier one chose; instances get it in their
 * URL. Running it twice, or two runs at once, leaves the same roles and databases.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { ShoalError } from '@shoal/core';
import { redactedUrl } from '@shoal/store-postgres';

/** The role and database name of a service: its name with `-` as `_`. */
export function serviceDatabaseName(service: string): string {
  return service.replaceAll('-', '_');
}

/** Why `url` is not a server URL `--postgres` can use, or undefined. */
export function postgresUrlProblem(url: string): string | undefined {
  if (!URL.canParse(url)) return `'${url}' is not a URL: expected postgres://user:password@host:port/database`;
  const parsed = new URL(url);
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') return `${redactedUrl(url)} is not a postgres:// URL`;
  if (parsed.hostname === '') return `${redactedUrl(url)} names no host`;
  return undefined;
}

const CONNECT_TIMEOUT_MS = 10_000;
/** SQLSTATEs of a concurrent run that created the same role or database first. */
const ALREADY_THERE = new Set(['42710', '42P04', '23505']);

/**
 * Creates (when missing) each service's role and database on the server of `adminUrl`; resolves with the
 * `DATABASE_URL` of each service. Fails with SHOAL_DATABASE when the server cannot be reached or refuses.
 */
export async function provisionServiceDatabases(adminUrl: string, services: readonly string[]): Promise<Map<string, string>> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  client.on('error', () => undefined);
  const urls = new Map<string, string>();
  try {
    await client.connect();
    for (const service of services) {
      const name = serviceDatabaseName(service);
      const password = randomBytes(18).toString('base64url');
      const role = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name]);
      if (role.rowCount === 0) await tolerateConcurrentCreate(client.query(`CREATE ROLE ${name} LOGIN`));
      // A literal, not a parameter: utility statements take none; the password is base64url, nothing to escape.
      await client.query(`ALTER ROLE ${name} WITH LOGIN PASSWORD '${password}'`);
      const database = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (database.rowCount === 0) await tolerateConcurrentCreate(client.query(`CREATE DATABASE ${name} OWNER ${name}`));
      await client.query(`REVOKE CONNECT, TEMPORARY ON DATABASE ${name} FROM PUBLIC`);
      await client.query(`GRANT CONNECT, TEMPORARY ON DATABASE ${name} TO ${name}`);
      const url = new URL(adminUrl);
      url.username = name;
      url.password = password;
      url.pathname = `/${name}`;
      urls.set(service, url.toString());
    }
    return urls;
  } catch (error) {
    const reason = (error as Error).message || String((error as { code?: unknown }).code ?? error);
    throw new ShoalError('SHOAL_DATABASE', `${redactedUrl(adminUrl)}: ${reason}`, { cause: error });
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function tolerateConcurrentCreate(query: Promise<unknown>): Promise<void> {
  try {
    await query;
  } catch (error) {
    if (!ALREADY_THERE.has(String((error as { code?: unknown }).code))) throw error;
  }
}
