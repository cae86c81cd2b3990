// The mesh as a graph: nodes on a circle, a line per pair (solid: direct, dashed: relayed), the freshest
// handshake's age on each line, and the nodes that are not in a mesh greyed with the reason.
import { h, api, bdi, isolate } from './util.js';

const R = 220, CX = 320, CY = 270;

/** handshake says how old a pair's last handshake is (a relayed pair's: the older of its two legs'). */
const handshake = (e) => (e.handshakeAgeS === null ? 'never' : `${e.handshakeAgeS} s ago${e.handshakeFrom === 'relay' ? ' (its legs through the relay)' : ''}`);

function svg(graph) {
  const names = graph.nodes.map((n) => n.name);
  const pos = new Map(names.map((n, i) => {
    const a = (2 * Math.PI * i) / Math.max(1, names.length) - Math.PI / 2;
    return [n, [CX + R * Math.cos(a), CY + R * Math.sin(a)]];
  }));
  const s = h('svg:svg', { id: 'mesh-graph', viewBox: '0 0 640 540', width: 640, height: 540, role: 'img', 'aria-label': 'mesh graph' });
  for (const e of graph.edges) {
    const [x1, y1] = pos.get(e.a) ?? [CX, CY], [x2, y2] = pos.get(e.b) ?? [CX, CY];
    const cls = `edge ${e.path}${e.handshakeAgeS !== null && e.handshakeAgeS > 180 ? ' old' : ''}`;
    s.append(h('svg:line', { x1, y1, x2, y2, class: cls, 'data-pair': `${e.a}-${e.b}` }, h('svg:title', {}, `${isolate(e.a)} ↔ ${isolate(e.b)}: ${e.path}${e.via ? ` via ${isolate(e.via)}` : ''}, handshake ${handshake(e)}`)));
    s.append(h('svg:text', { x: (x1 + x2) / 2, y: (y1 + y2) / 2 - 4, class: 'edge-label' }, e.handshakeAgeS === null ? '–' : `${e.handshakeAgeS}s`));
  }
  for (const n of graph.nodes) {
    const [x, y] = pos.get(n.name);
    s.append(h('svg:g', { class: `mesh-node${n.inMesh ? '' : ' out'}`, 'data-node': n.name },
      h('svg:circle', { cx: x, cy: y, r: 22 }), h('svg:text', { x, y: y + 4, 'text-anchor': 'middle' }, n.name), h('svg:title', {}, n.inMesh ? n.name : `${isolate(n.name)}: ${n.note}`)));
  }
  return s;
}

export const meshPage = {
  enter(root) {
    this.root = root;
    root.append(h('p', { class: 'muted' }, 'asking every node for its mesh view…'));
    api('/api/mesh').then((g) => {
      if (this.root !== root) return;
      const legend = h('p', { class: 'legend' }, h('span', { class: 'key direct' }, 'direct'), h('span', { class: 'key relayed' }, 'relayed'), h('span', { class: 'key none' }, 'no path'), ' · label: seconds since the last handshake');
      const out = g.nodes.filter((n) => !n.inMesh);
      root.replaceChildren(h('h1', {}, 'Mesh'), legend, svg(g),
        h('table', { class: 'list', id: 'mesh-pairs' }, h('tr', {}, ['Pair', 'Path', 'Handshake'].map((x) => h('th', {}, x))), g.edges.map((e) => h('tr', { dataset: { pair: `${e.a}\n${e.b}` } }, h('td', {}, bdi(e.a), ' ↔ ', bdi(e.b)), h('td', {}, e.path, e.via ? [' via ', bdi(e.via)] : null), h('td', {}, handshake(e))))),
        out.length ? h('ul', { id: 'mesh-out' }, out.map((n) => h('li', { dataset: { node: n.name } }, bdi(n.name), `: ${n.note}`))) : null);
    }).catch((e) => this.root === root && root.replaceChildren(h('p', { class: 'error' }, e.message)));
  },
  leave() {
    this.root = null;
  },
};
