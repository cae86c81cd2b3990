import type { Pool, SysInfo } from '@meshpop/vssh/client';
import type { FleetNode } from '../inventory/inventory.js';
import { statusRow, type StatusRow } from './status.js';

/** NodeInfo is everything one node says about itself (its signed hello and its sysinfo) and what the inventory says of it. */
export interface NodeInfo {
  node: string;
  inventory: { id: string; source: FleetNode['source']; addresses: string[]; groups: string[]; roles: string[] };
  /** the address the connection uses */
  address: string | null;
  hello: { name: string; host: string; version: string; policy: string[]; tlsFingerprint: string | null };
  /** the node's clock minus ours, in ms, from the hello (within half a round trip) */
  clockSkewMs: number;
  status: StatusRow;
  sysinfo: SysInfo;
}

/** nodeInfo asks one node for its hello and sysinfo. It throws (VsshError) when the node cannot be reached. */
export async function nodeInfo(pool: Pool, node: FleetNode, opts: { signal?: AbortSignal } = {}): Promise<NodeInfo> {
  const client = await pool.client(node.name);
  const t0 = Date.now();
  const hello = await client.hello();
  const t1 = Date.now();
  opts.signal?.throwIfAborted();
  const [info, rtt] = await Promise.all([client.sysinfo(), client.ping()]);
  const a = client.address;
  return {
    node: node.name,
    inventory: { id: node.id, source: node.source, addresses: node.addresses.map((x) => `${x.host}:${x.port}${x.tls ? ' (tls)' : ''} via ${x.via}`), groups: node.groups, roles: node.roles },
    address: a ? `${a.host}:${a.port}` : null,
    hello: { name: hello.name, host: hello.host, version: hello.version, policy: hello.policy, tlsFingerprint: hello.tlsFingerprint },
    clockSkewMs: Math.round(hello.time - (t0 + t1) / 2),
    status: statusRow(info, rtt),
    sysinfo: info,
  };
}
