/** Plain-text report of the broker benchmark: aligned tables, goals printed beside the figures. */

export interface GoalCheck {
  text: string;
  met: boolean;
}

export interface ThroughputRow {
  workload: string;
  messages: number;
  seconds: number;
  /** Bytes of one record value; MB/s counts values only (1 MB = 10^6 bytes), not keys or framing. */
  valueBytes: number;
  /** Fractions of one core; absent where they do not apply (encode-only runs no broker). */
  brokerCpu?: number;
  clientCpu?: number;
  ratio?: number;
  goal?: GoalCheck;
  note?: string;
}

export interface LatencyRow {
  workload: string;
  messages: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  goal?: GoalCheck;
  note?: string;
}

interface Column {
  title: string;
  align: 'left' | 'right';
}

export function formatTable(columns: Column[], rows: string[][]): string {
  const widths = columns.map((column, i) => Math.max(column.title.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) =>
    columns
      .map((column, i) => {
        const cell = cells[i] ?? '';
        return column.align === 'right' ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!);
      })
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(columns.map((c) => c.title)), rule, ...rows.map(line)].join('\n');
}

const integer = (n: number) => Math.round(n).toLocaleString('en-US');
const fixed = (n: number, digits: number) => n.toFixed(digits);
const percent = (fraction: number | undefined) => (fraction === undefined ? '-' : `${Math.round(fraction * 100)}%`);
const verdict = (goal: GoalCheck | undefined) => (goal === undefined ? '' : goal.met ? 'met' : 'NOT MET');

export function messagesPerSecond(row: Pick<ThroughputRow, 'messages' | 'seconds'>): number {
  return row.seconds > 0 ? row.messages / row.seconds : 0;
}

export function formatThroughputTable(rows: ThroughputRow[]): string {
  const columns: Column[] = [
    { title: 'workload', align: 'left' },
    { title: 'messages', align: 'right' },
    { title: 'seconds', align: 'right' },
    { title: 'msg/s', align: 'right' },
    { title: 'MB/s', align: 'right' },
    { title: 'ratio', align: 'right' },
    { title: 'broker CPU', align: 'right' },
    { title: 'client CPU', align: 'right' },
    { title: 'goal', align: 'left' },
    { title: '', align: 'left' },
    { title: 'notes', align: 'left' },
  ];
  return formatTable(
    columns,
    rows.map((row) => {
      const rate = messagesPerSecond(row);
      return [
        row.workload,
        integer(row.messages),
        fixed(row.seconds, 2),
        integer(rate),
        fixed((rate * row.valueBytes) / 1e6, 1),
        row.ratio === undefined ? '' : fixed(row.ratio, 2),
        percent(row.brokerCpu),
        percent(row.clientCpu),
        row.goal?.text ?? '',
        verdict(row.goal),
        row.note ?? '',
      ];
    }),
  );
}

export function formatLatencyTable(rows: LatencyRow[]): string {
  const columns: Column[] = [
    { title: 'workload', align: 'left' },
    { title: 'messages', align: 'right' },
    { title: 'p50 ms', align: 'right' },
    { title: 'p99 ms', align: 'right' },
    { title: 'max ms', align: 'right' },
    { title: 'goal', align: 'left' },
    { title: '', align: 'left' },
    { title: 'notes', align: 'left' },
  ];
  return formatTable(
    columns,
    rows.map((row) => [
      row.workload,
      integer(row.messages),
      fixed(row.p50Ms, 2),
      fixed(row.p99Ms, 2),
      fixed(row.maxMs, 2),
      row.goal?.text ?? '',
      verdict(row.goal),
      row.note ?? '',
    ]),
  );
}

/** The value at quantile q (0..1] of ascending `sorted`, nearest-rank. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
