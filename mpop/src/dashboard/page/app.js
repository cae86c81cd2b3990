// The dashboard's shell: routing between the fleet, a node, the mesh and the alerts, live updates over
// server-sent events, and the stale marks (judged here every second, so they show even if the server stops).
import { h, api } from './util.js';
import { fleetPage, alertsPage } from './fleet.js';
import { nodePage } from './node.js';
import { meshPage } from './mesh.js';

const state = { view: null, session: null, skew: 0, page: null, lastEvent: 0 };
const root = document.getElementById('app');
const live = document.getElementById('live');

/** now is the server's clock as this page estimates it. */
export const serverNow = () => Date.now() - state.skew;

function route() {
  const path = location.pathname;
  let page;
  if (path === '/') page = fleetPage;
  else if (path.startsWith('/node/')) page = nodePage;
  else if (path === '/mesh') page = meshPage;
  else if (path === '/alerts') page = alertsPage;
  else page = fleetPage;
  for (const a of document.querySelectorAll('[data-nav]')) a.classList.toggle('active', a.getAttribute('href') === path);
  state.page?.leave?.();
  root.replaceChildren();
  state.page = page;
  page.enter(root, { state, navigate, serverNow, api });
  if (state.view) page.update?.(state.view);
}

/** navigate moves to another page without a reload. */
export function navigate(url, replace = false) {
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  route();
}

document.addEventListener('click', (e) => {
  const a = e.target.closest('a[href^="/"]');
  if (!a || e.ctrlKey || e.metaKey || e.shiftKey || a.target) return;
  e.preventDefault();
  navigate(a.getAttribute('href'));
});
addEventListener('popstate', route);

function onView(view) {
  state.view = view;
  state.skew = Date.now() - Date.parse(view.generatedAt);
  state.lastEvent = Date.now();
  state.page?.update?.(view);
  tick();
}

/** tick marks rows whose reading is older than the refresh interval, and the whole page when updates stop. */
function tick() {
  const v = state.view;
  if (!v) return;
  const now = serverNow();
  for (const el of document.querySelectorAll('[data-reading-at]')) {
    const at = Number(el.dataset.readingAt);
    const stale = !at || now - at > v.staleAfterMs;
    el.classList.toggle('stale', stale);
    el.dataset.stale = String(stale);
  }
  const quiet = Date.now() - state.lastEvent > v.staleAfterMs + v.intervalMs;
  live.textContent = quiet ? `no update for ${Math.round((Date.now() - state.lastEvent) / 1000)} s` : `live · every ${v.intervalMs / 1000} s`;
  live.classList.toggle('stale', quiet);
  live.dataset.stale = String(quiet);
}

async function main() {
  state.session = await api('/api/session');
  route();
  onView(await api('/api/fleet'));
  const es = new EventSource('/api/events');
  es.addEventListener('view', (e) => onView(JSON.parse(e.data)));
  es.addEventListener('error', () => tick());
  setInterval(tick, 1000);
}

main().catch((err) => root.replaceChildren(h('p', { class: 'error' }, String(err.message ?? err))));
