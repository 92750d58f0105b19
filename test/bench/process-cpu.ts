/**
 * CPU seconds of other processes, from Linux's `/proc/<pid>/stat`: where the time of a phase went across the
 * processes `shoal dev` runs (each service, and shoal dev itself, which holds the broker and the registry).
 * Readings are taken while the processes run; a process that restarted in between (another pid) or that
 * cannot be read (not Linux) gives no figure rather than a wrong one.
 */
import { readFileSync } from 'node:fs';

/** Linux's USER_HZ: /proc reports times in these ticks, 100 on every mainstream architecture. */
const CLOCK_TICKS_PER_SECOND = 100;

/** utime + stime of `pid` in seconds, or undefined when it cannot be read. */
export function processCpuSeconds(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // `comm` (field 2) may hold spaces and parentheses: count fields after the last ')'. Field 3 is fields[0].
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[14 - 3]);
  const stime = Number(fields[15 - 3]);
  return Number.isFinite(utime) && Number.isFinite(stime) ? (utime + stime) / CLOCK_TICKS_PER_SECOND : undefined;
}

export type CpuReading = ReadonlyMap<string, { pid: number; seconds: number | undefined }>;

export function readCpu(pids: ReadonlyMap<string, number>): CpuReading {
  return new Map([...pids].map(([name, pid]) => [name, { pid, seconds: processCpuSeconds(pid) }]));
}

/** CPU seconds each process used between two readings; undefined where either is missing or the pid changed. */
export function cpuUsedBetween(before: CpuReading, after: CpuReading): Map<string, number | undefined> {
  const used = new Map<string, number | undefined>();
  for (const [name, start] of before) {
    const end = after.get(name);
    const valid = end !== undefined && end.pid === start.pid && end.seconds !== undefined && start.seconds !== undefined;
    used.set(name, valid ? end.seconds! - start.seconds! : undefined);
  }
  return used;
}
