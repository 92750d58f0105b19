/** `shoal schemas register|check|list` as a user and a CI gate run them, against a real registry and real git. */
import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '@shoal/testing';
import { startTestRegistry } from '@shoal/schema-registry/testing';
import { REPO_ROOT, shoal } from './helpers.js';

/** A copy of the repository's schemas/ that a test may change. */
function schemasCopy(): string {
  const dir = join(tempDir('schemas'), 'schemas');
  cpSync(join(REPO_ROOT, 'schemas'), dir, { recursive: true });
  return dir;
}

/** OrderShipped gains a field: with a default it is a safe change, without one it breaks old events. */
function addCarrierField(schemasDir: string, withDefault: boolean): void {
  const file = join(schemasDir, 'orders/OrderShipped.avsc');
  const schema = JSON.parse(readFileSync(file, 'utf8'));
  schema.fields.push({ name: 'carrier', type: 'string', doc: 'Who carries the parcel.', ...(withDefault ? { default: 'unknown' } : {}) });
  writeFileSync(file, JSON.stringify(schema, null, 2));
}

describe('shoal schemas', () => {
  it('registers every schema idempotently and lists what the registry holds', async () => {
    const registry = await startTestRegistry({ defaultCompatibility: 'BACKWARD_TRANSITIVE' });
    const env = { SCHEMA_REGISTRY_URL: registry.url };
    const before = JSON.parse((await shoal(['schemas', 'list', '--json'], { env })).out) as { type: string; state: string }[];
    expect(before).toHaveLength(16);
    expect(new Set(before.map((r) => r.state))).toEqual(new Set(['not registered']));

    const first = await shoal(['schemas', 'register', '--json'], { env });
    expect(first.code, first.stderr).toBe(0);
    const registered = JSON.parse(first.out) as { subject: string; id: number; version: number }[];
    expect(registered).toHaveLength(19);
    expect(registered.map((r) => r.subject)).toContain('orders.order-shoal.orders.OrderPlaced');
    expect(registered.slice(0, 3).map((r) => r.subject).sort()).toEqual(['shoal.common.Address', 'shoal.common.LineItem', 'shoal.common.Money']);
    const again = JSON.parse((await shoal(['schemas', 'register', '--json'], { env })).out);
    expect(again).toEqual(registered);

    const text = await shoal(['schemas', 'register'], { env });
    expect(text.out).toMatch(/^orders\.order-shoal\.orders\.OrderPlaced\s+\d+\s+1$/m);
    expect(text.out).toContain(`19 schema(s) registered at ${registry.url}`);

    const after = JSON.parse((await shoal(['schemas', 'list', '--json'], { env })).out) as { type: string; topic: string; state: string; version: number }[];
    expect(after.find((r) => r.type === 'shoal.payments.PaymentDeclined')).toMatchObject({ topic: 'payments.payment', state: 'registered', version: 1 });
  });

  it('checks the working tree against the registry, explaining each incompatible field, as a CI gate', async () => {
    const registry = await startTestRegistry({ defaultCompatibility: 'BACKWARD_TRANSITIVE' });
    const env = { SCHEMA_REGISTRY_URL: registry.url };
    expect((await shoal(['schemas', 'register'], { env })).code).toBe(0);
    const schemas = schemasCopy();

    const unchanged = await shoal(['schemas', 'check', '--schemas', schemas], { env });
    expect(unchanged.code, unchanged.stderr).toBe(0);
    expect(unchanged.out).toContain(`all 19 schema(s) are compatible with the registry at ${registry.url}`);

    addCarrierField(schemas, false);
    const broken = await shoal(['schemas', 'check', '--schemas', schemas], { env });
    expect(broken.code).toBe(1);
    expect(broken.out).toMatch(/^INCOMPATIBLE\s+orders\.order-shoal\.orders\.OrderShipped$/m);
    expect(broken.out).toContain("the new schema cannot read data written with version 1: READER_FIELD_MISSING_DEFAULT_VALUE: field 'carrier'");
    expect(broken.out).toContain('1 of 19 schema(s) are incompatible');

    const fixed = schemasCopy();
    addCarrierField(fixed, true);
    const compatible = await shoal(['schemas', 'check', '--schemas', fixed, '--json'], { env });
    expect(compatible.code, compatible.out).toBe(0);
    expect(JSON.parse(compatible.out).compatible).toBe(true);
  });

  it('checks against the schemas of another git commit without a registry', async () => {
    const repo = tempDir('git');
    cpSync(join(REPO_ROOT, 'schemas'), join(repo, 'schemas'), { recursive: true });
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: repo });
    git('init', '-q');
    git('add', '.');
    git('commit', '-qm', 'schemas');
    const schemas = join(repo, 'schemas');
    // No registry anywhere: port 1 refuses, and --against must not need one.
    const env = { SCHEMA_REGISTRY_URL: 'http://127.0.0.1:1' };

    expect((await shoal(['schemas', 'check', '--schemas', schemas, '--against', 'HEAD'], { env })).code).toBe(0);

    addCarrierField(schemas, false);
    const broken = await shoal(['schemas', 'check', '--schemas', schemas, '--against', 'HEAD'], { env });
    expect(broken.code).toBe(1);
    expect(broken.out).toContain("the new schema cannot read data written with HEAD: READER_FIELD_MISSING_DEFAULT_VALUE: field 'carrier'");
    expect(broken.out).toContain('incompatible with HEAD (BACKWARD_TRANSITIVE)');

    const unknownRef = await shoal(['schemas', 'check', '--schemas', schemas, '--against', 'no-such-branch'], { env });
    expect(unknownRef.code).toBe(2);
    expect(unknownRef.stderr).toContain('--against no-such-branch: not a commit, branch or tag');
  });
});
