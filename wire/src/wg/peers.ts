import { run } from './run.js';
import { LivePeer } from './show.js';

/** PeerConfig is what we want WireGuard to hold for one peer. */
export interface PeerConfig {
  publicKey: string;
  allowedIps: string[];
  endpoint: string | null;
  keepalive: number | null;
}

/** PeerChange is one `wg set` step. */
export type PeerChange = { op: 'remove'; publicKey: string } | { op: 'set'; peer: PeerConfig; setEndpoint: boolean };

const same = (a: string[], b: string[]): boolean => a.length === b.length && [...a].sort().join() === [...b].sort().join();

/**
 * diffPeers compares what we want (`next`) with what we last applied (`prev`) and with what the
 * interface holds (`live`), and returns the `wg set` steps that close the gap: peers to remove, and
 * peers to add or update. An endpoint is only set when it is new or changed in `next`: WireGuard itself
 * follows a peer that roams, and we must not pull it back to a stale address on every sync.
 */
export function diffPeers(prev: Map<string, PeerConfig>, next: Map<string, PeerConfig>, live: LivePeer[]): PeerChange[] {
  const changes: PeerChange[] = [];
  const liveBy = new Map(live.map((p) => [p.publicKey, p]));
  for (const p of live) if (!next.has(p.publicKey)) changes.push({ op: 'remove', publicKey: p.publicKey });
  for (const [key, want] of next) {
    const have = liveBy.get(key);
    const before = prev.get(key);
    const endpointChanged = want.endpoint !== null && (!have || before?.endpoint !== want.endpoint || have.endpoint === null);
    if (!have || endpointChanged || !same(have.allowedIps, want.allowedIps) || have.keepalive !== want.keepalive) {
      changes.push({ op: 'set', peer: want, setEndpoint: endpointChanged });
    }
  }
  return changes;
}

/** setArgs renders changes as the arguments of one `wg set IFACE ...` call. */
export function setArgs(iface: string, changes: PeerChange[]): string[] {
  const args = ['set', iface];
  for (const c of changes) {
    if (c.op === 'remove') {
      args.push('peer', c.publicKey, 'remove');
      continue;
    }
    args.push('peer', c.peer.publicKey);
    if (c.setEndpoint && c.peer.endpoint) args.push('endpoint', c.peer.endpoint);
    args.push('persistent-keepalive', c.peer.keepalive ? String(c.peer.keepalive) : 'off');
    args.push('allowed-ips', c.peer.allowedIps.join(','));
  }
  return args;
}

/** applyPeers runs the changes on `iface` in one `wg set` (nothing when there are none). */
export async function applyPeers(iface: string, changes: PeerChange[]): Promise<void> {
  if (changes.length > 0) await run('wg', setArgs(iface, changes));
}
