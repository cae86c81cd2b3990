// The fleet table (sortable, filtered by name, group and state, the filter kept in the URL), and the alerts and heal lists.
import { h, bdi, joined, rate, ago, stateOf, shownNodes, readingCells, COLUMN_LABELS } from './util.js';

const COLUMNS = ['name', 'state', 'groups', 'cpu', 'mem', 'disk', 'net', 'load', 'rtt', 'uptime', 'version'];

/** filtersOf reads the filter and sort from the URL query. */
function filtersOf() {
  const q = new URLSearchParams(location.search);
  return { q: q.get('q') ?? '', group: q.get('group') ?? '', state: q.get('state') ?? '', sort: q.get('sort') ?? 'name', dir: q.get('dir') === 'desc' ? 'desc' : 'asc' };
}

/** keep writes the filter and sort into the URL (replaceState: a reload shows the same table). */
function keep(f) {
  const q = new URLSearchParams();
  for (const k of ['q', 'group', 'state']) if (f[k]) q.set(k, f[k]);
  if (f.sort !== 'name' || f.dir !== 'asc') (q.set('sort', f.sort), q.set('dir', f.dir));
  const s = q.toString();
  history.replaceState(null, '', location.pathname + (s ? `?${s}` : ''));
}

function row(n, ctx) {
  const r = n.reading;
  const st = stateOf(n);
  const cells = {
    ...readingCells(n),
    name: h('td', {}, h('a', { href: `/node/${encodeURIComponent(n.name)}` }, bdi(n.name))),
    state: h('td', { title: n.error ? n.error.message : '' }, h('span', { class: `badge ${st}` }, st), ' ', h('small', {}, r ? ago(ctx.serverNow() - r.at) : 'never')),
    groups: h('td', {}, n.groups.length ? joined(n.groups.map(bdi), ', ') : '–'),
    net: h('td', { class: 'num' }, r?.net ? `↓${rate(r.net.rxPerS)} ↑${rate(r.net.txPerS)}` : '–'),
    version: h('td', { title: r ? `${r.kernel}` : '' }, r ? `vssh ${r.vsshVersion} · ${r.platform}/${r.arch}` : '–'),
  };
  for (const [k, c] of Object.entries(cells)) c.dataset.col = k;
  return h('tr', { class: n.stale ? 'stale' : null, dataset: { node: n.name, state: st, stale: String(n.stale), readingAt: r ? String(r.at) : '0' } }, COLUMNS.map((k) => cells[k]));
}

let els = null;

export const fleetPage = {
  enter(root, ctx) {
    const f = filtersOf();
    const input = h('input', { type: 'search', id: 'filter-q', placeholder: 'filter by name', value: f.q });
    const group = h('select', { id: 'filter-group' }, h('option', { value: '' }, 'every group'));
    const state = h('select', { id: 'filter-state' }, ['', 'online', 'stale', 'offline'].map((s) => h('option', { value: s }, s || 'every state')));
    state.value = f.state;
    const head = h('tr', {}, COLUMNS.map((k) => h('th', { dataset: { sort: k }, class: 'sortable' }, COLUMN_LABELS[k])));
    const body = h('tbody');
    const counts = h('p', { id: 'counts', class: 'counts' });
    const lists = h('section', { class: 'lists' });
    root.append(h('section', { class: 'toolbar' }, input, group, state, counts), h('table', { id: 'fleet', class: 'fleet' }, h('thead', {}, head), body), lists);
    els = { input, group, state, head, body, counts, lists, ctx, f, groupsSeen: '' };
    const changed = () => {
      Object.assign(els.f, { q: input.value.trim(), group: group.value, state: state.value });
      keep(els.f);
      if (ctx.state.view) fleetPage.update(ctx.state.view);
    };
    input.addEventListener('input', changed);
    group.addEventListener('change', changed);
    state.addEventListener('change', changed);
    head.addEventListener('click', (e) => {
      const k = e.target.closest('th')?.dataset.sort;
      if (!k) return;
      els.f.dir = els.f.sort === k && els.f.dir === 'asc' ? 'desc' : 'asc';
      els.f.sort = k;
      keep(els.f);
      if (ctx.state.view) fleetPage.update(ctx.state.view);
    });
  },
  update(view) {
    if (!els) return;
    const { f, ctx } = els;
    const groups = view.groups.join('\n');
    if (groups !== els.groupsSeen) {
      els.groupsSeen = groups;
      els.group.replaceChildren(h('option', { value: '' }, 'every group'), ...view.groups.map((g) => h('option', { value: g }, g)));
      els.group.value = f.group;
    }
    const shown = shownNodes(view.nodes, f);
    els.body.replaceChildren(...shown.map((n) => row(n, ctx)));
    for (const th of els.head.children) th.dataset.dir = th.dataset.sort === f.sort ? f.dir : '';
    const c = view.counts;
    els.counts.textContent = `${shown.length} of ${c.total} nodes · ${c.online} online · ${c.stale} stale · ${view.alerts.length} alerts firing`;
    els.lists.replaceChildren(alertList(view), healList(view));
  },
  leave() {
    els = null;
  },
};

function alertList(view) {
  return h('div', { id: 'alerts' }, h('h2', {}, `Alerts firing (${view.alerts.length})`),
    view.alerts.length
      ? h('table', { class: 'list' }, h('tr', {}, ['Node', 'Rule', 'Value', 'Since', 'Message'].map((x) => h('th', {}, x))),
        view.alerts.map((a) => h('tr', { dataset: { alert: `${a.node}:${a.rule}:${a.subject}` } }, h('td', {}, h('a', { href: `/node/${encodeURIComponent(a.node)}` }, bdi(a.node))), h('td', {}, a.rule, a.subject ? [' ', bdi(a.subject)] : null), h('td', { class: 'num' }, a.value ?? '–'), h('td', {}, a.since.slice(0, 19).replace('T', ' ')), h('td', {}, a.message))))
      : h('p', { class: 'muted' }, view.notes.some((n) => n.startsWith('alerts')) ? view.notes.join('; ') : 'nothing firing'));
}

function healList(view) {
  return h('div', { id: 'heal' }, h('h2', {}, 'Heal fixes'),
    view.heal.length
      ? h('table', { class: 'list' }, h('tr', {}, ['Time', 'Node', 'Check', 'Action', 'Result', 'After'].map((x) => h('th', {}, x))),
        view.heal.map((e) => h('tr', {}, h('td', {}, e.time.slice(0, 19).replace('T', ' ')), h('td', {}, bdi(e.node)), h('td', {}, e.check), h('td', {}, e.action), h('td', { class: e.result === 'fixed' ? 'ok' : 'crit' }, e.result), h('td', {}, e.after ?? '–'))))
      : h('p', { class: 'muted' }, 'no heal fix recorded (mpop heal --fix writes them to the audit log)'));
}

export const alertsPage = {
  enter(root) {
    this.root = root;
  },
  update(view) {
    this.root?.replaceChildren(alertList(view), healList(view));
  },
  leave() {
    this.root = null;
  },
};
