/**
 * Every port `shoal dev` will serve, checked before anything starts. A service that finds its port taken
 * exits, is restarted, exits again: a loop of crash reports that buries the one useful sentence. Checked up
 * front, a taken port is that sentence, naming the port, what wanted it and the flag that moves it, while
 * nothing is running yet.
 *
 * A check is a bind and an immediate close on the address the server will use. Something may still take a
 * port between the check and the real listen; then the server's own EADDRINUSE error is the report.
 */
import { createServer } from 'node:net';
import { ShoalError } from '@shoal/core';

export interface PlannedPort {
  port: number;
  /** What listens there: `broker`, `registry`, a service's name. */
  owner: string;
  /** The flag that changes it. */
  flag: string;
}

/** Rejects a port planned twice, then a port already in use on `host`; port 0 (any free port) is never checked. */
export async function assertPortsFree(planned: readonly PlannedPort[], host: string): Promise<void> {
  const fixed = planned.filter((entry) => entry.port !== 0);
  for (const [index, entry] of fixed.entries()) {
    const other = fixed.slice(0, index).find((earlier) => earlier.port === entry.port);
    if (other !== undefined) {
      throw new ShoalError('SHOAL_CONFIG_INVALID', `port ${entry.port} is planned for both ${other.owner} and ${entry.owner}: give one of them another with ${entry.flag} or ${other.flag}`);
    }
  }
  for (const entry of fixed) {
    const problem = await bindProblem(entry.port, host);
    if (problem === 'EADDRINUSE') {
      throw new ShoalError('SHOAL_PORT_IN_USE', `port ${entry.port} (${entry.owner}) on ${host} is already in use: stop what holds it or choose another with ${entry.flag}`, {
        details: { port: entry.port, owner: entry.owner, flag: entry.flag },
      });
    }
    if (problem !== undefined) {
      throw new ShoalError('SHOAL_PORT_IN_USE', `port ${entry.port} (${entry.owner}) on ${host} cannot be used (${problem}): choose another with ${entry.flag}`, {
        details: { port: entry.port, owner: entry.owner, flag: entry.flag },
      });
    }
  }
}

/** The error code of listening on `host:port`, or undefined when it can be listened on. */
function bindProblem(port: number, host: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}
