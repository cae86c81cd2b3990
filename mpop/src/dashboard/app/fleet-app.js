// The fleet dashboard as an MCP App: it runs in the host's sandboxed iframe, gets mpop_dashboard's result from the
// host (ext-apps App: ui/notifications/tool-result) and calls read-only mpop-mcp tools through it (tools/call).
// mcp-app.ts builds the one document it runs in: util.js inlined (this import is dropped), uPlot as window.uPlot,
// and the ext-apps bundle as globalThis.McpExtApps. Every value from the server is set as text, never as markup.
import { h, bdi, bytes, rate, ago, stateOf, shownNodes, readingCells, COLUMN_LABELS, SORT_KEYS } from '../page/util.js';

const { App } = globalThis.McpExtApps;
const AUTO_MS = 30_000;
const COLOURS = ['#2f7ed8', '#d8672f', '#3fa34d', '#9b59b6'];

const COLUMNS = ['name', 'state', 'cpu', 'mem', 'disk', 'net', 'load', 'rtt', 'uptime', 'trend'];

const textOf = (result) => (result?.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('\n');

const state = { view: null, args: {}, history: new Map(), filter: { q: '', state: '', group: '', sort: 'name', dir: 'asc' }, selected: null, busy: false, auto: null };

// The page's frame: toolbar, table, the selected node's panel, alerts.
const q = h('input', { type: 'search', id: 'filter-q', placeholder: 'filter by name' });
const group = h('select', { id: 'filter-group' }, h('option', { value: '' }, 'every group'));
const stateSel = h('select', { id: 'filter-state' }, ['', 'online', 'stale', 'offline'].map((s) => h('option', { value: s }, s || 'every state')));
const refresh = h('button', { id: 'refresh', type: 'button', title: 'read the fleet again (mpop_dashboard)' }, 'Refresh');
const auto = h('input', { type: 'checkbox', id: 'auto' });
const counts = h('span', { id: 'counts', class: 'counts' }, 'waiting for mpop_dashboard…');
const age = h('span', { id: 'age', class: 'age' });
const head = h('tr', {}, COLUMNS.map((k) => h('th', { dataset: { sort: k }, class: k in SORT_KEYS ? 'sortable' : null }, COLUMN_LABELS[k])));
const body = h('tbody');
const panel = h('section', { id: 'node-panel', hidden: true });
const alerts = h('section', { id: 'alerts' });
const notes = h('p', { id: 'notes', class: 'muted' });
document.body.append(
  h('div', { class: 'bar' }, q, group, stateSel, refresh, h('label', {}, auto, ' auto (30 s)'), counts, age),
  h('table', { id: 'fleet' }, h('thead', {}, head), body),
  panel,
  alerts,
  notes,
);

/** spark is a small SVG line of a series (0..100), or a dash when there is none. */
function spark(series) {
  const pts = (series ?? []).map((v, i) => [i, v]).filter(([, v]) => v !== null);
  if (pts.length < 2) return '–';
  const w = 80, hgt = 18, n = series.length - 1;
  const line = pts.map(([i, v]) => `${((i / n) * w).toFixed(1)},${(hgt - (Math.min(100, Math.max(0, v)) / 100) * hgt).toFixed(1)}`).join(' ');
  return h('svg:svg', { class: 'spark', width: w, height: hgt, viewBox: `0 0 ${w} ${hgt}` }, h('svg:polyline', { points: line }));
}

/** net is the network cell: rates when two readings gave them, else the totals since boot (one reading has no rate). */
function net(n) {
  if (!n) return h('td', { class: 'num' }, '–');
  if (n.rxPerS !== null && n.txPerS !== null) return h('td', { class: 'num' }, `↓${rate(n.rxPerS)} ↑${rate(n.txPerS)}`);
  return h('td', { class: 'num', title: 'bytes since boot (a rate needs two readings: Refresh)' }, `Σ ↓${bytes(n.rxBytes)} ↑${bytes(n.txBytes)}`);
}

function row(n) {
  const st = stateOf(n);
  const seen = n.lastSeen ? Date.parse(n.lastSeen) : null;
  const cells = {
    ...readingCells(n),
    name: h('td', {}, bdi(n.name)),
    state: h('td', { title: n.error ? n.error.message : '' }, h('span', { class: `badge ${st}` }, st), ' ', h('small', {}, seen ? ago(Date.now() - seen) : 'never')),
    net: net(n.reading?.net),
    trend: h('td', {}, spark(state.history.get(n.name)?.cpu)),
  };
  for (const [k, c] of Object.entries(cells)) c.dataset.col = k;
  const tr = h('tr', { class: [n.stale ? 'stale' : '', state.selected === n.name ? 'selected' : ''].join(' ').trim() || null, dataset: { node: n.name, state: st } }, COLUMNS.map((k) => cells[k]));
  tr.addEventListener('click', () => select(n.name));
  return tr;
}

function renderTable() {
  const view = state.view;
  if (!view) return;
  const f = state.filter;
  const shown = shownNodes(view.nodes, f);
  body.replaceChildren(...shown.map(row));
  for (const th of head.children) th.dataset.dir = th.dataset.sort === f.sort ? f.dir : '';
  const c = view.counts;
  counts.textContent = `${shown.length} of ${c.total} nodes · ${c.online} online · ${c.stale} stale · ${c.offline} offline · ${view.alerts.length} alerts firing`;
}

function renderAlerts() {
  const view = state.view;
  alerts.replaceChildren(
    h('h2', {}, `Alerts firing (${view.alerts.length})`),
    view.alerts.length
      ? h('table', {}, h('tr', {}, ['Node', 'Rule', 'Value', 'Since', 'Message'].map((x) => h('th', {}, x))),
        view.alerts.map((a) => h('tr', { dataset: { alert: `${a.node}:${a.rule}:${a.subject}` } }, h('td', {}, bdi(a.node)), h('td', {}, a.rule + (a.subject ? ` ${a.subject}` : '')), h('td', { class: 'num' }, a.value ?? '–'), h('td', {}, a.since.slice(0, 19).replace('T', ' ')), h('td', {}, a.message))))
      : h('p', { class: 'muted' }, 'nothing firing'),
    ...(view.heal.length ? [h('h2', {}, 'Heal fixes'), h('table', {}, view.heal.slice(0, 10).map((e) => h('tr', {}, h('td', {}, e.time.slice(0, 19).replace('T', ' ')), h('td', {}, e.node), h('td', {}, e.check), h('td', {}, e.action), h('td', { class: e.result === 'fixed' ? '' : 'crit' }, e.result))))] : []),
  );
  notes.textContent = view.notes.join(' · ');
}

/** show takes an mpop_dashboard result (from the host, or from a call of ours) and draws it. */
function show(result) {
  if (result.isError || !result.structuredContent?.nodes) {
    counts.textContent = '';
    notes.replaceChildren(h('span', { class: 'error' }, textOf(result) || 'mpop_dashboard gave no fleet view'));
    return;
  }
  const view = result.structuredContent;
  state.view = view;
  for (const hist of view.history ?? []) state.history.set(hist.node, hist);
  const groups = [...new Set([...view.groups, ...view.nodes.flatMap((n) => n.roles)])];
  const had = group.value;
  group.replaceChildren(h('option', { value: '' }, 'every group'), ...groups.map((g) => h('option', { value: g }, g)));
  group.value = groups.includes(had) ? had : '';
  renderTable();
  renderAlerts();
  tickAge();
  if (state.selected) renderPanel();
}

function tickAge() {
  if (!state.view) return;
  const ms = Date.now() - Date.parse(state.view.generatedAt);
  age.textContent = `read ${ago(ms)}`;
  age.classList.toggle('old', ms > Math.max(AUTO_MS, 2 * state.view.staleAfterMs));
}
setInterval(tickAge, 1000);

/** call runs one read-only tool through the host; the answer (or why it failed) comes back as a CallToolResult. */
async function call(name, args) {
  try {
    return await app.callServerTool({ name, arguments: args });
  } catch (err) {
    return { isError: true, content: [{ type: 'text', text: `${name}: ${err?.message ?? err}` }] };
  }
}

async function reread() {
  if (state.busy) return;
  state.busy = true;
  refresh.disabled = true;
  try {
    show(await call('mpop_dashboard', state.args));
  } finally {
    state.busy = false;
    refresh.disabled = false;
  }
}

// The selected node: its plots from the monitor history and buttons that call read-only tools about it.
let plots = [];
/** out shows the last answer of a node's button; it outlives a refresh of the view, and is cleared when another node is selected. */
const out = h('pre', { class: 'out', id: 'tool-out', hidden: true });
function select(name) {
  state.selected = state.selected === name ? null : name;
  out.hidden = true;
  out.textContent = '';
  delete out.dataset.tool;
  renderTable();
  renderPanel();
}

function plot(title, unit, range, t, series) {
  const holder = h('div', { class: 'plot', dataset: { points: String(t.length) } }, h('h3', {}, title));
  const opts = {
    width: 300, height: 120,
    scales: { x: { time: true }, y: range ? { range } : { auto: true } },
    legend: { show: false },
    series: [{}, ...series.map(([label], i) => ({ label, stroke: COLOURS[i % COLOURS.length], width: 1.5 }))],
    axes: [{ size: 30 }, { size: 52, values: (u, vals) => vals.map((v) => `${v}${unit}`) }],
  };
  holder.uplot = new window.uPlot(opts, [t, ...series.map(([, s]) => s)], holder);
  plots.push(holder.uplot);
  return holder;
}

function renderPanel() {
  for (const p of plots) p.destroy();
  plots = [];
  const name = state.selected;
  const node = state.view?.nodes.find((n) => n.name === name);
  if (!node) {
    panel.hidden = true;
    panel.replaceChildren();
    return;
  }
  panel.hidden = false;
  const button = (id, label, tool, args) => {
    const b = h('button', { type: 'button', id, dataset: { tool } }, label);
    b.addEventListener('click', async () => {
      b.disabled = true;
      out.hidden = false;
      out.classList.remove('error');
      out.textContent = `${tool}…`;
      const r = await call(tool, args);
      out.textContent = textOf(r) || JSON.stringify(r.structuredContent ?? {}, null, 2);
      out.classList.toggle('error', r.isError === true);
      out.dataset.tool = tool;
      b.disabled = false;
    });
    return b;
  };
  const hist = state.history.get(name);
  const plotsBox = h('div', { class: 'plots', id: 'plots' });
  if (hist && hist.t.length > 1) {
    plotsBox.append(
      plot('CPU', '%', [0, 100], hist.t, [['cpu', hist.cpu]]),
      plot('Memory', '%', [0, 100], hist.t, [['memory', hist.mem]]),
      plot('Load (1 min)', '', null, hist.t, [['load1', hist.load]]),
      ...(Object.keys(hist.disk).length ? [plot('Disk', '%', [0, 100], hist.t, Object.entries(hist.disk))] : []),
    );
  } else {
    plotsBox.append(h('p', { class: 'muted' }, state.view.monitored ? `no monitor rows for ${name} in the last ${state.view.hours} h` : 'no monitor history on this machine (mpop monitor writes it)'));
  }
  const more = hist ? [] : [h('button', { type: 'button', id: 'load-history' }, 'Load its history')];
  more[0]?.addEventListener('click', async () => {
    const r = await call('mpop_dashboard', { ...state.args, target: name });
    for (const x of r.structuredContent?.history ?? []) state.history.set(x.node, x);
    renderPanel();
  });
  panel.replaceChildren(
    h('h2', {}, bdi(name), ` · ${stateOf(node)}${node.reading ? ` · ${node.reading.platform}/${node.reading.arch} · ${node.reading.kernel} · vssh ${node.reading.vsshVersion}` : ''}`),
    ...(node.error ? [h('p', { class: 'error' }, `${node.error.code}: ${node.error.message}`)] : []),
    h('div', { class: 'bar' }, button('btn-info', 'Details', 'mpop_info', { node: name }), button('btn-services', 'Services', 'mpop_services', { target: name }), button('btn-ports', 'Ports', 'mpop_ports', { target: name }), ...more),
    plotsBox,
    out,
  );
}

// Filters and sorting, as on the web dashboard (kept in memory: the app has no URL of its own).
q.addEventListener('input', () => ((state.filter.q = q.value.trim()), renderTable()));
group.addEventListener('change', () => ((state.filter.group = group.value), renderTable()));
stateSel.addEventListener('change', () => ((state.filter.state = stateSel.value), renderTable()));
head.addEventListener('click', (e) => {
  const k = e.target.closest('th')?.dataset.sort;
  if (!(k in SORT_KEYS)) return;
  state.filter.dir = state.filter.sort === k && state.filter.dir === 'asc' ? 'desc' : 'asc';
  state.filter.sort = k;
  renderTable();
});
refresh.addEventListener('click', () => void reread());
auto.addEventListener('change', () => {
  clearInterval(state.auto);
  state.auto = auto.checked ? setInterval(() => void reread(), AUTO_MS) : null;
});

const theme = (ctx) => ctx?.theme && document.documentElement.classList.toggle('dark', ctx.theme === 'dark');
const app = new App({ name: 'mpop-dashboard', version: '1.0.0' }, {}, { autoResize: true });
app.ontoolinput = (p) => {
  const a = p.arguments ?? {};
  state.args = { ...(a.target ? { target: a.target } : {}), ...(a.hours ? { hours: a.hours } : {}) };
  counts.textContent = 'reading the fleet…';
};
app.ontoolresult = (result) => show(result);
app.ontoolcancelled = (p) => {
  if (!state.view) counts.textContent = `mpop_dashboard was cancelled${p?.reason ? `: ${p.reason}` : ''}; Refresh reads the fleet`;
};
app.onhostcontextchanged = (ctx) => theme(ctx);
app.connect().then(
  () => theme(app.getHostContext()),
  (err) => notes.replaceChildren(h('span', { class: 'error' }, `could not talk to the host: ${err?.message ?? err}`)),
);
