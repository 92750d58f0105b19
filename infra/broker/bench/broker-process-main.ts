import { startBroker } from '../src/index.js';
import type { ChildMessage, ParentMessage } from './broker-process.js';

/** Entry point of the broker child process; see broker-process.ts for the IPC messages. */
const dataDir = process.argv[2];
if (dataDir === undefined || process.send === undefined) {
  process.stderr.write('broker-process-main: run through startBrokerProcess (needs a data dir and an IPC channel)\n');
  process.exit(2);
}

const send = (message: ChildMessage) => process.send?.(message);
const broker = await startBroker({ port: 0, dataDir, logLevel: 'warn' });

let closing = false;
async function shutdown(): Promise<void> {
  if (closing) return;
  closing = true;
  await broker.close();
  // process.exit, not a drained event loop: clients may still hold sockets, and --cpu-prof writes on exit.
  process.exit(0);
}

process.on('message', (message: ParentMessage) => {
  if (message.type === 'cpu') {
    const usage = process.cpuUsage();
    send({ type: 'cpu', id: message.id, micros: usage.user + usage.system });
  } else if (message.type === 'close') {
    void shutdown();
  }
});
process.on('disconnect', () => void shutdown());
send({ type: 'ready', bootstrap: broker.bootstrap });
