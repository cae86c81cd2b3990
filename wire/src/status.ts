import { existsSync } from 'node:fs';
import { wirePaths } from './paths.js';
import { openLocalRegistry } from './coordinator/local.js';
import { COORDINATOR_IP } from './registry/addresses.js';
import { readCachedPeers, readNodeState } from './node/state.js';
import { interfaceExists } from './wg/iface.js';
import { LiveInterface, showInterface } from './wg/show.js';
import { WireError } from './errors.js';

/** PeerStatus is one peer as `wire status` shows it. */
export interface PeerStatus {
  name: string;
  meshIp: string;
  publicKey: string;
  endpoint: string | null;
  /** ms since the epoch of the last handshake, or null */
  lastHandshake: number | null;
  rxBytes: number;
  txBytes: number;
  /**
   * direct; tailscale (its own entry, at its Tailscale address); relayed through another peer (named) that relays; 'no path' when its address sits on the
   * entry of a coordinator that does not relay (its packets go nowhere); or absent from the interface
   */
  path: 'direct' | 'tailscale' | `relayed via ${string}` | 'no path (the coordinator does not relay)' | 'not configured';
}

/** MeshStatus is what `wire status` reports about this machine. */
export interface MeshStatus {
  role: 'node' | 'coordinator';
  name: string;
  meshIp: string;
  iface: string;
  up: boolean;
  listenPort: number | null;
  peers: PeerStatus[];
  /** when the coordinator removed this node (it has no peers and must join again), else null */
  removed: string | null;
}

interface Known {
  name: string;
  meshIp: string;
  publicKey: string;
  tailscaleIp?: string | null;
}

/**
 * describePeers matches the live interface against the peers we know, and tells how each is reached.
 * `relays` is whether the coordinator says it relays: a peer carried by one that does not is not relayed.
 */
export function describePeers(live: LiveInterface | undefined, known: Known[], relays = false): PeerStatus[] {
  return known.map((k) => {
    const own = live?.peers.find((p) => p.publicKey === k.publicKey);
    const carrier = live?.peers.find((p) => p.allowedIps.includes(`${k.meshIp}/32`));
    const carrierName = carrier && known.find((x) => x.publicKey === carrier.publicKey)?.name;
    return {
      name: k.name,
      meshIp: k.meshIp,
      publicKey: k.publicKey,
      endpoint: own?.endpoint ?? null,
      lastHandshake: own && own.latestHandshake > 0 ? own.latestHandshake * 1000 : null,
      rxBytes: own?.rxBytes ?? 0,
      txBytes: own?.txBytes ?? 0,
      path: !carrier ? 'not configured' : carrier.publicKey === k.publicKey ? (k.tailscaleIp && own?.endpoint?.startsWith(`${k.tailscaleIp}:`) ? 'tailscale' : 'direct') : relays ? `relayed via ${carrierName ?? carrier.publicKey.slice(0, 8)}` : 'no path (the coordinator does not relay)',
    };
  });
}

/** meshStatus describes this machine's place in the mesh: as a node (node.json) or as the coordinator. */
export async function meshStatus(home: string): Promise<MeshStatus> {
  const paths = wirePaths(home);
  if (existsSync(paths.node)) {
    const state = readNodeState(paths.node);
    const up = await interfaceExists(state.iface);
    const live = up ? await showInterface(state.iface) : undefined;
    const reply = readCachedPeers(paths.peers)?.reply;
    return { role: 'node', name: state.name, meshIp: state.meshIp, iface: state.iface, up, listenPort: live?.listenPort ?? null, peers: describePeers(live, reply?.peers ?? [], reply?.coordinator.relays === true), removed: state.removed ?? null };
  }
  if (existsSync(paths.registry)) {
    const registry = openLocalRegistry(home);
    try {
      const iface = 'wire0';
      const name = registry.getMeta('iface') ?? iface;
      const up = await interfaceExists(name);
      const live = up ? await showInterface(name) : undefined;
      return { role: 'coordinator', name: 'coordinator', meshIp: COORDINATOR_IP, iface: name, up, listenPort: live?.listenPort ?? null, peers: describePeers(live, registry.listNodes()), removed: null };
    } finally {
      registry.close();
    }
  }
  throw new WireError('WIRE_NOT_JOINED', 'this machine is neither in a mesh nor its coordinator: `wire up --join TOKEN`, or `wire serve`.');
}
