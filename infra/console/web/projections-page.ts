/**
 * Projections: each service's read models (its GET /admin/projections): state, lag, what was applied, and a
 * rebuild button; a rebuild in progress shows its progress, polled every second.
 */
import { getJson, postJson, problemText } from './api.js';
import { el, table } from './dom.js';
import { poll } from './map-page.js';

interface Projection {
  name: string;
  version: number;
  state: string;
  lag: number;
  applied: number;
  rebuilding: boolean;
  rebuild: { state: string; done: number; total: number; eventsPerSecond: number; etaSeconds: number | null } | null;
}

type ServiceProjections = { service: string; projections: Projection[] } | { service: string; problem: string };

export function projectionsPage(root: HTMLElement): () => void {
  const list = el('div', { id: 'projections' });
  const outcome = el('p', { id: 'rebuild-outcome' });
  root.replaceChildren(el('h2', {}, 'Projections'), outcome, list);
  const rebuild = async (service: string, name: string) => {
    const answer = await postJson(`/api/services/${encodeURIComponent(service)}/projections/${encodeURIComponent(name)}/rebuild`, { from: 'beginning' });
    outcome.textContent = answer.status === 202 ? `rebuilding ${service}/${name}` : `rebuild of ${service}/${name} refused: ${problemText(answer)}`;
    outcome.className = answer.status === 202 ? '' : 'problem';
    await refresh();
  };
  const refresh = async () => {
    const { body } = await getJson<{ services: ServiceProjections[] }>('/api/projections');
    const rows = body.services.flatMap((service) =>
      'problem' in service
        ? [[service.service, el('span', { class: 'muted' }, service.problem), '', '', '', '', '']]
        : service.projections.map((projection) => {
            const button = el('button', { 'data-rebuild': `${service.service}/${projection.name}` }, 'Rebuild');
            button.addEventListener('click', () => void rebuild(service.service, projection.name));
            if (projection.rebuilding) button.setAttribute('disabled', '');
            const progress = projection.rebuild;
            return [
              service.service,
              `${projection.name} v${projection.version}`,
              projection.state,
              projection.lag,
              projection.applied,
              progress === null
                ? '–'
                : el('span', { 'data-rebuild-state': progress.state }, el('progress', { max: String(Math.max(progress.total, 1)), value: String(progress.done) }), ` ${progress.state} ${progress.done}/${progress.total}`),
              button,
            ];
          }),
    );
    list.replaceChildren(table(['service', 'projection', 'state', 'lag', 'applied', 'last rebuild', ''], rows, [3, 4]));
  };
  return poll(refresh, 1000);
}
