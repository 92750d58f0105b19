import { createServer } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { isShoalError } from '@shoal/core';
import { assertPortsFree } from './port-check.js';

describe('assertPortsFree', () => {
  it('names the port, its owner and the flag when the port is taken', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const { port } = server.address() as { port: number };
    const error = await assertPortsFree([{ port, owner: 'inventory', flag: '--inventory-port' }], '127.0.0.1').catch((e: unknown) => e);
    expect(isShoalError(error, 'SHOAL_PORT_IN_USE')).toBe(true);
    expect((error as Error).message).toBe(`port ${port} (inventory) on 127.0.0.1 is already in use: stop what holds it or choose another with --inventory-port`);
  });

  it('refuses a port planned twice, and accepts free ports and port 0', async () => {
    const twice = assertPortsFree(
      [
        { port: 4100, owner: 'orders', flag: '--orders-port' },
        { port: 4100, owner: 'payments', flag: '--payments-port' },
      ],
      '127.0.0.1',
    );
    await expect(twice).rejects.toThrow('port 4100 is planned for both orders and payments: give one of them another with --payments-port or --orders-port');
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await expect(
      assertPortsFree(
        [
          { port, owner: 'orders', flag: '--orders-port' },
          { port: 0, owner: 'broker', flag: '--broker-port' },
          { port: 0, owner: 'registry', flag: '--registry-port' },
        ],
        '127.0.0.1',
      ),
    ).resolves.toBeUndefined();
  });
});
