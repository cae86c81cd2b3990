import { COORDINATOR_IP } from '../registry/addresses.js';
import { NodeRecord } from '../registry/registry.js';

/** KEEPALIVE_S is the persistent keepalive for peers behind NAT, and toward the coordinator. */
export const KEEPALIVE_S = 25;

/** PeerView is one peer as the coordinator describes it to a node. */
export interface PeerView {
  name: string;
  id: string;
  meshIp: string;
  publicKey: string;
  endpoint: string | null;
  keepalive: number | null;
  online: boolean;
  /** the peer's Tailscale IPv4 address (`tailscale ip -4`), or null: a fallback address when the mesh is down */
  tailscaleIp: string | null;
  /** the peer's WireGuard listen port (with `tailscaleIp`, an endpoint to try when the direct one fails) */
  listenPort: number;
}

/** CoordinatorView is how nodes reach the coordinator on the mesh. */
export interface CoordinatorView {
  publicKey: string;
  endpoint: string;
  /**
   * relays is true when this coordinator forwards traffic between nodes (`wire serve --relay`); a node
   * moves a peer it cannot reach onto the coordinator's entry only then.
   */
  relays: boolean;
}

const hostOf = (endpoint: string | null): string | null => (endpoint ? endpoint.slice(0, endpoint.lastIndexOf(':')).replace(/^\[|\]$/g, '') : null);

/**
 * endpointFor picks the address `self` should use for `peer`: its LAN address when both sit behind the
 * same public address (the same NAT or LAN), else the endpoint the coordinator saw.
 */
export function endpointFor(self: NodeRecord, peer: NodeRecord): string | null {
  const mine = hostOf(self.publicEndpoint);
  const theirs = hostOf(peer.publicEndpoint);
  if (mine && theirs && mine === theirs && peer.lanAddrs.length > 0 && self.behindNat) return `${peer.lanAddrs[0]}:${peer.listenPort}`;
  return peer.publicEndpoint;
}

/** peersFor is the peer list of one node: the coordinator, then every other live node. */
export function peersFor(self: NodeRecord, nodes: NodeRecord[], coordinator: Pick<CoordinatorView, 'publicKey' | 'endpoint'>): PeerView[] {
  const keepalive = self.behindNat ? KEEPALIVE_S : null;
  const hub: PeerView = { name: 'coordinator', id: 'coordinator', meshIp: COORDINATOR_IP, publicKey: coordinator.publicKey, endpoint: coordinator.endpoint, keepalive: KEEPALIVE_S, online: true, tailscaleIp: null, listenPort: Number(coordinator.endpoint.slice(coordinator.endpoint.lastIndexOf(':') + 1)) };
  return [
    hub,
    ...nodes
      .filter((n) => n.id !== self.id && n.status !== 'removed')
      .map((n) => ({ name: n.name, id: n.id, meshIp: n.meshIp, publicKey: n.publicKey, endpoint: endpointFor(self, n), keepalive, online: n.status === 'online', tailscaleIp: n.tailscaleIp, listenPort: n.listenPort })),
  ];
}
