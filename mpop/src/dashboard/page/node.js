// A node's page: its live reading, trend plots from the monitor database (uPlot), services, ports,
// releases, alerts and the last lines of its system log; restart and heal buttons when actions are allowed.
import { h, bdi, joined, pct, bytes, rate, ago, duration, api, stateOf } from './util.js';

let cur = null;

function kv(rows) {
  return h('table', { class: 'kv' }, rows.map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, v))));
}

function section(id, title, ...body) {
  return h('section', { id, class: 'card' }, h('h2', {}, title), ...body);
}

function unavailable(p) {
  return h('p', { class: 'muted' }, p.reason);
}

const COLOURS = ['#2f7ed8', '#d8672f', '#3fa34d', '#9b59b6', '#c0392b', '#16a085'];
const PLOT_HEIGHT = 170;

/** TRENDS are the node page's plots: id, title, unit, y range (null: auto), and the series a history gives. */
const TRENDS = [
  ['plot-cpu', 'CPU', '%', [0, 100], (hist) => [['cpu', hist.cpu]]],
  ['plot-mem', 'Memory', '%', [0, 100], (hist) => [['memory', hist.mem]]],
  ['plot-load', 'Load (1 min)', '', null, (hist) => [['load1', hist.load]]],
  ['plot-disk', 'Disk', '%', [0, 100], (hist) => Object.keys(hist.disk).map((m) => [m, hist.disk[m]])],
];

/**
 * trend makes one plot that follows the monitor rows: set(hist) draws it the first time, then gives the
 * chart the new rows (setData: same canvas, a zoom the user made is kept), and builds it again only when
 * its series change (a new mount). The uPlot chart is kept on the holder (holder.uplot) for tests.
 */
function trend([id, title, unit, range, seriesOf]) {
  const holder = h('div', { class: 'plot', id, dataset: { points: '0', series: '0', zoomed: 'false' } }, h('h3', {}, title));
  let chart = null, shape = '', seen = '', resize = null;
  const drop = () => {
    chart?.destroy();
    holder.uplot = chart = null;
    resize?.disconnect();
    resize = null;
  };
  const width = () => Math.max(200, Math.floor(holder.clientWidth || 400));
  const build = (data, series) => {
    const opts = {
      width: width(), height: PLOT_HEIGHT,
      scales: { x: { time: true }, y: range ? { range } : { auto: true } },
      series: [{}, ...series.map(([label], i) => ({ label, stroke: COLOURS[i % COLOURS.length], width: 1.5, spanGaps: false, value: (u, v) => (v === null ? '–' : `${v}${unit}`) }))],
      axes: [{}, { values: (u, vals) => vals.map((v) => `${v}${unit}`), size: 60 }],
    };
    // uPlot is loaded by index.html as a classic script (window.uPlot), served from node_modules.
    holder.uplot = chart = new window.uPlot(opts, data, holder);
    // The plot follows its box: the grid gives each plot a column, the chart takes its width.
    resize = new ResizeObserver(() => chart && chart.width !== width() && chart.setSize({ width: width(), height: PLOT_HEIGHT }));
    resize.observe(holder);
  };
  /** zoomed tells whether the user narrowed the time axis (uPlot's drag to zoom; a double click resets it). */
  const zoomed = () => {
    const t = chart.data[0], x = chart.scales.x;
    return t.length > 1 && (x.min > t[0] || x.max < t[t.length - 1]);
  };
  return {
    holder,
    set(hist) {
      const t = hist.t, series = seriesOf(hist);
      const nextShape = series.map(([label]) => label).join('\n');
      const sig = `${t.length}:${t[0]}:${t[t.length - 1]}:${nextShape}`;
      if (sig === seen) return;
      seen = sig;
      holder.dataset.points = String(t.length);
      holder.dataset.series = String(series.length);
      const data = [t, ...series.map(([, v]) => v)];
      if (!t.length || !series.length) {
        drop();
        shape = '';
        holder.replaceChildren(holder.firstChild, h('p', { class: 'muted' }, 'no monitor rows in this range: run mpop monitor (or install-service monitor)'));
        return;
      }
      if (chart && nextShape === shape) {
        const keep = zoomed();
        holder.dataset.zoomed = String(keep);
        chart.setData(data, !keep);
        return;
      }
      drop();
      holder.replaceChildren(holder.firstChild);
      shape = nextShape;
      holder.dataset.zoomed = 'false';
      build(data, series);
    },
    destroy: drop,
  };
}

const trendsTitle = (hist) => `Trends (monitor, last ${Math.round((Date.parse(hist.to) - Date.parse(hist.from)) / 3600000)} h, ${hist.t.length} rows)`;

/** trends makes the plots section; set(hist) brings every plot and the title up to a newer history. */
function trends(hist) {
  const plots = TRENDS.map(trend);
  const title = h('h2', {}, trendsTitle(hist));
  const none = h('p', { class: 'muted', hidden: hist.monitored }, 'no monitor database yet: mpop monitor writes one');
  const el = h('section', { id: 'trends', class: 'card' }, title, none, h('div', { class: 'plots' }, plots.map((p) => p.holder)));
  const set = (next) => {
    title.textContent = trendsTitle(next);
    none.hidden = next.monitored;
    for (const p of plots) p.set(next);
  };
  return { el, set, destroy: () => plots.forEach((p) => p.destroy()) };
}

async function act(ctx, req) {
  const s = ctx.state.session;
  const headers = { 'Content-Type': 'application/json', 'X-Mpop-Csrf': s.csrf };
  const p = await api('/api/actions', { method: 'POST', headers, body: JSON.stringify(req) });
  if (!confirm(`Confirm: ${p.summary}?`)) return;
  const r = await api(`/api/actions/${encodeURIComponent(p.id)}/confirm`, { method: 'POST', headers, body: '{}' });
  alert(`${r.summary}: ${r.ok ? 'done' : 'failed'}: ${r.detail}`);
}

function services(d, ctx) {
  if (!d.services.ok) return section('services', 'Services', unavailable(d.services));
  const allow = ctx.state.session.allowActions;
  const units = d.services.value.filter((u) => u.unit.endsWith('.service'));
  return section('services', `Services (${units.length})`, h('table', { class: 'list' },
    h('tr', {}, ['Unit', 'Active', 'Sub', 'Description', allow ? '' : null].filter((x) => x !== null).map((x) => h('th', {}, x))),
    units.map((u) => h('tr', {}, h('td', {}, u.unit), h('td', { class: u.active === 'failed' ? 'crit' : '' }, u.active), h('td', {}, u.sub), h('td', {}, u.description),
      allow ? h('td', {}, h('button', { onclick: () => act(ctx, { kind: 'restart', node: d.row.name, unit: u.unit }).catch((e) => alert(e.message)) }, 'restart')) : null))));
}

function render(root, d, hist, ctx) {
  const n = d.row, r = n.reading;
  const st = stateOf(n);
  const head = h('div', { class: 'node-head', dataset: { node: n.name, readingAt: r ? String(r.at) : '0' } },
    h('h1', {}, bdi(n.name), ' ', h('span', { class: `badge ${st}` }, st)), h('p', { class: 'muted' }, joined([n.address, n.groups.length ? ['groups ', joined(n.groups.map(bdi), ', ')] : null, n.roles.length ? ['roles ', joined(n.roles.map(bdi), ', ')] : null].filter(Boolean), ' · ')));
  const info = section('sysinfo', 'System', r ? kv([
    ['Last seen', `${new Date(r.at).toISOString().replace('T', ' ').slice(0, 19)} (${ago(ctx.serverNow() - r.at)})`],
    ['Host', `${r.hostname} · ${r.platform}/${r.arch}`], ['Kernel', r.kernel], ['vssh', r.vsshVersion],
    ['CPU', `${pct(r.cpuPercent)} of ${r.cores} × ${r.cpuModel ?? 'CPU'}`], ['Load', r.load.join(' ')],
    ['Memory', `${bytes(r.memory.usedBytes)} of ${bytes(r.memory.totalBytes)} (${pct(r.memory.percent)})`],
    ['Disks', r.disks.length ? joined(r.disks.map((x) => [bdi(x.mount), ` ${pct(x.usePercent)} of ${bytes(x.totalBytes)}`]), ' · ') : '–'],
    ['Network', r.net ? `↓${rate(r.net.rxPerS)} ↑${rate(r.net.txPerS)} (${bytes(r.net.rxBytes)} / ${bytes(r.net.txBytes)} since boot)` : '–'],
    ['Uptime', duration(r.uptimeS)], ['Round trip', `${r.rttMs} ms`], ['GPUs', String(r.gpus)],
    ['Failed units', r.failedUnits === null ? 'no systemd' : r.failedUnits.join(', ') || 'none'],
  ]) : h('p', { class: 'muted' }, n.error ? n.error.message : 'never read'));
  const ports = section('ports', 'Listening ports', d.ports.ok
    ? h('table', { class: 'list' }, h('tr', {}, ['Proto', 'Address', 'Port', 'Process'].map((x) => h('th', {}, x))), d.ports.value.map((p) => h('tr', {}, h('td', {}, p.proto), h('td', {}, p.address), h('td', { class: 'num' }, p.port), h('td', {}, p.processes.length ? joined(p.processes.map((x) => [bdi(x.name), `[${x.pid}]`]), ', ') : '–'))))
    : unavailable(d.ports));
  const releases = section('releases', 'Releases', d.releases.ok
    ? (d.releases.value.length ? d.releases.value.map((x) => h('div', {}, h('h3', {}, x.path), h('ul', {}, x.releases.releases.map((rel) => h('li', {}, `${rel.id}${rel.live ? ' (live)' : ''}${rel.stale ? ' (stale)' : ''}`))))) : h('p', { class: 'muted' }, 'no deploy recorded for this node'))
    : unavailable(d.releases));
  const alerts = section('node-alerts', 'Recent alerts', d.alerts.length
    ? h('table', { class: 'list' }, d.alerts.map((a) => h('tr', {}, h('td', { class: a.firing ? 'crit' : 'ok' }, a.firing ? 'firing' : 'resolved'), h('td', {}, a.rule, a.subject ? [' ', bdi(a.subject)] : null), h('td', {}, a.since.slice(0, 19).replace('T', ' ')), h('td', {}, a.message))))
    : h('p', { class: 'muted' }, 'none'));
  const heal = ctx.state.session.allowActions ? section('heal-actions', 'Heal', h('p', {}, ctx.state.session.checks.map((c) => h('button', { onclick: () => act(ctx, { kind: 'heal', node: n.name, check: c }).catch((e) => alert(e.message)) }, c)))) : null;
  const logs = section('logs', 'Last log lines', d.logs.ok ? h('pre', { class: 'logs' }, d.logs.value.join('\n') || '(empty)') : unavailable(d.logs));
  const plots = trends(hist);
  root.replaceChildren(...[head, h('div', { class: 'grid' }, info, plots.el), services(d, ctx), h('div', { class: 'grid' }, ports, releases), alerts, heal, logs].filter(Boolean));
  // set() after the plots are in the page: each takes the width of its column there.
  plots.set(hist);
  return plots;
}

/** HISTORY_HOURS is the range of the node page's plots. */
const HISTORY_HOURS = 6;
const historyUrl = (name) => `/api/nodes/${encodeURIComponent(name)}/history?hours=${HISTORY_HOURS}`;

/**
 * refreshTrends reads the node's history again and gives the plots any new monitor rows. It runs on each
 * fleet view the page's event stream brings (the one live mechanism), one read at a time: a view that comes
 * while one is under way asks for one more read after it.
 */
function refreshTrends(me) {
  if (!me.plots || document.hidden) return; // a tab in the background reads again on the first view after it is shown
  if (me.reading) {
    me.again = true;
    return;
  }
  me.reading = api(historyUrl(me.name))
    .then((hist) => me === cur && me.plots.set(hist))
    .catch(() => undefined) // the stale marks say when the server is gone; the plots keep what they have
    .finally(() => {
      me.reading = null;
      if (me.again && me === cur) {
        me.again = false;
        refreshTrends(me);
      }
    });
}

/** nameInPath decodes the node's name from the URL; a malformed escape is taken as it is (the server then says there is no such node). */
function nameInPath(segment) {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

export const nodePage = {
  enter(root, ctx) {
    const name = nameInPath(location.pathname.slice('/node/'.length));
    cur = { root, ctx, name };
    root.append(h('p', { class: 'muted' }, 'reading ', bdi(name), '…'));
    const me = cur;
    Promise.all([api(`/api/nodes/${encodeURIComponent(name)}`), api(historyUrl(name))])
      .then(([d, hist]) => {
        if (me === cur) me.plots = render(root, d, hist, ctx);
      })
      .catch((e) => me === cur && root.replaceChildren(h('p', { class: 'error' }, e.message)));
  },
  update(view) {
    // The live part of the page follows the fleet view: the stale mark, the state badge, and the plots.
    if (cur) refreshTrends(cur);
    const row = cur && view.nodes.find((n) => n.name === cur.name);
    const head = cur?.root.querySelector('.node-head');
    if (!row || !head) return;
    head.dataset.readingAt = row.reading ? String(row.reading.at) : '0';
    const badge = head.querySelector('.badge');
    const st = stateOf(row);
    badge.className = `badge ${st}`;
    badge.textContent = st;
  },
  leave() {
    cur?.plots?.destroy();
    cur = null;
  },
};
