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
