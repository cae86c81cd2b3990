// A node's page: its live reading, trend plots from the monitor database (uPlot), services, ports,
// releases, alerts and the last lines of its system log; restart and heal buttons when actions are allowed.
import { h, pct, bytes, rate, ago, duration, api } from './util.js';

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

/** plot draws one uPlot chart of history columns and returns its holder (the chart kept on it for tests). */
function plot(id, title, t, series, unit, range) {
  const holder = h('div', { class: 'plot', id, dataset: { points: String(t.length), series: String(series.length) } }, h('h3', {}, title));
  if (!t.length) {
    holder.append(h('p', { class: 'muted' }, 'no monitor rows in this range: run mpop monitor (or install-service monitor)'));
    return holder;
  }
  const colours = ['#2f7ed8', '#d8672f', '#3fa34d', '#9b59b6', '#c0392b', '#16a085'];
  const opts = {
    width: 400, height: 170,
    scales: { x: { time: true }, y: range ? { range } : { auto: true } },
    series: [{}, ...series.map(([label], i) => ({ label, stroke: colours[i % colours.length], width: 1.5, spanGaps: false, value: (u, v) => (v === null ? '–' : `${v}${unit}`) }))],
    axes: [{}, { values: (u, vals) => vals.map((v) => `${v}${unit}`), size: 60 }],
  };
  // uPlot is loaded by index.html as a classic script (window.uPlot), served from node_modules.
  const chart = new window.uPlot(opts, [t, ...series.map(([, v]) => v)], holder);
  holder.uplot = chart;
  return holder;
}

function plots(hist) {
  const mounts = Object.keys(hist.disk);
  return section('trends', `Trends (monitor, last ${Math.round((Date.parse(hist.to) - Date.parse(hist.from)) / 3600000)} h, ${hist.t.length} rows)`,
    hist.monitored ? null : h('p', { class: 'muted' }, 'no monitor database yet: mpop monitor writes one'),
    h('div', { class: 'plots' },
      plot('plot-cpu', 'CPU', hist.t, [['cpu', hist.cpu]], '%', [0, 100]),
      plot('plot-mem', 'Memory', hist.t, [['memory', hist.mem]], '%', [0, 100]),
      plot('plot-load', 'Load (1 min)', hist.t, [['load1', hist.load]], '', null),
      plot('plot-disk', 'Disk', hist.t, mounts.map((m) => [m, hist.disk[m]]), '%', [0, 100])));
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
  const st = !n.online ? 'offline' : n.stale ? 'stale' : 'online';
  const head = h('div', { class: 'node-head', dataset: { node: n.name, readingAt: r ? String(r.at) : '0' } },
    h('h1', {}, n.name, ' ', h('span', { class: `badge ${st}` }, st)), h('p', { class: 'muted' }, [n.address, n.groups.length ? `groups ${n.groups.join(', ')}` : null, n.roles.length ? `roles ${n.roles.join(', ')}` : null].filter(Boolean).join(' · ')));
  const info = section('sysinfo', 'System', r ? kv([
    ['Last seen', `${new Date(r.at).toISOString().replace('T', ' ').slice(0, 19)} (${ago(ctx.serverNow() - r.at)})`],
    ['Host', `${r.hostname} · ${r.platform}/${r.arch}`], ['Kernel', r.kernel], ['vssh', r.vsshVersion],
    ['CPU', `${pct(r.cpuPercent)} of ${r.cores} × ${r.cpuModel ?? 'CPU'}`], ['Load', r.load.join(' ')],
    ['Memory', `${bytes(r.memory.usedBytes)} of ${bytes(r.memory.totalBytes)} (${pct(r.memory.percent)})`],
    ['Disks', r.disks.map((x) => `${x.mount} ${pct(x.usePercent)} of ${bytes(x.totalBytes)}`).join(' · ') || '–'],
    ['Network', r.net ? `↓${rate(r.net.rxPerS)} ↑${rate(r.net.txPerS)} (${bytes(r.net.rxBytes)} / ${bytes(r.net.txBytes)} since boot)` : '–'],
    ['Uptime', duration(r.uptimeS)], ['Round trip', `${r.rttMs} ms`], ['GPUs', String(r.gpus)],
    ['Failed units', r.failedUnits === null ? 'no systemd' : r.failedUnits.join(', ') || 'none'],
  ]) : h('p', { class: 'muted' }, n.error ? n.error.message : 'never read'));
  const ports = section('ports', 'Listening ports', d.ports.ok
    ? h('table', { class: 'list' }, h('tr', {}, ['Proto', 'Address', 'Port', 'Process'].map((x) => h('th', {}, x))), d.ports.value.map((p) => h('tr', {}, h('td', {}, p.proto), h('td', {}, p.address), h('td', { class: 'num' }, p.port), h('td', {}, p.processes.map((x) => `${x.name}[${x.pid}]`).join(', ') || '–'))))
    : unavailable(d.ports));
  const releases = section('releases', 'Releases', d.releases.ok
    ? (d.releases.value.length ? d.releases.value.map((x) => h('div', {}, h('h3', {}, x.path), h('ul', {}, x.releases.releases.map((rel) => h('li', {}, `${rel.id}${rel.live ? ' (live)' : ''}${rel.stale ? ' (stale)' : ''}`))))) : h('p', { class: 'muted' }, 'no deploy recorded for this node'))
    : unavailable(d.releases));
  const alerts = section('node-alerts', 'Recent alerts', d.alerts.length
    ? h('table', { class: 'list' }, d.alerts.map((a) => h('tr', {}, h('td', { class: a.firing ? 'crit' : 'ok' }, a.firing ? 'firing' : 'resolved'), h('td', {}, a.rule + (a.subject ? ` ${a.subject}` : '')), h('td', {}, a.since.slice(0, 19).replace('T', ' ')), h('td', {}, a.message))))
    : h('p', { class: 'muted' }, 'none'));
  const heal = ctx.state.session.allowActions ? section('heal-actions', 'Heal', h('p', {}, ctx.state.session.checks.map((c) => h('button', { onclick: () => act(ctx, { kind: 'heal', node: n.name, check: c }).catch((e) => alert(e.message)) }, c)))) : null;
  const logs = section('logs', 'Last log lines', d.logs.ok ? h('pre', { class: 'logs' }, d.logs.value.join('\n') || '(empty)') : unavailable(d.logs));
  root.replaceChildren(...[head, h("div", { class: "grid" }, info, plots(hist)), services(d, ctx), h("div", { class: "grid" }, ports, releases), alerts, heal, logs].filter(Boolean));
}

export const nodePage = {
  enter(root, ctx) {
    const name = decodeURIComponent(location.pathname.slice('/node/'.length));
    cur = { root, ctx, name };
    root.append(h('p', { class: 'muted' }, `reading ${name}…`));
    const me = cur;
    Promise.all([api(`/api/nodes/${encodeURIComponent(name)}`), api(`/api/nodes/${encodeURIComponent(name)}/history?hours=6`)])
      .then(([d, hist]) => me === cur && render(root, d, hist, ctx))
      .catch((e) => me === cur && root.replaceChildren(h('p', { class: 'error' }, e.message)));
  },
  update(view) {
    // The live part of the page follows the fleet view: the stale mark and the state badge.
    const row = cur && view.nodes.find((n) => n.name === cur.name);
    const head = cur?.root.querySelector('.node-head');
    if (!row || !head) return;
    head.dataset.readingAt = row.reading ? String(row.reading.at) : '0';
    const badge = head.querySelector('.badge');
    const st = !row.online ? 'offline' : row.stale ? 'stale' : 'online';
    badge.className = `badge ${st}`;
    badge.textContent = st;
  },
  leave() {
    cur = null;
  },
};
