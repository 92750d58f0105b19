/**
 * The map: every service seen, the event types it emits, and an arrow per reaction (cause's service ->
 * reacting service, labelled with the cause's type, reactions, rate and hop latency), laid out by dagre;
 * then the drift findings and the edges as a table. Polled every second; redrawn only when something changed.
 */
import { graphlib, layout } from '@dagrejs/dagre';
import { getJson } from './api.js';
import { el, ms, shortType, svg, table } from './dom.js';

interface MapAnswer {
  changes: string;
  services: Array<{ name: string; emits: Array<{ type: string; count: number; perSecond: number }> }>;
  edges: Array<{ from: string; type: string; to: string; count: number; perSecond: number; p50Ms?: number; p95Ms?: number }>;
  reads: Array<{ from: string; topic: string; to: string; group: string }>;
  drift: Array<{ kind: string; message: string }>;
  index: { events: number; maxEvents: number; evicted: number };
}

const CHAR = 7;
const LINE = 15;

export function mapPage(root: HTMLElement): () => void {
  let drawn = '';
  let driftText = '';
  const picture = el('div', { id: 'map' });
  const drift = el('div', { id: 'drift' });
  const edges = el('div', { id: 'edges' });
  root.replaceChildren(el('h2', {}, 'Services and reactions'), picture, el('h2', {}, 'Drift'), drift, el('h2', {}, 'Edges'), edges);
  const refresh = async () => {
    const { body } = await getJson<MapAnswer>('/api/map');
    const text = JSON.stringify(body.drift);
    if (body.changes !== drawn) {
      drawn = body.changes;
      picture.replaceChildren(body.services.length === 0 ? el('p', { class: 'muted' }, 'No event seen yet.') : drawMap(body));
      edges.replaceChildren(
        table(
          ['from', 'event type', 'to', 'reactions', 'per second', 'hop p50', 'hop p95'],
          body.edges.map((edge) => [edge.from, edge.type, edge.to, edge.count, edge.perSecond.toFixed(2), ms(edge.p50Ms), ms(edge.p95Ms)]),
          [3, 4, 5, 6],
        ),
      );
    }
    if (text !== driftText) {
      driftText = text;
      drift.replaceChildren(body.drift.length === 0 ? el('p', { class: 'muted' }, 'None: what flows is what is declared.') : el('ul', { class: 'drift' }, ...body.drift.map((finding) => el('li', { 'data-drift': finding.kind }, el('strong', {}, finding.kind), ' ', finding.message))));
    }
  };
  return poll(refresh, 1000);
}

function drawMap(answer: MapAnswer): SVGElement {
  const graph = new graphlib.Graph({ multigraph: true });
  graph.setGraph({ rankdir: 'LR', nodesep: 40, ranksep: 160, edgesep: 20, marginx: 20, marginy: 20 });
  graph.setDefaultEdgeLabel(() => ({}));
  for (const service of answer.services) {
    const lines = [service.name, ...service.emits.map((type) => `${shortType(type.type)} ${type.count}`)];
    graph.setNode(service.name, { width: Math.max(service.name.length * 9, ...lines.slice(1).map((line) => line.length * CHAR)) + 24, height: lines.length * LINE + 16, lines });
  }
  for (const [i, edge] of answer.edges.entries()) {
    const label = [`${shortType(edge.type)}`, `${edge.count} · ${edge.perSecond.toFixed(1)}/s · ${ms(edge.p50Ms)}`];
    graph.setEdge(edge.from, edge.to, { width: Math.max(...label.map((line) => line.length)) * 6.5, height: 2 * LINE, labelpos: 'c', label, edge }, `e${i}`);
  }
  for (const [i, read] of answer.reads.entries()) {
    const label = [`reads ${read.topic}`, read.group];
    graph.setEdge(read.from, read.to, { width: Math.max(...label.map((line) => line.length)) * 6.5, height: 2 * LINE, labelpos: 'c', label, edge: { from: read.from, to: read.to, type: read.topic }, reads: true }, `r${i}`);
  }
  layout(graph);
  const { width = 400, height = 200 } = graph.graph();
  const picture = svg('svg', { class: 'map', width, height, viewBox: `0 0 ${width} ${height}` });
  picture.append(svg('defs', {}, svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 8, markerHeight: 8, orient: 'auto-start-reverse' }, svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: '#5b7083' }))));
  for (const id of graph.edges()) {
    const drawn = graph.edge(id) as { points: Array<{ x: number; y: number }>; x: number; y: number; width: number; label: string[]; edge: { from: string; to: string; type: string }; reads?: boolean };
    const path = drawn.points.map((point, i) => `${i === 0 ? 'M' : 'L'} ${point.x} ${point.y}`).join(' ');
    picture.append(
      svg(
        'g',
        { class: drawn.reads === true ? 'edge reads' : 'edge', 'data-edge': `${drawn.edge.from}>${drawn.edge.to}`, 'data-type': drawn.edge.type },
        svg('path', { d: path }),
        svg('rect', { x: drawn.x - drawn.width / 2, y: drawn.y - LINE, width: drawn.width, height: 2 * LINE }),
        ...drawn.label.map((line, i) => svg('text', { x: drawn.x, y: drawn.y - 3 + i * LINE, 'text-anchor': 'middle' }, line)),
      ),
    );
  }
  for (const name of graph.nodes()) {
    const node = graph.node(name) as { x: number; y: number; width: number; height: number; lines: string[] };
    const left = node.x - node.width / 2;
    const top = node.y - node.height / 2;
    picture.append(
      svg(
        'g',
        { class: 'service', 'data-service': name },
        svg('rect', { x: left, y: top, width: node.width, height: node.height }),
        ...node.lines.map((line, i) => svg('text', { x: left + 12, y: top + 20 + i * LINE, class: i === 0 ? 'name' : 'type' }, line)),
      ),
    );
  }
  return picture;
}

/** Runs `refresh` now and every `intervalMs` (never two at once); the returned function stops it. */
export function poll(refresh: () => Promise<void>, intervalMs: number): () => void {
  let stopped = false;
  let timer: number | undefined;
  const tick = async () => {
    try {
      await refresh();
    } catch (error) {
      document.getElementById('status')!.textContent = `console unreachable: ${(error as Error).message}`;
    }
    if (!stopped) timer = window.setTimeout(() => void tick(), intervalMs);
  };
  void tick();
  return () => {
    stopped = true;
    window.clearTimeout(timer);
  };
}
