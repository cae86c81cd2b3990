import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { meshpopHome } from '@meshpop/vault/light';
import { VsshError } from '../errors.js';
import { DEFAULT_PORT, vsshPaths } from '../paths.js';

/** Address is one way to reach a node's daemon; TLS is required off the mesh. */
export interface Address {
  host: string;
  port: number;
  tls: boolean;
  via: 'static' | 'wire' | 'tailscale' | 'public';
}

/** NodeTarget is a node as the client knows it: its name, the id its key is derived from, and addresses in order of preference. */
export interface NodeTarget {
  name: string;
  id: string;
  addresses: Address[];
}

/**
 * StaticNodes is `$MESHPOP_HOME/vssh/nodes.json`: name -> { addresses, port?, id?, tls? }. An address is
 * "host" or "host:port" ("[v6]:port" for IPv6), or `{ "address": "host[:port]", "tls": true|false }` to
 * choose TLS for that address alone; the node's `tls` (default false) is the choice for the plain strings.
 */
export type StaticNodes = Record<string, { addresses: (string | { address: string; tls?: boolean })[]; port?: number; id?: string; tls?: boolean }>;

function parseAddress(a: string, port: number, tls: boolean): Address {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(a) ?? /^([^:]+):(\d+)$/.exec(a);
  return m ? { host: m[1]!, port: Number(m[2]), tls, via: 'static' } : { host: a.replace(/^\[|\]$/g, ''), port, tls, via: 'static' };
}

/** staticAddress reads one entry of a node's `addresses`, or returns undefined when it is neither form. */
function staticAddress(a: unknown, port: number, tls: boolean): Address | undefined {
  if (typeof a === 'string' && a !== '') return parseAddress(a, port, tls);
  if (typeof a !== 'object' || a === null || Array.isArray(a)) return undefined;
  const o = a as Record<string, unknown>;
  if (typeof o.address !== 'string' || o.address === '' || (o.tls !== undefined && typeof o.tls !== 'boolean')) return undefined;
  if (Object.keys(o).some((k) => k !== 'address' && k !== 'tls')) return undefined;
  return parseAddress(o.address, port, typeof o.tls === 'boolean' ? o.tls : tls);
}

/** readStaticNodes reads nodes.json (empty when absent), refusing a malformed one with the reason. */
export function readStaticNodes(file: string): NodeTarget[] {
  if (!existsSync(file)) return [];
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new VsshError('VSSH_BAD_INPUT', `${file} is not valid JSON (${(err as Error).message}); fix or remove it.`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new VsshError('VSSH_BAD_INPUT', `${file} must be an object of node name -> {addresses, port}`);
  return Object.entries(raw as StaticNodes).map(([name, n]) => {
    const need = `${file}: node "${name}" needs "addresses": a list of "host", "host:port" or {"address": "host:port", "tls": true}`;
    if (!n || !Array.isArray(n.addresses) || n.addresses.length === 0) throw new VsshError('VSSH_BAD_INPUT', need);
    const port = n.port ?? DEFAULT_PORT;
    const addresses = n.addresses.map((a) => staticAddress(a, port, n.tls === true));
    const bad = addresses.findIndex((a) => a === undefined);
    if (bad >= 0) throw new VsshError('VSSH_BAD_INPUT', `${need}; entry ${bad + 1} is ${JSON.stringify(n.addresses[bad]).slice(0, 80)}`);
    return { name, id: n.id ?? name, addresses: addresses as Address[] };
  });
}

/** wireNodes lists the mesh's nodes from Wire: the registry on the coordinator, the cached peer list elsewhere. */
async function wireNodes(home: string): Promise<NodeTarget[]> {
  const wirePath = join(home, 'wire');
  if (!existsSync(wirePath)) return [];
  const wire = await import('@meshpop/wire'); // loaded only when the static list does not know the node
  const paths = wire.wirePaths(home);
  const toTarget = (name: string, id: string, meshIp: string, tailscaleIp: string | null, publicEndpoint: string | null): NodeTarget => {
    const addresses: Address[] = [{ host: meshIp, port: DEFAULT_PORT, tls: false, via: 'wire' }];
    if (tailscaleIp) addresses.push({ host: tailscaleIp, port: DEFAULT_PORT, tls: true, via: 'tailscale' });
    const pub = publicEndpoint ? publicEndpoint.slice(0, publicEndpoint.lastIndexOf(':')).replace(/^\[|\]$/g, '') : null;
    if (pub) addresses.push({ host: pub, port: DEFAULT_PORT, tls: true, via: 'public' });
    return { name, id, addresses };
  };
  if (existsSync(paths.registry)) {
    const reg = new wire.Registry(paths.registry);
    try {
      const nodes = reg.listNodes().map((n) => toTarget(n.name, n.id, n.meshIp, n.tailscaleIp, n.publicEndpoint));
      return [toTarget('coordinator', 'coordinator', wire.COORDINATOR_IP, null, null), ...nodes];
    } finally {
      reg.close();
    }
  }
  const cached = wire.readCachedPeers(paths.peers);
  if (!cached) return [];
  // A cache written by an older wire has no tailscaleIp: then the mesh address is the only one.
  const tailscaleOf = (p: object): string | null => {
    const ip = (p as { tailscaleIp?: unknown }).tailscaleIp;
    return typeof ip === 'string' && ip !== '' ? ip : null;
  };
  const self = cached.reply.self;
  return [toTarget(self.name, self.id, self.meshIp, tailscaleOf(self), null), ...cached.reply.peers.map((p) => toTarget(p.name, p.id, p.meshIp, tailscaleOf(p), null))];
}

/** listNodes returns every node this machine knows: the static list first, then Wire's (names the static list has are not repeated). */
export async function listNodes(home: string = meshpopHome()): Promise<NodeTarget[]> {
  return merge(readStaticNodes(vsshPaths(home).nodes), home);
}

async function merge(fixed: NodeTarget[], home: string): Promise<NodeTarget[]> {
  const names = new Set(fixed.map((n) => n.name));
  return [...fixed, ...(await wireNodes(home)).filter((n) => !names.has(n.name))];
}

/**
 * staticByName is nodes.json by name, read again only when the file changes (its size, mtime or inode): a
 * fan-out resolves every node of a fleet, and reading a list of N nodes N times is quadratic.
 */
const staticCache = new Map<string, { stamp: string; byName: Map<string, NodeTarget>; list: NodeTarget[] }>();
function staticByName(file: string): { byName: Map<string, NodeTarget>; list: NodeTarget[] } {
  let stamp = 'absent';
  try {
    const st = statSync(file, { bigint: true });
    stamp = `${st.ino}:${st.size}:${st.mtimeNs}`;
  } catch {
    // absent (or unreadable: readStaticNodes says which)
  }
  const cached = staticCache.get(file);
  if (cached && cached.stamp === stamp) return cached;
  const list = readStaticNodes(file);
  const entry = { stamp, byName: new Map(list.map((n) => [n.name, n])), list };
  staticCache.set(file, entry);
  return entry;
}

/** resolveNode finds a node by name (or mesh IP), or throws VSSH_UNKNOWN_NODE listing the known ones. */
export async function resolveNode(name: string, home: string = meshpopHome()): Promise<NodeTarget> {
  const { byName, list: fixed } = staticByName(vsshPaths(home).nodes);
  const hit = byName.get(name); // found here, Wire is not loaded at all
  if (hit) return structuredClone(hit);
  const all = await merge(fixed, home);
  const found = all.find((n) => n.name === name || n.addresses.some((a) => a.via === 'wire' && a.host === name));
  if (found) return found;
  const known = all.map((n) => n.name).join(', ') || 'none';
  throw new VsshError('VSSH_UNKNOWN_NODE', `no node named "${name}" (known: ${known}); add it to ${vsshPaths(home).nodes} or join it to the mesh.`);
}
