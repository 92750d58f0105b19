import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '@shoal/testing';
import { REPO_ROOT, discoverServices } from './service-discovery.js';

/** A repository root holding `services/<dir>/package.json` for each entry. */
function repoWith(packages: Record<string, unknown>): string {
  const root = tempDir('discovery');
  for (const [dir, pkg] of Object.entries(packages)) {
    mkdirSync(join(root, 'services', dir), { recursive: true });
    writeFileSync(join(root, 'services', dir, 'package.json'), typeof pkg === 'string' ? pkg : JSON.stringify(pkg));
  }
  return root;
}

describe('discoverServices', () => {
  it("lists the repository's six services with their default ports and entry points", () => {
    const services = discoverServices();
    expect(services.map(({ name, port }) => [name, port])).toEqual([
      ['orders', 3001],
      ['inventory', 3002],
      ['payments', 3003],
      ['shipping', 3004],
      ['notifications', 3005],
      ['order-view', 3006],
    ]);
    for (const service of services) expect(service.main).toBe(join(REPO_ROOT, 'services', service.name, 'src/main.ts'));
  });

  it('takes packages declaring a "shoal" field, by port, and skips the others', () => {
    const root = repoWith({
      b: { name: 'b', shoal: { service: 'beta', port: 4002, main: 'src/main.ts' } },
      a: { name: 'a', shoal: { service: 'alpha', port: 4001, main: 'main.ts' } },
      lib: { name: 'lib' },
    });
    expect(discoverServices(root)).toEqual([
      { name: 'alpha', port: 4001, main: join(root, 'services/a/main.ts'), dir: join(root, 'services/a') },
      { name: 'beta', port: 4002, main: join(root, 'services/b/src/main.ts'), dir: join(root, 'services/b') },
    ]);
  });

  it.each([
    ['a malformed package.json', '{"shoal": ', /services\/a\/package\.json: not valid JSON/],
    ['a name that is no flag', { shoal: { service: 'Orders!', port: 4001, main: 'm.ts' } }, /"shoal\.service" must be a lower-case name/],
    ['a port out of range', { shoal: { service: 'a', port: 70000, main: 'm.ts' } }, /"shoal\.port" must be a port number \(1-65535\), got 70000/],
    ['no entry point', { shoal: { service: 'a', port: 4001 } }, /"shoal\.main" must be the path/],
  ])('refuses %s, naming the file', (_what, pkg, message) => {
    const root = repoWith({ a: pkg });
    expect(() => discoverServices(root)).toThrow(message);
  });

  it('refuses two services with the same port or name', () => {
    const port = repoWith({ a: { shoal: { service: 'a', port: 4001, main: 'm.ts' } }, b: { shoal: { service: 'b', port: 4001, main: 'm.ts' } } });
    expect(() => discoverServices(port)).toThrow(/port 4001 is already declared by .*services\/a\/package\.json/);
    const name = repoWith({ a: { shoal: { service: 'x', port: 4001, main: 'm.ts' } }, b: { shoal: { service: 'x', port: 4002, main: 'm.ts' } } });
    expect(() => discoverServices(name)).toThrow(/the name 'x' is already declared/);
  });
});
