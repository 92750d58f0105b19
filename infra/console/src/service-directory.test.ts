import { createServer } from 'node:http';
import { describe, expect, it, onTestFinished } from 'vitest';
import { freePort } from '@shoal/testing';
import { ServiceDirectory, parseServiceList } from './service-directory.js';

/** A listening HTTP server that answers every request with `body` and the path it was asked. */
async function answering(body: string): Promise<string> {
  const server = createServer((request, response) => {
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ body, path: request.url }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

describe('the console’s service directory', () => {
  it('takes a service named once per instance as one service with every instance’s URL', () => {
    expect(parseServiceList('orders=http://a:1, inventory=http://b:2/, orders=http://a:3')).toEqual([
      { name: 'orders', url: 'http://a:1', urls: ['http://a:1', 'http://a:3'] },
      { name: 'inventory', url: 'http://b:2', urls: ['http://b:2'] },
    ]);
    expect(() => parseServiceList('orders=http://a:1,orders=http://a:1/')).toThrow('orders is named twice with http://a:1');
  });

  it('asks the next instance when one cannot be reached, and names every instance when none can', async () => {
    const down = `http://127.0.0.1:${await freePort()}`;
    const up = await answering('second');
    const directory = new ServiceDirectory(parseServiceList(`orders=${down},orders=${up}`));
    expect(await directory.getJson('orders', '/admin/dlq')).toEqual({ value: { body: 'second', path: '/admin/dlq' } });

    const none = new ServiceDirectory(parseServiceList(`orders=${down}`));
    const answer = await none.getJson('orders', '/admin/dlq');
    expect(answer).toMatchObject({ problem: expect.stringContaining(`orders cannot be reached at ${down} (${down}: `) });
  });
});
