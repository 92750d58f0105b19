import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '@shoal/testing';
import { REPO_ROOT, discoverServices } from './service-discovery.js';

/** A repository root holding `services/<dir>/<file>` for each entry (`package.json` unless the dir names one: `dir/shoal.json`). */
function repoWith(packages: Record<string, unknown>): string {
  const root = tempDir('discovery');
  for (const [entry, pkg] of Object.entries(packages)) {
    const [dir, file = 'package.json'] = entry.split('/') as [string, string?];
    mkdirSync(join(root, 'services', dir), { recursive: true });
    writeFileSync(join(root, 'services', dir, file), typeof pkg === 'string' ? pkg : JSON.stringify(pkg));
  }
  return root;
}

describe('discoverServices', () => {
  it("lists the repository's services with their default ports and entry points, the Python one with its sidecar", () => {
    const services = discoverServices();
    expect(services.map(({ name, port }) => [name, port])).toEqual([
      ['orders', 3001],
      ['inventory', 3002],
      ['payments', 3003],
      ['shipping', 3004],
      ['notifications', 3005],
      ['order-view', 3006],
      ['loyalty', 3007],
    ]);
    for (const service of services.slice(0, 6)) expect(service.main).toBe(join(REPO_ROOT, 'services', service.name, 'src/main.ts'));
    expect(services[6]).toMatchObject({
      main: undefined,
      command: ['python3', 'loyalty.py'],
      sidecar: { config: join(REPO_ROOT, 'services/loyalty/sidecar.yaml'), port: 3507 },
      declaredIn: join(REPO_ROOT, 'services/loyalty/shoal.json'),
    });
  });

  it('takes a shoal.json descriptor of a service in another language, with its sidecar port from the sidecar configuration', () => {
    const root = repoWith({
      'py/shoal.json': { service: 'py', port: 4005, command: ['python3', 'app.py'], sidecar: 'sidecar.yaml' },
      'py/sidecar.yaml': 'service: py\nport: 4505\n',
    });
    expect(discoverServices(root)).toEqual([
      { name: 'py', port: 4005, main: undefined, command: ['python3', 'app.py'], sidecar: { config: join(root, 'services/py/sidecar.yaml'), port: 4505 }, dir: join(root, 'services/py'), declaredIn: join(root, 'services/py/shoal.json') },
    ]);
  });

  it.each([
    ['no command', { service: 'py', port: 4005, sidecar: 'sidecar.yaml' }, 'port: 4505', /"command" must be the command that runs the service/],
    ['no sidecar', { service: 'py', port: 4005, command: ['x'] }, 'port: 4505', /"sidecar" must be the path/],
    ['a sidecar without a port', { service: 'py', port: 4005, command: ['x'], sidecar: 'sidecar.yaml' }, 'service: py', /sidecar\.yaml: "port" must be the sidecar's port number/],
  ])('refuses a descriptor with %s, naming the file', (_what, descriptor, sidecar, message) => {
    const root = repoWith({ 'py/shoal.json': descriptor, 'py/sidecar.yaml': sidecar });
    expect(() => discoverServices(root)).toThrow(message);
  });

  it('takes packages declaring a "shoal" field, by port, and skips the others', () => {
    const root = repoWith({
      b: { name: 'b', shoal: { service: 'beta', port: 4002, main: 'src/main.ts' } },
      a: { name: 'a', shoal: { service: 'alpha', port: 4001, main: 'main.ts' } },
      lib: { name: 'lib' },
    });
    expect(discoverServices(root)).toEqual([
      { name: 'alpha', port: 4001, main: join(root, 'services/a/main.ts'), command: undefined, sidecar: undefined, dir: join(root, 'services/a'), declaredIn: join(root, 'services/a/package.json') },
      { name: 'beta', port: 4002, main: join(root, 'services/b/src/main.ts'), command: undefined, sidecar: undefined, dir: join(root, 'services/b'), declaredIn: join(root, 'services/b/package.json') },
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
