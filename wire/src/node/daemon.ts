import { createSocket } from 'node:dgram';
import { writePidFile, removePidFile } from '../pidfile.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { openVault } from '@meshpop/vault';
import { WireError, isWireError } from '../errors.js';
import { KEEPALIVE_S } from '../coordinator/peers.js';
import { logger } from '../log.js';
import { wirePaths } from '../paths.js';
import { MESH_PREFIX } from '../registry/addresses.js';
import { SyncReply } from '../coordinator/api.js';
import { WgInterface } from '../wg/iface.js';
import { hasNetAdmin } from '../wg/preflight.js';
import { PeerChange, PeerConfig, applyPeers, diffPeers } from '../wg/peers.js';
import { showInterface } from '../wg/show.js';
import { callCoordinator } from './client.js';
import { gatherInfo, lanAddresses } from './info.js';
import { REMOVED_MESSAGE, checkNotRemoved, clearCachedPeers, normalizeReply, readCachedPeers, readNodeState, writeCachedPeers, writeNodeState } from './state.js';
import { STALE_AFTER_MS, Watchdog } from './watchdog.js';

/** DaemonOptions configure `wire up`. */
export interface DaemonOptions {
  home: string;
  /** override the coordinator's sync interval, in ms */
  intervalMs?: number;
  /** a peer with no handshake for this long is stale (default 180 s) */
  staleMs?: number;
  signal?: AbortSignal;
}

/**
 * desiredPeers turns the coordinator's peer list into WireGuard peer settings. A relayed peer keeps its
 * entry (and endpoint) but gives its address to the coordinator's entry, so its traffic goes through the
 * coordinator, which forwards it. A peer reached over Tailscale gets its Tailscale address as endpoint.
 */
export function desiredPeers(reply: SyncReply, relayed: Set<string> = new Set(), viaTailscale: Set<string> = new Set()): Map<string, PeerConfig> {
  const out = new Map<string, PeerConfig>();
  const viaHub: string[] = [];
  for (const p of reply.peers) {
    const isHub = p.publicKey === reply.coordinator.publicKey;
    const relay = !isHub && relayed.has(p.publicKey);
    if (relay) viaHub.push(`${p.meshIp}/32`);
    const endpoint = !isHub && p.tailscaleIp && viaTailscale.has(p.publicKey) ? `${p.tailscaleIp}:${p.listenPort}` : p.endpoint;
    out.set(p.publicKey, { publicKey: p.publicKey, allowedIps: relay ? [] : [`${p.meshIp}/32`], endpoint, keepalive: p.keepalive });
  }
  const hub = out.get(reply.coordinator.publicKey);
  if (hub) hub.allowedIps = [...hub.allowedIps, ...viaHub];
  return out;
}

/** describeChange renders a peer change for the log: `-KEY`, or `=KEY ips [endpoint]`. */
function describeChange(c: PeerChange): string {
  if (c.op === 'remove') return `-${c.publicKey.slice(0, 8)}`;
  return `=${c.peer.publicKey.slice(0, 8)} ${c.peer.allowedIps.join(',') || '(relayed)'}${c.setEndpoint && c.peer.endpoint ? ` ${c.peer.endpoint}` : ''}`;
}

/** poke sends one datagram to a mesh address, so that WireGuard starts a handshake with that peer now. */
function poke(meshIp: string, port: number): void {
  const sock = createSocket('udp4');
  sock.on('error', () => sock.close());
  sock.send('wire-poke', port, meshIp, () => sock.close());
}

/**
 * checkStaleAfter throws WIRE_BAD_INPUT unless `staleMs` is at least the keepalive (25 s): a peer
 * (or the relay) that is only heard from every keepalive would be called dead between two of them.
 */
export function checkStaleAfter(staleMs: number): void {
  if (!Number.isFinite(staleMs) || staleMs < KEEPALIVE_S * 1000) {
    throw new WireError('WIRE_BAD_INPUT', `--stale-after must be at least ${KEEPALIVE_S} s (the keepalive): a live peer is only sure to be heard from every ${KEEPALIVE_S} s.`);
  }
}

/**
 * runNode is `wire up` after joining: it brings up the interface with the key from the vault, applies
 * the last known peers at once (so the mesh works while the coordinator is away), then keeps a sync
 * open with the coordinator (a long poll, answered when the peer list changes or after the interval)
 * and applies what changed as a diff, never tearing the interface down. A watchdog looks after each
 * peer's path (re-resolve, relay, retry direct) and after this machine's own addresses.
 * If wireguard-go dies, the interface is brought back and every peer re-applied. Removed from the mesh,
 * it forgets its peers (peers.json), marks node.json removed, takes the interface down and returns 'removed'. It returns when `signal` aborts, after taking the interface down.
 */
export async function runNode(opts: DaemonOptions): Promise<'stopped' | 'removed'> {
  const log = logger('wire-up');
  const paths = wirePaths(opts.home);
  checkStaleAfter(opts.staleMs ?? STALE_AFTER_MS);
  const state = checkNotRemoved(readNodeState(paths.node));
  if (!hasNetAdmin()) throw new WireError('WIRE_NOT_PERMITTED', 'bringing up a WireGuard interface needs root (or CAP_NET_ADMIN): run it with sudo.');
  const vault = await openVault({ home: opts.home });
  const privateKey = await vault.getString('wire/private-key');
  const credential = await vault.getString('wire/credential');
  await vault.close();

  const iface = new WgInterface(state.iface);
  const bringUp = (): Promise<void> => iface.up({ name: state.iface, address: `${state.meshIp}/${MESH_PREFIX}`, privateKey, listenPort: state.listenPort });
  await bringUp();
  writePidFile(paths.upPid);
  log.info({ iface: state.iface, backend: iface.backend, meshIp: state.meshIp, name: state.name }, 'interface up');

  let applied = new Map<string, PeerConfig>();
  let current: SyncReply | undefined = readCachedPeers(paths.peers)?.reply;
  const staleMs = opts.staleMs ?? STALE_AFTER_MS;
  const watchdog = new Watchdog(staleMs, Math.min(10_000, staleMs));
  const apply = async (): Promise<void> => {
    if (!current) return;
    const next = desiredPeers(current, watchdog.relayed(), watchdog.onPath('tailscale'));
    const changes = diffPeers(applied, next, (await showInterface(state.iface)).peers);
    await applyPeers(state.iface, changes);
    if (changes.length) log.info({ changes: changes.map(describeChange) }, 'peers applied');
    applied = next;
  };
  await apply();

  let stopped = false;
  opts.signal?.addEventListener('abort', () => (stopped = true), { once: true });
  void (async () => {
    for (;;) {
      await Promise.race([iface.exited, new Promise((r) => opts.signal?.addEventListener('abort', r, { once: true }))]);
      if (stopped) return;
      log.warn({ iface: state.iface }, 'wireguard-go exited; bringing the interface back');
      try {
        await bringUp();
        applied = new Map();
        await apply();
      } catch (err) {
        log.error({ err: (err as Error).message }, 'could not bring the interface back; retrying');
        await sleep(1000);
      }
    }
  })();

  // The watchdog: every few seconds, look at each peer's last handshake and act on what it decides.
  // It also notices this machine's addresses changing (a DHCP renumbering, a new network): then every
  // endpoint is set again, which makes wireguard-go forget the source address it was sending from (else
  // it keeps using the old one for ~15 s), the coordinator is poked, and the held sync is cut short so
  // the registry hears of the new addresses now.
  let lastLan = lanAddresses().join(',');
  let inflight: AbortController | undefined;
  let resync = false;
  const watch = setInterval(() => {
    void (async () => {
      if (!current || stopped) return;
      try {
        const lan = lanAddresses().join(',');
        if (lan !== lastLan) {
          log.info({ from: lastLan, to: lan }, 'local addresses changed; re-applying every peer');
          lastLan = lan;
          applied = new Map();
          await apply();
          poke(current.network.coordinatorIp, state.coordinator.probePort);
          resync = true;
          inflight?.abort();
        }
        const live = await showInterface(state.iface);
        const { self, coordinator } = current;
        // A Tailscale address is a fallback only when this node is on Tailscale too.
        const others = current.peers.filter((p) => p.publicKey !== coordinator.publicKey).map((p) => (self.tailscaleIp ? p : { ...p, tailscaleIp: null }));
        // Only a coordinator that says it relays is a relay; a packet to it each tick keeps its liveness current.
        const relayKey = coordinator.relays ? coordinator.publicKey : null;
        if (relayKey) poke(current.network.coordinatorIp, state.coordinator.probePort);
        const r = watchdog.tick(others, live.peers, Date.now(), relayKey);
        for (const e of r.events) log.info({ peer: e.peer, step: e.step, detail: e.detail }, `watchdog: ${e.step}`);
        for (const k of r.reResolve) applied.delete(k);
        if (r.changed || r.reResolve.length) await apply();
        for (const ip of r.poke) poke(ip, state.coordinator.probePort);
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'watchdog tick failed');
      }
    })();
  }, Math.max(1000, Math.min(5000, Math.round(staleMs / 4))));

  let outcome: 'stopped' | 'removed' = 'stopped';
  let held = false;
  let pause = 0;
  try {
    while (!stopped) {
      try {
        const info = await gatherInfo(state.coordinator.host, state.coordinator.probePort, state.listenPort);
        inflight = new AbortController();
        // A long poll: the coordinator holds the request until the peer list changes or `interval`
        // passes, so changes arrive at once and the request itself is our heartbeat.
        const interval = opts.intervalMs ?? current?.syncIntervalMs ?? 30_000;
        const asked = Date.now();
        const before = current?.version;
        const signal = opts.signal ? AbortSignal.any([opts.signal, inflight.signal]) : inflight.signal;
        current = normalizeReply(await callCoordinator<SyncReply>(state.coordinator, '/v1/sync', { ...info, waitSince: held ? before : undefined, waitMs: interval }, credential, interval + 15_000, signal));
        // A coordinator that does not hold requests must not make this a busy loop.
        pause = held && Date.now() - asked < 1000 && current.version === before ? Math.min(interval, 5000) : 0;
        held = true;
        writeCachedPeers(paths.peers, current);
        await apply();
        // A packet to the coordinator over the mesh keeps it seeing where our WireGuard packets come
        // from (our endpoint as others can reach it), also right after our address changed.
        poke(current.network.coordinatorIp, state.coordinator.probePort);
      } catch (err) {
        if (stopped) break;
        if (resync) {
          resync = false;
          held = false;
          pause = 0;
          continue;
        }
        if (isWireError(err, 'WIRE_REMOVED')) {
          log.warn(`${state.name} was ${REMOVED_MESSAGE}`);
          outcome = 'removed';
          // Forget the peers (the interface goes below), and remember the removal for the next `wire up`.
          current = undefined;
          clearCachedPeers(paths.peers);
          writeNodeState(paths.node, { ...state, removed: new Date().toISOString() });
          break;
        }
        log.warn({ err: (err as Error).message }, 'sync failed; keeping the peers we have');
        held = false;
        pause = Math.min(5000, opts.intervalMs ?? current?.syncIntervalMs ?? 30_000);
      }
      if (pause > 0) await sleep(pause, undefined, { signal: opts.signal }).catch(() => undefined);
    }
  } finally {
    stopped = true;
    clearInterval(watch);
    await iface.down().catch(() => undefined);
    removePidFile(paths.upPid);
    log.info({ iface: state.iface, outcome }, 'interface down');
  }
  return outcome;
}
