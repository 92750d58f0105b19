import { readFileSync } from 'node:fs';
import { startApacheKafka } from '@shoal/apache-kafka';
import type { BrokerProcess } from './broker-process.js';

/**
 * Apache Kafka (the pinned version, from the jars Maven resolved) as a benchmark target, behind the same
 * interface as the embedded broker's child process: bootstrap, CPU time, process id, time to first answer.
 * Its JVM gets a 1 GiB heap, what Kafka's own kafka-server-start.sh gives it.
 */
export async function startApacheKafkaTarget(options: { dataDir: string; heapMb: number }): Promise<BrokerProcess & { version: string }> {
  const kafka = await startApacheKafka({ dataDir: options.dataDir, heapMb: options.heapMb });
  return {
    bootstrap: kafka.bootstrap,
    pid: kafka.pid,
    version: kafka.version,
    msToFirstAnswer: kafka.msToFirstAnswer,
    cpuMicros: async () => processCpuMicros(kafka.pid),
    close: () => kafka.stop(),
  };
}

/** Clock ticks per second of /proc's CPU times: 100 on every Linux this runs on. */
const CLOCK_TICKS = 100;

/** User + system CPU time of process `pid` (all its threads), µs, from /proc/<pid>/stat. */
export function processCpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1e6) / CLOCK_TICKS;
}

/** Resident memory of process `pid` now and at its peak, bytes, from /proc/<pid>/status. */
export function residentMemory(pid: number): { rssBytes: number; peakBytes: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024;
  return { rssBytes: kib('VmRSS'), peakBytes: kib('VmHWM') };
}
