/**
 * The benchmark's micrologic, in a process of its own as in production: answers every OrderShipped with one
 * PointsAwarded and changes no state (the reaction the in-process TypeScript baseline makes). PORT is its port.
 */
import { createServer } from 'node:http';
import { pointsOf } from './points-reaction.js';

const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    if (request.method === 'GET') return void response.writeHead(200).end();
    const { orderId, customerId, shippedAt } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { orderId: string; customerId: string; shippedAt: number };
    const body = JSON.stringify({ events: [{ type: 'shoal.loyalty.PointsAwarded', subject: orderId, data: pointsOf(orderId, customerId, shippedAt) }] });
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PORT), '127.0.0.1', () => process.send?.('listening'));

