/**
 * A micrologic played by the test: a real HTTP server on a free port that records every delivery (its
 * CloudEvent headers and JSON data) and answers what the test's `answer` function says, so a test sees the
 * sidecar's deliveries as any micrologic would.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { onTestFinished } from 'vitest';

export interface Delivery {
  path: string;
  headers: IncomingHttpHeaders;
  /** The body parsed as JSON. */
  data: unknown;
  /** `ce-id`. */
  id: string;
  /** `ce-type`. */
  type: string;
}

/**
 * What the micrologic answers: a status and an optional JSON body, or `'hang'` (never answers). `after` runs
 * once the answer has been written to the socket (e.g. to kill the sidecar before it can commit it).
 */
export type Reply = { status: number; body?: unknown; after?: () => void } | 'hang';

export interface TestMicrologic {
  url: string;
  port: number;
  deliveries: Delivery[];
  /** Replaces the answer function. Default: 204 to everything. */
  answer(reply: (delivery: Delivery) => Reply | Promise<Reply>): void;
  /** Whether GET /health answers 200. Default true. */
  healthy: boolean;
  /** Stops listening (connections refused) until start() again on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function startTestMicrologic(port = 0): Promise<TestMicrologic> {
  let reply: (delivery: Delivery) => Reply | Promise<Reply> = () => ({ status: 204 });
  let server: Server | undefined;
  const micrologic: TestMicrologic = {
    url: '',
    port,
    deliveries: [],
    healthy: true,
    answer(next) {
      reply = next;
    },
    async start() {
      server = createServer((request, response) => {
        const chunks: Buffer[] = [];
        request.on('data', (chunk: Buffer) => chunks.push(chunk));
        request.on('end', () => {
          if (request.method === 'GET') {
            response.writeHead(micrologic.healthy ? 200 : 503).end();
            return;
          }
          const text = Buffer.concat(chunks).toString('utf8');
          const delivery: Delivery = {
            path: request.url ?? '',
            headers: request.headers,
            data: text === '' ? undefined : (JSON.parse(text) as unknown),
            id: String(request.headers['ce-id']),
            type: String(request.headers['ce-type']),
          };
          micrologic.deliveries.push(delivery);
          void Promise.resolve(reply(delivery)).then((answer) => {
            if (answer === 'hang') return;
            const body = answer.body === undefined ? '' : JSON.stringify(answer.body);
            if (answer.after !== undefined) response.once('finish', answer.after);
            response.writeHead(answer.status, body === '' ? {} : { 'content-type': 'application/json' }).end(body);
          });
        });
      });
      await new Promise<void>((resolve) => server!.listen(micrologic.port, '127.0.0.1', resolve));
      micrologic.port = (server.address() as AddressInfo).port;
      micrologic.url = `http://127.0.0.1:${micrologic.port}`;
    },
    async stop() {
      const closing = server;
      server = undefined;
      if (closing === undefined) return;
      closing.closeAllConnections();
      await new Promise<void>((resolve) => closing.close(() => resolve()));
    },
  };
  await micrologic.start();
  onTestFinished(() => micrologic.stop());
  return micrologic;
}
