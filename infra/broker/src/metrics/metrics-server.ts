/**
 * The broker's `GET /metrics` (Prometheus text format), on a port of its own, only when asked for
 * (`metricsPort`): a Kafka client cannot read it, and a broker without it opens one port only.
 */
import { createServer, type Server } from 'node:http';
import { ShoalError } from '@shoal/core';

export interface MetricsServer {
  /** `http://host:port/metrics`. */
  readonly url: string;
  close(): Promise<void>;
}

export async function startMetricsServer(port: number, host: string, advertisedHost: string, text: () => string): Promise<MetricsServer> {
  const server: Server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics is served here\n');
      return;
    }
    response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(text());
  });
  const bound = await new Promise<number>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new ShoalError('SHOAL_PORT_IN_USE', `port ${port} on ${host} is already in use: stop what holds it or choose another with --metrics-port`, { cause: error }) : error),
    );
    server.listen(port, host, () => resolve((server.address() as { port: number }).port));
  });
  return {
    url: `http://${advertisedHost}:${bound}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
