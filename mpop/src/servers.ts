import { existsSync } from 'node:fs';
import type { Inventory } from './inventory/inventory.js';

/** ServerRow is one node of the fleet as `mpop servers` lists it. */
export interface ServerRow {
  name: string;
  source: 'static' | 'wire';
  /** the address vssh tries first (host:port) */
  address: string;
  via: string;
  groups: string[];
  roles: string[];
  /** from the Wire registry, on the coordinator's machine: online / offline, and when it last synced */
  wire: { status: string; meshIp: string; lastSeen: string | null; endpoint: string | null } | null;
}

/** listServers lists the fleet from the inventory, with the Wire registry's view of each node where this machine holds it. */
export async function listServers(inv: Inventory): Promise<ServerRow[]> {
  const registry = await wireRecords(inv.home);
  return inv.nodes.map((n) => {
    const first = n.addresses[0];
    const rec = registry.get(n.name);
    return {
      name: n.name,
      source: n.source,
      address: first ? `${first.host.includes(':') ? `[${first.host}]` : first.host}:${first.port}` : '',
      via: first?.via ?? '',
      groups: n.groups,
      roles: n.roles,
      wire: rec ? { status: rec.status, meshIp: rec.meshIp, lastSeen: rec.lastSeen ? new Date(rec.lastSeen).toISOString() : null, endpoint: rec.publicEndpoint } : null,
    };
  });
}

async function wireRecords(home: string): Promise<Map<string, { status: string; meshIp: string; lastSeen: number | null; publicEndpoint: string | null }>> {
  const out = new Map<string, { status: string; meshIp: string; lastSeen: number | null; publicEndpoint: string | null }>();
  const wire = await import('@meshpop/wire');
  const paths = wire.wirePaths(home);
  if (!existsSync(paths.registry)) return out;
  const reg = new wire.Registry(paths.registry);
  try {
    for (const n of reg.listNodes()) out.set(n.name, n);
  } finally {
    reg.close();
  }
  return out;
}
