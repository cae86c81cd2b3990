import { PeerView } from '../coordinator/peers.js';
import { LivePeer } from '../wg/show.js';

/** STALE_AFTER_MS: a peer with no handshake for this long is stale (WireGuard rekeys every 120 s under traffic). */
export const STALE_AFTER_MS = 180_000;
/** First and longest wait before a relayed peer is tried directly again. */
export const FIRST_RETRY_MS = 30_000;
export const MAX_RETRY_MS = 600_000;

/** Path is how a peer is reached: its registry endpoint, its Tailscale address, or through the relay. */
export type Path = 'direct' | 'tailscale' | 'relayed';

/**
 * PeerState: the path in use; `trying` is when that path was last (re)tried and nothing came back yet
 * (null once it answered); `retryAt` is when to try the direct path again from a fallback.
 */
interface PeerState {
  path: Path;
  trying: number | null;
  lastAlive: number;
  rx: number;
  backoffMs: number;
  retryAt: number;
}

/** WatchdogEvent is one step the watchdog took, for the log. */
export interface WatchdogEvent {
  peer: string;
  step: 're-resolve' | 'tailscale' | 'relay' | 'retry-direct' | 'direct-ok' | 'tailscale-ok';
  detail?: string;
}

/** TickResult says what the daemon must do after a tick. */
export interface TickResult {
  /** the peer settings changed (a peer moved to or from the relay): re-apply */
  changed: boolean;
  /** public keys whose endpoint must be re-applied from the registry even if unchanged */
  reResolve: string[];
  /** mesh addresses to send a packet to, so WireGuard attempts a handshake now */
  poke: string[];
  events: WatchdogEvent[];
}

/**
 * Watchdog watches each peer's last handshake and received bytes: a peer is alive when it handshook
 * within `staleMs` or sent us anything since the last look (WireGuard only re-handshakes every two
 * minutes on a live session, so the handshake alone would call a healthy idle peer dead). A peer silent
 * for `staleMs` is first re-resolved: its endpoint is re-applied from the registry and a packet is sent
 * to make WireGuard try at once. Still silent after `graceMs`, it falls back, in order, to its Tailscale
 * address (when it has one and this node is on Tailscale too: WireGuard over the tailnet), then to the
 * relay (the coordinator, only when it relays and answers). From a fallback, the direct path is tried
 * again after a jittered, doubling backoff; an answer puts it back on the direct path for good. With no
 * fallback left, it re-resolves every `staleMs` (and takes the relay as soon as it answers). It decides only; the daemon applies. `random` is
 * injectable so tests are deterministic.
 */
export class Watchdog {
  readonly #states = new Map<string, PeerState>();
  readonly #relay = { rx: -1, lastAlive: 0 };

  constructor(
    private readonly staleMs = STALE_AFTER_MS,
    private readonly graceMs = Math.min(10_000, STALE_AFTER_MS),
    private readonly random: () => number = Math.random,
  ) {}

  /** onPath is the set of peers (public keys) reached on `path` now. */
  onPath(path: Path): Set<string> {
    return new Set([...this.#states].filter(([, s]) => s.path === path).map(([k]) => k));
  }

  /** relayed is the set of peers (public keys) whose traffic goes through the relay now. */
  relayed(): Set<string> {
    return this.onPath('relayed');
  }

  /** mode tells how a peer is reached now. */
  mode(publicKey: string): Path {
    return this.#states.get(publicKey)?.path ?? 'direct';
  }

  #relayAlive(lp: LivePeer | undefined, now: number): boolean {
    const rx = lp?.rxBytes ?? 0;
    const handshake = (lp?.latestHandshake ?? 0) * 1000;
    if ((this.#relay.rx >= 0 && rx > this.#relay.rx) || (handshake > 0 && now - handshake < this.staleMs)) this.#relay.lastAlive = now;
    this.#relay.rx = rx;
    return this.#relay.lastAlive > 0 && now - this.#relay.lastAlive < this.staleMs;
  }

  #backoff(prev: number): number {
    const next = prev === 0 ? FIRST_RETRY_MS : Math.min(prev * 2, MAX_RETRY_MS);
    return Math.round(next * (0.8 + 0.4 * this.random()));
  }

  /**
   * tick looks at the live interface and decides what to change for `peers` (the relay excluded); a
   * peer's `tailscaleIp` is its Tailscale fallback (pass null where this node is not on Tailscale).
   * `relayKey` is the public key of the relay (the coordinator), or null when it does not relay: the
   * relay is judged alive the same way as a peer, and when it is not, nothing is moved onto it and what
   * was relayed is tried directly at once.
   */
  tick(peers: PeerView[], live: LivePeer[], now: number, relayKey: string | null): TickResult {
    const out: TickResult = { changed: false, reResolve: [], poke: [], events: [] };
    const liveBy = new Map(live.map((p) => [p.publicKey, p]));
    const relayUp = relayKey !== null && this.#relayAlive(liveBy.get(relayKey), now);
    const keys = new Set(peers.map((p) => p.publicKey));
    for (const k of [...this.#states.keys()]) if (!keys.has(k)) this.#states.delete(k);
    const toDirect = (p: PeerView, s: PeerState, detail?: string): void => {
      Object.assign(s, { path: 'direct', trying: now, lastAlive: now });
      out.changed = true;
      out.reResolve.push(p.publicKey);
      out.poke.push(p.meshIp);
      out.events.push({ peer: p.name, step: 'retry-direct', ...(detail ? { detail } : {}) });
    };
    for (const p of peers) {
      const lp = liveBy.get(p.publicKey);
      const handshake = (lp?.latestHandshake ?? 0) * 1000;
      const rx = lp?.rxBytes ?? 0;
      let s = this.#states.get(p.publicKey);
      if (!s) {
        s = { path: 'direct', trying: null, lastAlive: Math.max(handshake, now), rx, backoffMs: 0, retryAt: 0 };
        this.#states.set(p.publicKey, s);
      }
      const heard = rx > s.rx || (handshake > 0 && now - handshake < this.staleMs);
      s.rx = rx;
      if (s.path === 'relayed') {
        // Traffic goes through the relay's entry: this peer's own entry says nothing until we try it again.
        if (now >= s.retryAt || !relayUp) toDirect(p, s, relayUp ? undefined : 'the relay does not answer');
        continue;
      }
      if (heard) {
        if (s.trying !== null) out.events.push({ peer: p.name, step: s.path === 'direct' ? 'direct-ok' : 'tailscale-ok' });
        if (s.path === 'direct' && s.trying !== null) s.backoffMs = 0;
        s.trying = null;
        s.lastAlive = now;
        if (s.path === 'tailscale' && now >= s.retryAt) toDirect(p, s);
        continue;
      }
      if (s.trying === null) {
        if (now - s.lastAlive < this.staleMs) continue;
        if (s.path === 'tailscale') {
          // The Tailscale path went quiet: try direct (and, failing that, the fallbacks) again.
          toDirect(p, s, 'the Tailscale path went quiet');
          continue;
        }
        s.trying = now;
        out.reResolve.push(p.publicKey);
        out.poke.push(p.meshIp);
        out.events.push({ peer: p.name, step: 're-resolve', detail: p.endpoint ?? 'no endpoint' });
        continue;
      }
      if (now - s.trying < this.graceMs) continue;
      // The path being tried did not answer within the grace period: the next fallback.
      if (s.path === 'direct' && p.tailscaleIp) {
        s.backoffMs = this.#backoff(s.backoffMs);
        Object.assign(s, { path: 'tailscale', trying: now, retryAt: now + s.backoffMs });
        out.changed = true;
        out.poke.push(p.meshIp);
        out.events.push({ peer: p.name, step: 'tailscale', detail: `${p.tailscaleIp}:${p.listenPort}, direct retry in ${Math.round(s.backoffMs / 1000)} s` });
      } else if (relayUp) {
        if (s.path === 'direct') s.backoffMs = this.#backoff(s.backoffMs);
        Object.assign(s, { path: 'relayed', trying: null, retryAt: now + s.backoffMs });
        out.changed = true;
        out.events.push({ peer: p.name, step: 'relay', detail: `direct retry in ${Math.round(s.backoffMs / 1000)} s` });
      } else if (s.path === 'tailscale') {
        // Nothing else to fall back to: the direct path again, and the cycle after another staleMs.
        Object.assign(s, { path: 'direct', trying: null, lastAlive: now });
        out.changed = true;
        out.reResolve.push(p.publicKey);
        out.events.push({ peer: p.name, step: 'retry-direct', detail: 'no fallback answers' });
      } else if (now - s.trying >= this.graceMs + this.staleMs) {
        // Direct, with no fallback yet (the relay is taken as soon as it answers): re-resolve every staleMs.
        s.trying = now - this.graceMs;
        out.reResolve.push(p.publicKey);
        out.poke.push(p.meshIp);
        out.events.push({ peer: p.name, step: 're-resolve', detail: p.endpoint ?? 'no endpoint' });
      }
    }
    return out;
  }
}
