/**
 * The e2e benchmark's report: one table of figures, each beside its baseline from the same run, the ratio
 * between them, the goal where there is one and whether it was met; then where the CPU went during the
 * throughput phase and what the broker was asked, per order. Pure formatting of what e2e.bench.ts measured.
 */
import { formatTable, quantile } from '../../infra/broker/bench/report.js';
import { count } from '../../libs/outbox/bench/bench-platform.js';
import type { RequestFigures } from './broker-requests.js';

/**
 * At `atRate` orders/s: p50 at most `p50Ms`, p99 at most `p99OfFloor` times the raw 4-hop p99 of the same run.
 * CPU: every process's, from the first POST of the throughput phase until the platform is idle.
 */
export const goals = { ordersPerSecond: 800, cpuMsPerOrder: 2.5, atRate: 100, p50Ms: 25, p99OfFloor: 1.5, tracingCost: 0.15, postgresOfSqlite: 0.6 } as const;

/** Event hops from POST /orders to OrderConfirmed: OrderPlaced, StockReserved, PaymentAuthorized, OrderConfirmed. */
export const HOPS = 4;

export interface ThroughputFigures {
  orders: number;
  concurrency: number;
  /** First POST sent -> last OrderConfirmed arrived. */
  seconds: number;
  /** First POST sent -> last POST answered. */
  postSeconds: number;
  /** Last POST answered -> last OrderConfirmed arrived, ms. */
  drainMs: number;
  /** Mean over orders of POST answered -> its OrderConfirmed arrived, ms. */
  meanAnswerToConfirmMs: number;
  /** Orders answered 201 that were not confirmed within the time limit. */
  missing: number;
}

export interface CpuFigure {
  process: string;
  pid: number;
  /** CPU seconds from the first POST to the last confirmation. */
  untilConfirmed: number | undefined;
  /** CPU seconds from the first POST until the platform was idle again (the orders' whole choreography). */
  untilIdle: number | undefined;
}

export interface LatencyFigures {
  rate: number;
  seconds: number;
  /** Scheduled send -> OrderConfirmed arrival, ms ascending; an order never confirmed counts as Infinity. */
  samplesMs: number[];
  missing: number;
  maxLateMs: number;
  /**
   * Per event of the flow, ms ascending over the orders that saw it: from its cause (the predecessor's arrival
   * here, or the scheduled send) to its arrival here, and that span split at the event's ce_time.
   */
  steps: Array<{ event: string; by: string; samplesMs: number[]; untilCreatedMs: number[]; afterCreatedMs: number[] }>;
  /** Scheduled send -> POST answered, ms ascending. */
  answersMs: number[];
  requests: RequestFigures;
  /** CPU seconds per process (CpuFigure.process) from the first POST until idle; undefined where unreadable. */
  cpu: ReadonlyMap<string, number | undefined>;
}

export interface BaselineFigures {
  hop: { rate: number; seconds: number; samplesMs: number[]; missing: number };
  /** CPU seconds of this process and shoal dev's (the broker) during the chain; undefined when unreadable. */
  chain: { orders: number; seconds: number; missing: number; cpuSeconds: number | undefined };
}

export interface E2eFigures {
  throughput: ThroughputFigures;
  /** Of the phase above: wall seconds from the first POST to idle, for the CPU shares. */
  idleSeconds: number;
  cpu: CpuFigure[];
  latency: LatencyFigures[];
  baselines: BaselineFigures;
  /** The throughput phase's, then each latency phase's. */
  requests: Array<RequestFigures & { phase: string }>;
}

const ms = (value: number) => (Number.isFinite(value) ? `${value.toFixed(1)} ms` : 'never');
const times = (value: number) => (Number.isFinite(value) ? `${value.toFixed(2)}x` : '-');
const rate = (value: number) => `${count(value)}/s`;
const verdict = (met: boolean | undefined) => (met === undefined ? '' : met ? 'met' : 'NOT MET');

interface Row {
  figure: string;
  measured: string;
  baseline?: string;
  ratio?: string;
  goal?: string;
  met?: boolean;
}

export function figuresTable(figures: E2eFigures): { table: string; goalsMet: number; goalsChecked: number } {
  const { throughput, baselines } = figures;
  const sustained = throughput.orders / throughput.seconds;
  const chainRate = baselines.chain.orders / baselines.chain.seconds;
  const complete = throughput.missing === 0 && baselines.chain.missing === 0;
  const cpuPerOrder = cpuMsPerOrder(figures, (row) => row.untilIdle);
  const chainCpu = baselines.chain.cpuSeconds === undefined ? undefined : (baselines.chain.cpuSeconds * 1000) / baselines.chain.orders;
  const rows: Row[] = [
    {
      figure: `sustained throughput, ${count(throughput.orders)} orders, ${throughput.concurrency} in flight`,
      measured: `${rate(sustained)}`,
      baseline: `${rate(chainRate)} raw chain`,
      ratio: times(sustained / chainRate),
      goal: `>= ${goals.ordersPerSecond}/s`,
      met: complete && sustained >= goals.ordersPerSecond,
    },
    { figure: '  POST /orders alone', measured: rate(throughput.orders / throughput.postSeconds) },
    { figure: '  last POST answered -> last confirmed', measured: ms(throughput.drainMs) },
    { figure: '  mean POST answered -> confirmed', measured: ms(throughput.meanAnswerToConfirmMs) },
    {
      figure: 'CPU per order, all processes, to idle',
      measured: cpuPerOrder === undefined ? '-' : `${cpuPerOrder.toFixed(2)} ms`,
      baseline: chainCpu === undefined ? undefined : `${chainCpu.toFixed(2)} ms raw chain`,
      ratio: cpuPerOrder === undefined || chainCpu === undefined || chainCpu === 0 ? undefined : times(cpuPerOrder / chainCpu),
      goal: `<= ${goals.cpuMsPerOrder} ms`,
      met: cpuPerOrder !== undefined && cpuPerOrder <= goals.cpuMsPerOrder,
    },
  ];
  const throughputRequests = figures.requests[0];
  if (throughputRequests !== undefined) rows.push({ figure: '  broker requests per order (platform)', measured: perOrder(total(throughputRequests.byApi), throughputRequests.orders) });
  const hop = baselines.hop.samplesMs;
  for (const run of figures.latency) {
    const at = `at ${count(run.rate)}/s for ${run.seconds} s`;
    const percentiles: Array<[string, number]> = [
      ['p50', 0.5],
      ['p90', 0.9],
      ['p99', 0.99],
      ['max', 1],
    ];
    for (const [name, q] of percentiles) {
      const value = quantile(run.samplesMs, q);
      const floor = HOPS * quantile(hop, q);
      const atGoalRate = run.rate === goals.atRate;
      const goal =
        atGoalRate && name === 'p50'
          ? { goal: `<= ${goals.p50Ms} ms`, met: value <= goals.p50Ms }
          : atGoalRate && name === 'p99'
            ? { goal: `<= ${goals.p99OfFloor}x the floor`, met: value <= goals.p99OfFloor * floor }
            : {};
      rows.push({
        figure: name === 'p50' ? `place -> confirmed ${name}, ${at}` : `  ${name}`,
        measured: ms(value),
        baseline: name === 'max' ? undefined : `${ms(floor)} (${HOPS} hops)`,
        ratio: name === 'max' ? undefined : times(value / floor),
        ...goal,
      });
    }
  }
  const checked = rows.filter((row) => row.met !== undefined);
  const table = formatTable(
    [
      { title: 'figure', align: 'left' },
      { title: 'measured', align: 'right' },
      { title: 'baseline (same run)', align: 'right' },
      { title: 'ratio', align: 'right' },
      { title: 'goal', align: 'left' },
      { title: '', align: 'left' },
    ],
    rows.map((row) => [row.figure, row.measured, row.baseline ?? '', row.ratio ?? '', row.goal ?? '', verdict(row.met)]),
  );
  return { table, goalsMet: checked.filter((row) => row.met).length, goalsChecked: checked.length };
}

/** CPU ms per order of the throughput phase over every process, when every process could be read. */
function cpuMsPerOrder(figures: E2eFigures, pick: (row: CpuFigure) => number | undefined): number | undefined {
  const seconds = figures.cpu.map(pick);
  if (seconds.some((value) => value === undefined)) return undefined;
  return ((seconds as number[]).reduce((sum, value) => sum + value, 0) * 1000) / figures.throughput.orders;
}

const total = (counts: ReadonlyMap<string, number>) => [...counts.values()].reduce((sum, n) => sum + n, 0);
const perOrder = (requests: number, orders: number) => (orders === 0 ? '-' : (requests / orders).toFixed(2));

/**
 * Requests per order by Kafka API, one column per phase (most requested first), then the platform's total,
 * each client's share and the benchmark's own.
 */
export function requestsTable(figures: E2eFigures): string {
  const phases = figures.requests;
  const apis = new Map<string, number>();
  const clients = new Map<string, number>();
  for (const phase of phases) {
    for (const [api, requests] of phase.byApi) apis.set(api, (apis.get(api) ?? 0) + requests / Math.max(phase.orders, 1));
    for (const [client, requests] of phase.byClient) clients.set(client, (clients.get(client) ?? 0) + requests / Math.max(phase.orders, 1));
  }
  const byShare = (counts: Map<string, number>) => [...counts].sort((a, b) => b[1] - a[1]).map(([name]) => name);
  const rows: string[][] = [
    ...byShare(apis).map((api) => [api, ...phases.map((phase) => perOrder(phase.byApi.get(api) ?? 0, phase.orders))]),
    ['total', ...phases.map((phase) => perOrder(total(phase.byApi), phase.orders))],
    ...byShare(clients).map((client) => [`  of which ${client}`, ...phases.map((phase) => perOrder(phase.byClient.get(client) ?? 0, phase.orders))]),
    ['(the benchmark\'s own clients)', ...phases.map((phase) => perOrder(phase.bench, phase.orders))],
  ];
  return formatTable([{ title: 'API', align: 'left' }, ...phases.map((phase) => ({ title: `${phase.phase} (${count(phase.orders)} orders)`, align: 'right' as const }))], rows);
}

/** What the baselines were, in a line each under the table. */
export function baselineLines(baselines: BaselineFigures): string[] {
  const { hop, chain } = baselines;
  return [
    `raw chain: ${count(chain.orders)} records produced in batches of up to 500, then 3 consume -> produce relays over 4 scratch topics (kafkajs, idempotent producers, acks -1; after 500 untimed): ${chain.seconds.toFixed(2)} s${chain.missing > 0 ? `; ${count(chain.missing)} NEVER ARRIVED` : ''}`,
    `raw hop: single records at ${count(hop.rate)}/s, produce -> consume, for ${hop.seconds} s after 1 s untimed: p50 ${ms(quantile(hop.samplesMs, 0.5))}, p99 ${ms(quantile(hop.samplesMs, 0.99))}, max ${ms(quantile(hop.samplesMs, 1))}${hop.missing > 0 ? `; ${count(hop.missing)} NEVER ARRIVED` : ''}; x${HOPS} = the latency floor`,
  ];
}

export function cpuTable(figures: E2eFigures): string {
  const { throughput } = figures;
  const share = (seconds: number | undefined, wall: number) => (seconds === undefined ? '-' : `${Math.round((seconds / wall) * 100)}%`);
  const cpu = (seconds: number | undefined) => (seconds === undefined ? '-' : seconds.toFixed(2));
  const perOrder = (seconds: number | undefined) => (seconds === undefined ? '-' : ((seconds * 1000) / throughput.orders).toFixed(2));
  const total = (pick: (row: CpuFigure) => number | undefined) => figures.cpu.reduce((sum, row) => sum + (pick(row) ?? 0), 0);
  const rows = [...figures.cpu, { process: 'total', pid: 0, untilConfirmed: total((row) => row.untilConfirmed), untilIdle: total((row) => row.untilIdle) }];
  const atRate = (run: LatencyFigures, process: string) => {
    const seconds = process === 'total' ? [...run.cpu.values()].reduce<number | undefined>((sum, value) => (sum === undefined || value === undefined ? undefined : sum + value), 0) : run.cpu.get(process);
    return seconds === undefined || run.samplesMs.length === 0 ? '-' : ((seconds * 1000) / run.samplesMs.length).toFixed(2);
  };
  return formatTable(
    [
      { title: 'process', align: 'left' },
      { title: 'pid', align: 'right' },
      { title: 'CPU s to last confirmed', align: 'right' },
      { title: 'of a core', align: 'right' },
      { title: 'CPU s to idle', align: 'right' },
      { title: 'of a core', align: 'right' },
      { title: 'CPU ms/order', align: 'right' },
      ...figures.latency.map((run) => ({ title: `ms/order at ${count(run.rate)}/s`, align: 'right' as const })),
    ],
    rows.map((row) => [
      row.process,
      row.pid === 0 ? '' : String(row.pid),
      cpu(row.untilConfirmed),
      share(row.untilConfirmed, throughput.seconds),
      cpu(row.untilIdle),
      share(row.untilIdle, figures.idleSeconds),
      perOrder(row.untilIdle),
      ...figures.latency.map((run) => atRate(run, row.process)),
    ]),
  );
}

export function stepsTable(run: LatencyFigures): string {
  const mean = (samples: readonly number[]) => samples.reduce((sum, ms) => sum + ms, 0) / samples.length;
  const pair = (samples: readonly number[]) => (samples.length === 0 ? '-' : `${ms(quantile(samples, 0.5))} / ${ms(mean(samples))}`);
  const row = (step: string, by: string, samples: readonly number[], untilCreated?: readonly number[], afterCreated?: readonly number[]) => [
    step,
    by,
    ms(quantile(samples, 0.5)),
    ms(quantile(samples, 0.99)),
    ms(mean(samples)),
    untilCreated === undefined ? '' : pair(untilCreated),
    afterCreated === undefined ? '' : pair(afterCreated),
  ];
  return formatTable(
    [
      { title: 'event', align: 'left' },
      { title: 'emitted by', align: 'left' },
      { title: 'p50', align: 'right' },
      { title: 'p99', align: 'right' },
      { title: 'mean', align: 'right' },
      { title: 'to ce_time p50 / mean', align: 'right' },
      { title: 'ce_time to here p50 / mean', align: 'right' },
    ],
    [
      row('(POST answered)', 'orders (HTTP)', run.answersMs),
      ...run.steps.map((step) => row(step.event, step.by, step.samplesMs, step.untilCreatedMs, step.afterCreatedMs)),
      row('total', 'scheduled send -> OrderConfirmed here', run.samplesMs),
    ],
  );
}

/** One side of `--tracing`: the throughput phase with tracing off or on. */
export interface TracingSide {
  name: string;
  throughput: ThroughputFigures;
  /** CPU of every process, to idle, per order; undefined when unreadable. */
  cpuMsPerOrder: number | undefined;
  /** Each process's CPU in the phase. */
  cpu: CpuFigure[];
  /** Spans the receiver got during the phase. */
  spans: number;
}

/** Tracing off against on: the rate of each, and what tracing costs, against the goal. */
export function tracingTable(sides: readonly TracingSide[]): string {
  const off = sides[0]!;
  const offRate = off.throughput.orders / off.throughput.seconds;
  const rows = sides.map((side) => {
    const sideRate = side.throughput.orders / side.throughput.seconds;
    const cost = 1 - sideRate / offRate;
    const isBaseline = side === off;
    return [
      side.name,
      rate(sideRate),
      side.cpuMsPerOrder === undefined ? '-' : `${side.cpuMsPerOrder.toFixed(2)} ms`,
      isBaseline ? '-' : count(side.spans),
      isBaseline ? '-' : `${(side.spans / side.throughput.orders).toFixed(1)}`,
      isBaseline ? 'baseline' : times(sideRate / offRate),
      isBaseline ? '' : `${(cost * 100).toFixed(1)}%`,
      isBaseline ? '' : `<= ${goals.tracingCost * 100}%`,
      isBaseline ? '' : verdict(side.throughput.missing === 0 && cost <= goals.tracingCost),
    ];
  });
  const perProcess = formatTable(
    [{ title: 'CPU ms per order, to idle', align: 'left' }, ...sides.map((side) => ({ title: side.name, align: 'right' as const }))],
    off.cpu.map((row) => [
      row.process,
      ...sides.map((side) => {
        const seconds = side.cpu.find((other) => other.process === row.process)?.untilIdle;
        return seconds === undefined ? '-' : ((seconds * 1000) / side.throughput.orders).toFixed(2);
      }),
    ]),
  );
  return `${formatTable(
    [
      { title: 'platform', align: 'left' },
      { title: 'orders/s', align: 'right' },
      { title: 'CPU/order', align: 'right' },
      { title: 'spans', align: 'right' },
      { title: 'spans/order', align: 'right' },
      { title: 'vs off', align: 'right' },
      { title: 'cost', align: 'right' },
      { title: 'goal', align: 'left' },
      { title: '', align: 'left' },
    ],
    rows,
  )}\n\n${perProcess}`;
}

/** One side of `--postgres`: the throughput phase on one store, with one or several instances of each service. */
export interface StoreSide {
  name: string;
  /** Whether the goal applies: PostgreSQL with one instance of each service, against SQLite's figure. */
  judged: boolean;
  throughput: ThroughputFigures;
  cpuMsPerOrder: number | undefined;
}

/** SQLite (the first side) against PostgreSQL with one instance each, and with replicas: rates, CPU and the goal. */
export function storeTable(sides: readonly StoreSide[]): string {
  const sqlite = sides[0]!;
  const sqliteRate = sqlite.throughput.orders / sqlite.throughput.seconds;
  return formatTable(
    [
      { title: 'store', align: 'left' },
      { title: 'orders/s', align: 'right' },
      { title: 'CPU/order', align: 'right' },
      { title: 'vs SQLite', align: 'right' },
      { title: 'goal', align: 'left' },
      { title: '', align: 'left' },
    ],
    sides.map((side) => {
      const ratio = side.throughput.orders / side.throughput.seconds / sqliteRate;
      return [
        side.name,
        rate(side.throughput.orders / side.throughput.seconds),
        side.cpuMsPerOrder === undefined ? '-' : `${side.cpuMsPerOrder.toFixed(2)} ms`,
        side === sqlite ? 'baseline' : times(ratio),
        side.judged ? `>= ${goals.postgresOfSqlite}x` : '',
        side.judged ? verdict(side.throughput.missing === 0 && ratio >= goals.postgresOfSqlite) : '',
      ];
    }),
  );
}
