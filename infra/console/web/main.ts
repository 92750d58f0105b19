/**
 * The console page: one document, four views chosen by the address's hash (#/map, #/flow?q=..., #/groups,
 * #/projections). Each view polls the console's API while shown and stops when another is chosen.
 */
import { getJson } from './api.js';
import { flowPage } from './flow-page.js';
import { groupsPage } from './groups-page.js';
import { mapPage, poll } from './map-page.js';
import { projectionsPage } from './projections-page.js';

let stopView: () => void = () => undefined;

function route(): void {
  stopView();
  const [path = '', search = ''] = location.hash.replace(/^#/, '').split('?');
  const page = path.replace(/^\//, '') || 'map';
  const root = document.getElementById('page')!;
  for (const link of document.querySelectorAll('nav a')) link.classList.toggle('current', link.getAttribute('data-page') === page);
  const query = new URLSearchParams(search).get('q') ?? undefined;
  stopView = page === 'flow' ? flowPage(root, query) : page === 'groups' ? groupsPage(root) : page === 'projections' ? projectionsPage(root) : mapPage(root);
}

window.addEventListener('hashchange', route);
route();

poll(async () => {
  const { body } = await getJson<{ index: { events: number; maxEvents: number; evicted: number }; traffic: { topics: string[]; caughtUp: boolean } }>('/api/status');
  document.getElementById('status')!.textContent =
    `${body.index.events} events kept (of at most ${body.index.maxEvents}, ${body.index.evicted} evicted), ${body.traffic.topics.length} topics${body.traffic.caughtUp ? '' : ', reading the history'}`;
}, 2000);
