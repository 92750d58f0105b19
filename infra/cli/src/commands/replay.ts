import { parseArgs } from 'node:util';
import { ShoalError, sleep } from '@shoal/core';
import { parseTimestamp, type RebuildPartitionProgress, type RebuildProgress } from '@shoal/projections';
import { integerOption } from '../options.js';
import { paint } from '../output.js';
import { defaultPortsUsage, ServiceAdmin, serviceUrl } from '../service-admin.js';

/**
 * `shoal replay <service> <projection>`: rebuilds a projection of a running service. The service owns its
 * read-model files, so it does the work; this command asks it over its admin routes
 * (libs/projections/src/admin-routes.ts), then polls the rebuild's progress and renders it: a bar per
 * partition redrawn in place on a terminal, a plain line per partition that moved otherwise, and one summary
 * line. The routes' JSON is typed by the library's own types, so the compiler checks that this command reads
 * what the service writes.
 */
export const replayUsage = `Usage: shoal replay <service> <projection> [options]

Rebuilds a projection of a running service from the Kafka log without read downtime: the service builds a
new copy in a shadow database while the live one keeps serving reads and applying new events, and swaps it
in once it has caught up with the end offsets captured when the rebuild started. Progress per partition
(events, events/s, ETA) is shown until the swap.

Options:
  --from-beginning              replay every event still in the log (the default)
  --from-timestamp <time>       replay from each partition's first event at or after <time>: RFC 3339 with an
                                offset (2026-01-31T12:00:00Z) or milliseconds since the epoch
  --url <url>                   the service's base URL (default http://127.0.0.1:<its default port>)
  --no-wait                     start the rebuild and exit without following it
  --interval <ms>               how often progress is asked for (default 500)
  -h, --help                    show this help

${defaultPortsUsage()}
Exit codes: 0 swapped in (with --no-wait: started), 1 the rebuild failed or the service refused or cannot
be reached, 2 a usage error.
`;

export async function runReplay(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'from-beginning': { type: 'boolean' },
      'from-timestamp': { type: 'string' },
      url: { type: 'string' },
      'no-wait': { type: 'boolean' },
      interval: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(replayUsage);
    return 0;
  }
  const [service, projection, ...extra] = positionals;
  if (service === undefined || projection === undefined) throw new ShoalError('SHOAL_CONFIG_INVALID', 'name the service and the projection to rebuild');
  if (extra.length > 0) throw new ShoalError('SHOAL_CONFIG_INVALID', `unexpected argument '${extra[0]}'`);
  if (values['from-beginning'] && values['from-timestamp'] !== undefined) {
    throw new ShoalError('SHOAL_CONFIG_INVALID', 'give --from-beginning or --from-timestamp, not both');
  }
  const body = values['from-timestamp'] === undefined ? { from: 'beginning' } : { fromTimestamp: timestampOption(values['from-timestamp']) };
  const intervalMs = integerOption(values.interval, '--interval', { min: 10, max: 60_000 }) ?? 500;
  const admin = new ServiceAdmin(service, serviceUrl(service, values.url));

  const path = `/admin/projections/${encodeURIComponent(projection)}`;
  const started = await admin.request<RebuildProgress>('POST', `${path}/rebuild`, body);
  const what = `${service}/${projection} v${started.version}`;
  if (values['no-wait']) {
    process.stdout.write(`started rebuilding ${what} (generation ${started.generation}) ${describeFrom(started.from)}: ${started.total} events to replay; follow it at ${admin.url}${path}\n`);
    return 0;
  }

  const view = process.stdout.isTTY ? new TerminalView(process.stdout) : new LineView(process.stdout);
  view.header(`rebuilding ${what} (generation ${started.generation}) ${describeFrom(started.from)}: ${started.total} events to replay`);
  const interrupted = new AbortController();
  const onSignal = () => interrupted.abort();
  process.once('SIGINT', onSignal);
  let progress = started;
  try {
    view.update(progress);
    while (progress.state === 'building' && !interrupted.signal.aborted) {
      await sleep(intervalMs, interrupted.signal);
      if (interrupted.signal.aborted) break;
      const status = await admin.request<{ rebuild: RebuildProgress | null }>('GET', path);
      const latest = status.rebuild;
      if (latest === null || latest.generation !== started.generation) {
        throw new ShoalError('SHOAL_PROJECTION_REBUILDING', `${service} no longer reports rebuild ${started.generation} of ${projection}${latest === null ? '' : ` (it shows generation ${latest.generation})`}`);
      }
      progress = latest;
      view.update(progress);
    }
  } finally {
    process.off('SIGINT', onSignal);
  }
  if (interrupted.signal.aborted) {
    process.stderr.write(`stopped following; the rebuild goes on in ${service} (${admin.url}${path})\n`);
    return 130;
  }
  return summarize(what, progress);
}

function timestampOption(value: string): number {
  try {
    return parseTimestamp(value);
  } catch (error) {
    throw new ShoalError('SHOAL_CONFIG_INVALID', `--from-timestamp: ${(error as Error).message}`);
  }
}

function describeFrom(from: RebuildProgress['from']): string {
  return from === 'beginning' ? 'from the beginning' : `from ${new Date(from.timestamp).toISOString()}`;
}

/** The last line: what was replayed and how fast; the exit code. */
function summarize(what: string, progress: RebuildProgress): number {
  const seconds = progress.elapsedMs / 1000;
  if (progress.state === 'swapped') {
    process.stdout.write(
      `${paint('green', 'swapped in')} ${what} (generation ${progress.generation}): ${progress.done} events replayed in ${seconds.toFixed(1)}s (${Math.round(progress.eventsPerSecond)} events/s)\n`,
    );
    return 0;
  }
  const reason = progress.error === null ? '' : `: ${progress.error.code}: ${progress.error.message}`;
  process.stderr.write(`${paint('red', `rebuild ${progress.state}`, process.stderr)} ${what} (generation ${progress.generation}) after ${progress.done} of ${progress.total} events${reason}; the live model is unchanged\n`);
  return 1;
}

/** `12s`, `3m 05s`, `1h 02m`; `-` when unknown. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null) return '-';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function percent(done: number, total: number): number {
  return total === 0 ? 100 : Math.floor((100 * done) / total);
}

/** What a line or a bar shows of a partition or of the whole rebuild. */
type Counts = Pick<RebuildPartitionProgress, 'done' | 'total' | 'eventsPerSecond' | 'etaSeconds'>;

/** One partition's progress as a plain line: `orders.order[0] 1200/5000 events (24%) 3000 events/s ETA 2s`. */
export function progressLine(partition: Pick<RebuildPartitionProgress, 'topic' | 'partition'> & Counts): string {
  return `${partition.topic}[${partition.partition}] ${partition.done}/${partition.total} events (${percent(partition.done, partition.total)}%) ${Math.round(partition.eventsPerSecond)} events/s ETA ${formatDuration(partition.etaSeconds)}`;
}

/** A labelled progress bar, for a terminal: `orders.order[0] ██████░░░░  52%  10,400/20,000 events  8,320 events/s  ETA 2s`. */
export function progressBar(label: string, counts: Counts, labelWidth: number, barWidth = 24): string {
  const filled = Math.round((counts.total === 0 ? 1 : counts.done / counts.total) * barWidth);
  return [
    label.padEnd(labelWidth),
    `${'█'.repeat(filled)}${'░'.repeat(barWidth - filled)}`,
    `${String(percent(counts.done, counts.total)).padStart(3)}% `,
    `${counts.done.toLocaleString('en')}/${counts.total.toLocaleString('en')} events `,
    `${Math.round(counts.eventsPerSecond).toLocaleString('en')} events/s `,
    `ETA ${formatDuration(counts.etaSeconds)}`,
  ].join(' ');
}

interface ProgressView {
  header(text: string): void;
  update(progress: RebuildProgress): void;
}

/** For pipes and logs: a line per partition whose count moved since it was last printed. */
class LineView implements ProgressView {
  private readonly printed = new Map<string, number>();

  constructor(private readonly out: NodeJS.WritableStream) {}

  header(text: string): void {
    this.out.write(`${text}\n`);
  }

  update(progress: RebuildProgress): void {
    for (const partition of progress.partitions) {
      const key = `${partition.topic}\u0000${partition.partition}`;
      if (this.printed.get(key) === partition.done) continue;
      this.printed.set(key, partition.done);
      this.out.write(`${progressLine(partition)}\n`);
    }
  }
}

/** For people: a bar per partition and a total, redrawn in place. */
class TerminalView implements ProgressView {
  private drawn = 0;

  constructor(private readonly out: NodeJS.WriteStream) {}

  header(text: string): void {
    this.out.write(`${paint('bold', text)}\n`);
  }

  update(progress: RebuildProgress): void {
    const label = (p: RebuildPartitionProgress) => `${p.topic}[${p.partition}]`;
    const labelWidth = Math.max(5, ...progress.partitions.map((p) => label(p).length));
    const lines = [...progress.partitions.map((p) => progressBar(label(p), p, labelWidth)), paint('dim', progressBar('total', progress, labelWidth))];
    // Up to the first line drawn last time, then each line cleared and rewritten.
    const rewind = this.drawn > 0 ? `\u001b[${this.drawn}A` : '';
    this.out.write(`${rewind}${lines.map((line) => `\u001b[2K${line}\n`).join('')}`);
    this.drawn = lines.length;
  }
}
