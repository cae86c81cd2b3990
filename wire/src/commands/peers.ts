import { existsSync } from 'node:fs';
import { WireCommand, ago, table } from '../cli/base.js';
import { openLocalRegistry } from '../coordinator/local.js';
import { checkNotRemoved, readCachedPeers, readNodeState } from '../node/state.js';
import { WireError } from '../errors.js';

interface PeerRow {
  name: string;
  meshIp: string;
  status: string;
  endpoint: string | null;
  lastSeen?: string | null;
  lanAddrs?: string[];
  tailscaleIp?: string | null;
}

export default class Peers extends WireCommand {
  static override summary = 'List the nodes of the mesh: the registry on the coordinator, the last known list on a node.';
  static override examples = ['<%= config.bin %> peers', '<%= config.bin %> peers --json'];

  async run(): Promise<PeerRow[]> {
    await this.parse(Peers);
    let rows: PeerRow[];
    if (existsSync(this.paths.registry)) {
      const registry = openLocalRegistry(this.home);
      try {
        rows = registry.listNodes().map((n) => ({ name: n.name, meshIp: n.meshIp, status: n.status, endpoint: n.publicEndpoint, lastSeen: n.lastSeen ? new Date(n.lastSeen).toISOString() : null, lanAddrs: n.lanAddrs, tailscaleIp: n.tailscaleIp }));
      } finally {
        registry.close();
      }
    } else {
      if (existsSync(this.paths.node)) checkNotRemoved(readNodeState(this.paths.node));
      const cached = readCachedPeers(this.paths.peers);
      if (!cached) throw new WireError('WIRE_NOT_JOINED', 'no peer list here: run `wire up --join TOKEN` (or this on the coordinator).');
      rows = cached.reply.peers.map((p) => ({ name: p.name, meshIp: p.meshIp, status: p.online ? 'online' : 'offline', endpoint: p.endpoint, tailscaleIp: p.tailscaleIp }));
    }
    this.log(table(['NAME', 'MESH IP', 'STATUS', 'ENDPOINT', 'TAILSCALE', 'LAST SEEN'], rows.map((r) => [r.name, r.meshIp, r.status, r.endpoint ?? '-', r.tailscaleIp ?? '-', r.lastSeen ? ago(Date.parse(r.lastSeen)) : '-'])));
    return rows;
  }
}
