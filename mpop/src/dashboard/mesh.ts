import type { Pool } from '@meshpop/vssh/client';
import { errorInfo } from '../errors.js';
import { fanout } from '../fanout/run.js';

/** MeshPeer is one peer as a node's `wire status --json` reports it. */
export interface MeshPeer {
  name: string;
  lastHandshake: number | null;
  path: string;
}

/** MeshEdge is one pair of nodes: how they reach each other and how old the freshest handshake is. */
export interface MeshEdge {
  a: string;
  b: string;
  /** direct, relayed (via a node), or what wire says otherwise (tailscale, no path, not configured) */
  path: 'direct' | 'relayed' | 'tailscale' | 'none';
  via?: string;
  /** seconds since the freshest handshake either side saw, null when neither had one */
  handshakeAgeS: number | null;
  /**
   * 'relay' when the pair has no WireGuard session of its own (wire's relay carries its packets inside each
   * side's session with the relay node) and handshakeAgeS is the older of those two sessions' ages
   */
  handshakeFrom?: 'relay';
}

/** MeshGraph is the mesh as each node sees it: the nodes, the pairs, and the nodes that could not say (and why). */
export interface MeshGraph {
  generatedAt: string;
  nodes: { name: string; inMesh: boolean; note?: string }[];
  edges: MeshEdge[];
}

const kindOf = (path: string): { path: MeshEdge['path']; via?: string } => {
  if (path === 'direct') return { path: 'direct' };
  const m = /^relayed via (.+)$/.exec(path);
  if (m) return { path: 'relayed', via: m[1]! };
  if (path === 'tailscale') return { path: 'tailscale' };
  return { path: 'none' };
};

/**
 * meshGraph asks every node for its mesh view (`wire status --json` over vssh, each bounded by timeoutMs) and
 * joins both sides of each pair: a pair is direct when either side has a direct path, relayed otherwise. A
 * node without wire, or not joined, is in the graph with the reason and no edges.
 */
export async function meshGraph(pool: Pool, nodes: string[], opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<MeshGraph> {
  const run = await fanout(pool, nodes, async ({ client, signal }) => {
    // Handshake times are the node's clock: its hello says what that clock reads (argv, not a shell, so a node
    // whose policy allows only named commands can still answer).
    const [r, hello] = await Promise.all([client.exec({ argv: ['wire', 'status', '--json'] }, { timeoutMs: opts.timeoutMs ?? 10_000, maxOutputBytes: 1 << 20, signal }), client.hello().catch(() => undefined)]);
    const nodeNow = hello?.time ?? Date.now();
    const text = r.stdout.toString('utf8');
    let s: { peers?: MeshPeer[]; error?: { code?: string; message?: string } };
    try {
      s = JSON.parse(text) as typeof s;
    } catch {
      return { note: r.exitCode === 127 ? 'wire is not installed there' : `wire status exited ${r.exitCode} without JSON` };
    }
    if (s.error) return { note: s.error.code === 'WIRE_NOT_JOINED' ? 'not in a mesh' : `${s.error.code ?? 'wire'}: ${s.error.message ?? ''}` };
    return { peers: Array.isArray(s.peers) ? s.peers : [], now: nodeNow };
  }, { timeoutMs: (opts.timeoutMs ?? 10_000) + 2000, ...(opts.signal ? { signal: opts.signal } : {}) });
  return joinMeshViews(run.results.map((r) => {
    const v = r.value as { peers?: MeshPeer[]; now?: number; note?: string } | undefined;
    if (!v) return { node: r.node, note: r.error ? errorInfo(r.error).message : r.outcome };
    return v.peers ? { node: r.node, peers: v.peers, now: v.now! } : { node: r.node, note: v.note ?? 'no mesh' };
  }));
}

/** NodeMeshView is one node's answer: its peers as `wire status --json` lists them (and its clock then), or why it has none. */
export type NodeMeshView = { node: string; peers: MeshPeer[]; now: number } | { node: string; note: string };

/**
 * joinMeshViews joins every node's view into pairs: a pair is direct when either side has a direct path (else
 * relayed, tailscale, or none, as the sides say), and its handshake age is the freshest either side saw; a
 * relayed pair without a handshake of its own takes the older of its two legs' (handshakeFrom: 'relay').
 */
export function joinMeshViews(views: NodeMeshView[]): MeshGraph {
  const graph: MeshGraph = { generatedAt: new Date().toISOString(), nodes: [], edges: [] };
  const pairs = new Map<string, MeshEdge>();
  for (const v of views) {
    if (!('peers' in v)) {
      graph.nodes.push({ name: v.node, inMesh: false, note: v.note });
      continue;
    }
    graph.nodes.push({ name: v.node, inMesh: true });
    for (const p of v.peers) {
      const [a, b] = [v.node, p.name].sort();
      const key = `${a}\0${b}`;
      const k = kindOf(p.path);
      const age = p.lastHandshake ? Math.max(0, Math.round((v.now - p.lastHandshake) / 1000)) : null;
      const prev = pairs.get(key);
      if (!prev) pairs.set(key, { a: a!, b: b!, ...k, handshakeAgeS: age });
      else {
        if (k.path === 'direct') {
          prev.path = 'direct';
          delete prev.via;
        } else if (prev.path === 'none' && k.path !== 'none') Object.assign(prev, k);
        if (age !== null && (prev.handshakeAgeS === null || age < prev.handshakeAgeS)) prev.handshakeAgeS = age;
      }
    }
  }
  // A relayed pair never handshakes itself: how fresh its path is, is how fresh the older of its two legs is.
  for (const e of pairs.values()) {
    if (e.path !== 'relayed' || e.handshakeAgeS !== null || !e.via) continue;
    const legs = [e.a, e.b].map((n) => pairs.get([n, e.via!].sort().join('\0'))?.handshakeAgeS ?? null);
    if (legs.every((x): x is number => x !== null)) Object.assign(e, { handshakeAgeS: Math.max(...legs), handshakeFrom: 'relay' });
  }
  graph.edges = [...pairs.values()];
  return graph;
}
