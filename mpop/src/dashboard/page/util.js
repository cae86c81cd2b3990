// Small helpers: DOM building without innerHTML (every value from the server is text, never markup), formats.

/** h builds an element: h('td', {class: 'x', dataset: {col: 'cpu'}}, 'text', child). */
export function h(tag, attrs = {}, ...children) {
  const el = tag.startsWith('svg:') ? document.createElementNS('http://www.w3.org/2000/svg', tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

/**
 * bdi wraps a name from the fleet (a node, a group, a mount) in <bdi>: a right-to-left override inside it
 * (U+202E) cannot reorder the text around it, so "a ↔ b" always reads in that order.
 */
export const bdi = (s) => h('bdi', {}, s);

/** isolate is bdi for plain strings (a title, a tooltip): the name between FSI and PDI (U+2068, U+2069). */
export const isolate = (s) => `\u2068${s}\u2069`;

/** joined puts `sep` between the items: joined(groups.map(bdi), ', '). */
export const joined = (items, sep) => items.flatMap((x, i) => (i ? [sep, x] : [x]));

export const pct = (v) => (v === null || v === undefined ? '–' : `${Number(v).toFixed(1)}%`);
export function bytes(n) {
  if (n === null || n === undefined) return '–';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) (n /= 1024), i++;
  return `${n.toFixed(n >= 10 || i === 0 ? 0 : 1)} ${u[i]}`;
}
export const rate = (n) => (n === null || n === undefined ? '–' : `${bytes(n)}/s`);
export function ago(ms) {
  if (ms === null || ms === undefined) return 'never';
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 60 ? `${s}s ago` : s < 3600 ? `${Math.round(s / 60)}m ago` : s < 86400 ? `${Math.round(s / 3600)}h ago` : `${Math.round(s / 86400)}d ago`;
}
export function duration(s) {
  const d = Math.floor(s / 86400), hh = Math.floor((s % 86400) / 3600), mm = Math.floor((s % 3600) / 60);
  return d ? `${d}d ${hh}h` : hh ? `${hh}h ${mm}m` : `${mm}m`;
}

// The fleet table's model, shared by the page (fleet.js) and the MCP App (app/fleet-app.js).

/** worstDisk is a node's fullest disk, or null without a reading. */
export const worstDisk = (n) => (n.reading?.disks ?? []).reduce((w, d) => (!w || d.usePercent > w.usePercent ? d : w), null);

/** stateOf is a node row's state: offline (its last poll failed), stale (its reading is old) or online. */
export const stateOf = (n) => (!n.online ? 'offline' : n.stale ? 'stale' : 'online');

/** levelled marks a cell with its level (warn, crit) when it is not ok. */
export function levelled(cell, lvl) {
  if (lvl && lvl !== 'ok') cell.classList.add(lvl);
  return cell;
}

/** SORT_KEYS give each sortable column its value: strings collate (numbers inside them in order), numbers compare. */
export const SORT_KEYS = {
  name: (n) => n.name,
  state: (n) => (n.online ? (n.stale ? 1 : 0) : 2),
  groups: (n) => n.groups.join(','),
  cpu: (n) => n.reading?.cpuPercent ?? -1,
  mem: (n) => n.reading?.memory.percent ?? -1,
  disk: (n) => worstDisk(n)?.usePercent ?? -1,
  net: (n) => (n.reading?.net ? (n.reading.net.rxPerS ?? 0) + (n.reading.net.txPerS ?? 0) : -1),
  load: (n) => n.reading?.load[0] ?? -1,
  rtt: (n) => n.reading?.rttMs ?? Infinity,
  uptime: (n) => n.reading?.uptimeS ?? -1,
  version: (n) => n.reading?.vsshVersion ?? '',
};

/** COLUMN_LABELS are the fleet tables' column headings, by column key. */
export const COLUMN_LABELS = { name: 'Node', state: 'State', groups: 'Groups', cpu: 'CPU', mem: 'Memory', disk: 'Disk', net: 'Network', load: 'Load', rtt: 'RTT', uptime: 'Uptime', version: 'Versions', trend: 'CPU trend' };

/** readingCells are the cells both tables show alike for a node's reading: cpu, mem, disk, load, rtt, uptime (levels marked). */
export function readingCells(n) {
  const r = n.reading;
  const d = worstDisk(n);
  return {
    cpu: levelled(h('td', { class: 'num' }, r ? pct(r.cpuPercent) : '–'), r?.levels.cpu),
    mem: levelled(h('td', { class: 'num', title: r ? `${r.memory.usedBytes} of ${r.memory.totalBytes} bytes` : '' }, r ? pct(r.memory.percent) : '–'), r?.levels.memory),
    disk: levelled(h('td', { class: 'num', title: d ? d.mount : '' }, d ? [`${pct(d.usePercent)} `, bdi(d.mount)] : '–'), r?.levels.disk),
    load: levelled(h('td', { class: 'num' }, r ? r.load.map((x) => x.toFixed(2)).join(' ') : '–'), r?.levels.load),
    rtt: h('td', { class: 'num' }, r ? `${r.rttMs} ms` : '–'),
    uptime: h('td', { class: 'num' }, r ? duration(r.uptimeS) : '–'),
  };
}

const collate = new Intl.Collator(undefined, { numeric: true });

/** shownNodes is the table's rows: filtered by name (q), group or role, and state; sorted by f.sort in f.dir, then by name. */
export function shownNodes(nodes, f) {
  const q = f.q.toLowerCase();
  const shown = nodes.filter((n) => (!q || n.name.toLowerCase().includes(q)) && (!f.group || n.groups.includes(f.group) || n.roles.includes(f.group)) && (!f.state || stateOf(n) === f.state));
  const key = SORT_KEYS[f.sort] ?? SORT_KEYS.name;
  const sign = f.dir === 'desc' ? -1 : 1;
  return shown.sort((a, b) => {
    const x = key(a), y = key(b);
    return sign * (typeof x === 'string' ? collate.compare(x, y) : x - y) || collate.compare(a.name, b.name);
  });
}

/** api fetches JSON from the server; a refusal throws with the server's message. */
export async function api(path, opts = {}) {
  const r = await fetch(path, { credentials: 'same-origin', ...opts });
  if (r.status === 401) {
    location.replace('/login');
    throw new Error('logged out');
  }
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(body.error?.message ?? `${r.status}`);
  return body;
}
