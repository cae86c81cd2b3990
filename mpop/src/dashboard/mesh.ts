import type { Pool } from '@meshpop/vssh/client';
import { errorInfo } from '../errors.js';
import { fanout } from '../fanout/run.js';

/** MeshPeer is one peer as a node's `wire status --json` reports it. */
interface MeshPeer {
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
    const r = await client.exec({ argv: ['wire', 'status', '--json'] }, { timeoutMs: opts.timeoutMs ?? 10_000, maxOutputBytes: 1 << 20, signal });
    const text = r.stdout.toString('utf8');
    let s: { peers?: MeshPeer[]; error?: { code?: string; message?: string } };
    try {
      s = JSON.parse(text) as typeof s;
    } catch {
      return { note: r.exitCode === 127 ? 'wire is not installed there' : `wire status exited ${r.exitCode} without JSON` };
    }
    if (s.error) return { note: s.error.code === 'WIRE_NOT_JOINED' ? 'not in a mesh' : `${s.error.code ?? 'wire'}: ${s.error.message ?? ''}` };
    return { peers: Array.isArray(s.peers) ? s.peers : [], now: Date.now() };
  }, { timeoutMs: (opts.timeoutMs ?? 10_000) + 2000, ...(opts.signal ? { signal: opts.signal } : {}) });
  const graph: MeshGraph = { generatedAt: new Date().toISOString(), nodes: [], edges: [] };
  const pairs = new Map<string, MeshEdge>();
  for (const r of run.results) {
    const v = r.value as { peers?: MeshPeer[]; now?: number; note?: string } | undefined;
    if (!v) {
      graph.nodes.push({ name: r.node, inMesh: false, note: r.error ? errorInfo(r.error).message : r.outcome });
      continue;
    }
    if (!v.peers) {
      graph.nodes.push({ name: r.node, inMesh: false, note: v.note ?? 'no mesh' });
      continue;
    }
    graph.nodes.push({ name: r.node, inMesh: true });
    for (const p of v.peers) {
      const [a, b] = [r.node, p.name].sort();
      const key = `${a}\0${b}`;
      const k = kindOf(p.path);
      const age = p.lastHandshake ? Math.max(0, Math.round((v.now! - p.lastHandshake) / 1000)) : null;
      const prev = pairs.get(key);
      if (!prev) pairs.set(key, { a: a!, b: b!, ...k, handshakeAgeS: age });
      else {
        if (k.path === 'direct' || (prev.path === 'none' && k.path !== 'none')) Object.assign(prev, k.path === 'direct' ? { path: 'direct', via: undefined } : k);
        if (age !== null && (prev.handshakeAgeS === null || age < prev.handshakeAgeS)) prev.handshakeAgeS = age;
      }
    }
  }
  graph.edges = [...pairs.values()].map((e) => (e.via === undefined ? { a: e.a, b: e.b, path: e.path, handshakeAgeS: e.handshakeAgeS } : e));
  return graph;
}
