import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isShoalError } from '@shoal/core';
import { CONSOLE_DEFAULT_PORT, configSpec } from './config.js';

describe('the console’s configuration', () => {
  it('defaults to the port its package.json declares to shoal dev', () => {
    const declared = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { shoal: { port: number } };
    expect(declared.shoal.port).toBe(CONSOLE_DEFAULT_PORT);
    expect(configSpec.load({}).port).toBe(CONSOLE_DEFAULT_PORT);
  });

  it('reads its services and its cap, and names a bad variable', () => {
    const config = configSpec.load({ SHOAL_CONSOLE_SERVICES: 'orders=http://127.0.0.1:3001, inventory=http://127.0.0.1:3002/', SHOAL_CONSOLE_MAX_EVENTS: '5000' });
    expect(config).toMatchObject({ services: 'orders=http://127.0.0.1:3001, inventory=http://127.0.0.1:3002/', maxEvents: 5000 });
    for (const [env, message] of [
      [{ SHOAL_CONSOLE_SERVICES: 'orders' }, `SHOAL_CONSOLE_SERVICES="orders": expected name=url, got 'orders'`],
      [{ SHOAL_CONSOLE_SERVICES: 'orders=ftp://x' }, `SHOAL_CONSOLE_SERVICES="orders=ftp://x": orders: expected an http(s) URL, got 'ftp://x'`],
      [{ SHOAL_CONSOLE_SERVICES: 'a=http://x,a=http://x/' }, 'a is named twice with http://x'],
      [{ SHOAL_CONSOLE_MAX_EVENTS: '0' }, 'SHOAL_CONSOLE_MAX_EVENTS=0 is out of range'],
    ] as const) {
      let refused: unknown;
      try {
        configSpec.load(env);
      } catch (error) {
        refused = error;
      }
      expect(isShoalError(refused, 'SHOAL_CONFIG_INVALID')).toBe(true);
      expect((refused as Error).message).toContain(message);
    }
  });
});
