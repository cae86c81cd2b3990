import { existsSync, readFileSync, rmSync } from 'node:fs';
import { writeFileAtomic } from '@meshpop/vault';
import { WireError } from '../errors.js';
import { isTailscaleIp } from '../registry/addresses.js';
import { PeerView } from '../coordinator/peers.js';
import { SyncReply } from '../coordinator/api.js';
import { CoordinatorAddress } from './client.js';

/** NodeState is what a joined node remembers of itself (no secrets: those are in its vault). */
export interface NodeState {
  id: string;
  name: string;
  meshIp: string;
  coordinator: CoordinatorAddress & { host: string; probePort: number };
  iface: string;
  listenPort: number;
  joined: string;
  /** the id of the token this node joined with (so `wire up --join` with the same token carries on) */
  tokenId?: string;
  /** when the coordinator removed this node from the mesh (`wire remove`); it must join again */
  removed?: string;
}

/** readNodeState returns this node's identity, or throws WIRE_NOT_JOINED. */
export function readNodeState(file: string): NodeState {
  if (!existsSync(file)) throw new WireError('WIRE_NOT_JOINED', 'this machine has not joined a mesh: run `wire up --join TOKEN` with a token from `wire token create`.');
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as NodeState;
  } catch (err) {
    throw new WireError('WIRE_NOT_JOINED', `${file} is not readable JSON (${(err as Error).message.slice(0, 80)}); move it away and join again with a new token.`, { cause: err });
  }
}

/** REMOVED_MESSAGE is what a node says when the coordinator removed it. */
export const REMOVED_MESSAGE = 'removed from the mesh by the coordinator (`wire remove`); its peers and interface are gone: join again with a new token (`wire up --join TOKEN`).';

/** checkNotRemoved throws WIRE_REMOVED when the coordinator removed this node. */
export function checkNotRemoved(s: NodeState): NodeState {
  if (s.removed) throw new WireError('WIRE_REMOVED', `${s.name} was ${REMOVED_MESSAGE}`);
  return s;
}

export function writeNodeState(file: string, s: NodeState): void {
  writeFileAtomic(file, Buffer.from(JSON.stringify(s, null, 2) + '\n'));
}

/** CachedPeers is the last peer list a node got, kept so the mesh works while the coordinator is away. */
export interface CachedPeers {
  fetched: string;
  reply: SyncReply;
}

/**
 * readCachedPeers returns the last peer list this node got, or undefined. A cache written by an older
 * wire reads too: fields it lacks get their neutral value (`tailscaleIp` null, the listen port from the
 * endpoint, `relays` false).
 */
export function readCachedPeers(file: string): CachedPeers | undefined {
  let doc: CachedPeers;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8')) as CachedPeers;
  } catch {
    return undefined;
  }
  if (!doc?.reply?.self || !Array.isArray(doc.reply.peers) || !doc.reply.coordinator) return undefined;
  return { ...doc, reply: normalizeReply(doc.reply) };
}

/** normalizeReply fills what a reply from an older coordinator (or an older cache) lacks. */
export function normalizeReply(reply: SyncReply): SyncReply {
  const portOf = (endpoint: string | null): number => Number(endpoint?.slice(endpoint.lastIndexOf(':') + 1)) || 51820;
  return {
    ...reply,
    self: { ...reply.self, tailscaleIp: isTailscaleIp(reply.self.tailscaleIp) ? reply.self.tailscaleIp : null },
    coordinator: { ...reply.coordinator, relays: reply.coordinator.relays === true },
    // What becomes a WireGuard endpoint is checked here too: one bad value would fail the whole `wg set`.
    peers: reply.peers.map((p) => ({
      ...p,
      tailscaleIp: isTailscaleIp(p.tailscaleIp) ? p.tailscaleIp : null,
      listenPort: Number.isInteger(p.listenPort) && p.listenPort >= 1 && p.listenPort <= 65535 ? p.listenPort : portOf(p.endpoint),
    })),
  };
}

export function writeCachedPeers(file: string, reply: SyncReply): void {
  writeFileAtomic(file, Buffer.from(JSON.stringify({ fetched: new Date().toISOString(), reply } satisfies CachedPeers) + '\n'));
}

/** clearCachedPeers deletes the cached peer list (after a removal: the peers it names are not ours any more). */
export function clearCachedPeers(file: string): void {
  rmSync(file, { force: true });
}

/** peerByName finds a peer (or the coordinator) by name or mesh IP in a peer list. */
export function peerByName(peers: PeerView[], name: string): PeerView | undefined {
  return peers.find((p) => p.name === name || p.meshIp === name);
}
