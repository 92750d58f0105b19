import { readFileSync } from 'node:fs';
import type { BrokerProcess } from './broker-process.js';

/**
 * A timed stretch of a workload: wall time, and the CPU the broker process and the client used in it,
 * as fractions of one core (1.0 = one core busy the whole time). A broker near 1.0 is the bottleneck
 * (it is single-threaded); a client near 1.0 means the load generator is.
 */
export interface Span {
  seconds: number;
  brokerCpu: number;
  /** undefined when the client's CPU cannot be read (kcat on a system without /proc). */
  clientCpu: number | undefined;
}

/**
 * Whose CPU counts as the client's: this process (kafkajs), or child processes that have exited and
 * been reaped during the span (kcat; Linux only, from /proc/self/stat).
 */
export type ClientCpuSource = 'this-process' | 'exited-children';

export interface SpanTimer {
  stop(): Promise<Span>;
}

/** Starts a span now: the wall clock and client CPU are read synchronously, the broker's over IPC. */
export function startSpan(broker: BrokerProcess, clientCpuSource: ClientCpuSource): SpanTimer {
  const wallStart = process.hrtime.bigint();
  const clientStart = clientCpuSeconds(clientCpuSource);
  const brokerStart = broker.cpuMicros();
  return {
    async stop() {
      const wallEnd = process.hrtime.bigint();
      const clientEnd = clientCpuSeconds(clientCpuSource);
      const brokerEnd = broker.cpuMicros();
      const seconds = Number(wallEnd - wallStart) / 1e9;
      const brokerCpu = (await brokerEnd) - (await brokerStart);
      return {
        seconds,
        brokerCpu: brokerCpu / 1e6 / seconds,
        clientCpu: clientStart === undefined || clientEnd === undefined ? undefined : (clientEnd - clientStart) / seconds,
      };
    },
  };
}

function clientCpuSeconds(source: ClientCpuSource): number | undefined {
  if (source === 'this-process') {
    const usage = process.cpuUsage();
    return (usage.user + usage.system) / 1e6;
  }
  return reapedChildrenCpuSeconds();
}

/** Linux's USER_HZ; /proc reports times in these ticks and it is 100 on every mainstream architecture. */
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * /proc/self/stat => pid (comm) state ... field 16 cutime, field 17 cstime (CPU of waited-for children).
 * `comm` may contain spaces and parentheses, so fields are counted after the last ')'.
 */
function reapedChildrenCpuSeconds(): number | undefined {
  let stat: string;
  try {
    stat = readFileSync('/proc/self/stat', 'utf8');
  } catch {
    return undefined;
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cutime = Number(fields[16 - 3]);
  const cstime = Number(fields[17 - 3]);
  return Number.isFinite(cutime) && Number.isFinite(cstime) ? (cutime + cstime) / CLOCK_TICKS_PER_SECOND : undefined;
}
