/**
 * The databases `shoal dev --postgres` creates, on a real PostgreSQL server (the @shoal/postgres fixture, run
 * with password authentication so that a role's password is what lets it in).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresMissingReason, startPostgres, type PostgresServer } from '@shoal/postgres';
import { provisionServiceDatabases, serviceDatabaseName } from './service-databases.js';

const missing = postgresMissingReason();

async function query(url: string, sql: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

describe.skipIf(missing !== undefined)('shoal dev --postgres: a database and a role of its own per service', () => {
  let server: PostgresServer;
  let adminUrl: string;

  beforeAll(async () => {
    // The fixture trusts 127.0.0.1; the superuser gets a password and every other role must give its own.
    server = await startPostgres();
    await query(server.url(), "ALTER ROLE postgres PASSWORD 'admin-secret'");
    writeFileSync(join(server.dataDir, 'data', 'pg_hba.conf'), 'local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n');
    await server.restart();
    adminUrl = `postgres://postgres:admin-secret@${server.host}:${server.port}/postgres`;
  }, 120_000);

  afterAll(() => server?.stop());

  it('creates each service’s role and database, which only that role may open, and does it again without harm', async () => {
    const first = await provisionServiceDatabases(adminUrl, ['orders', 'order-view']);
    expect([...first.keys()]).toEqual(['orders', 'order-view']);
    const orders = new URL(first.get('orders')!);
    expect({ user: orders.username, database: orders.pathname, host: orders.host }).toEqual({ user: 'orders', database: '/orders', host: `${server.host}:${server.port}` });
    expect(new URL(first.get('order-view')!).pathname).toBe(`/${serviceDatabaseName('order-view')}`);
    expect(serviceDatabaseName('order-view')).toBe('order_view');

    // Its own database: it connects, and owns the schema its tables go in.
    await query(first.get('orders')!, 'CREATE TABLE placed (id TEXT PRIMARY KEY)');
    expect((await query(first.get('orders')!, 'SELECT current_user AS who, current_database() AS db')).rows).toEqual([{ who: 'orders', db: 'orders' }]);
    // Another service's database is refused to it, however it asks.
    const intruder = new URL(first.get('orders')!);
    intruder.pathname = '/order_view';
    await expect(query(intruder.toString(), 'SELECT 1')).rejects.toThrow(/permission denied for database "order_view"/);
    const wrongPassword = new URL(first.get('orders')!);
    wrongPassword.password = 'guess';
    await expect(query(wrongPassword.toString(), 'SELECT 1')).rejects.toThrow(/password authentication failed for user "orders"/);

    // Again (another run of shoal dev): the same roles and databases, the data kept, a new password that works.
    const second = await provisionServiceDatabases(adminUrl, ['orders', 'order-view']);
    expect(second.get('orders')).not.toBe(first.get('orders'));
    expect((await query(second.get('orders')!, "SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = 'placed'")).rows).toEqual([{ n: 1 }]);
    await expect(query(first.get('orders')!, 'SELECT 1')).rejects.toThrow(/password authentication failed/);
    const databases = await query(adminUrl, "SELECT datname, pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname IN ('orders', 'order_view') ORDER BY datname");
    expect(databases.rows).toEqual([
      { datname: 'order_view', owner: 'order_view' },
      { datname: 'orders', owner: 'orders' },
    ]);
  }, 60_000);

  it('fails with the reason, and the URL without its password, when the server refuses the admin role', async () => {
    const refused = `postgres://postgres:wrong@${server.host}:${server.port}/postgres`;
    await expect(provisionServiceDatabases(refused, ['orders'])).rejects.toThrow(`postgres://postgres:***@${server.host}:${server.port}/postgres: password authentication failed for user "postgres"`);
  });
});
