import { PeerView } from '../coordinator/peers.js';
import { LivePeer } from '../wg/show.js';

/** STALE_AFTER_MS: a peer with no handshake for this long is stale (WireGuard rekeys every 120 s under traffic). */
export const STALE_AFTER_MS = 180_000;
/** First and longest wait before a relayed peer is tried directly again. */
export const FIRST_RETRY_MS = 30_000;
export const MAX_RETRY_MS = 600_000;

type PeerState =
  | { mode: 'direct'; since: number; pokedAt: number | null; backoffMs: number; lastAlive: number; rx: number }
  | { mode: 'relayed'; since: number; retryAt: number; backoffMs: number; rx: number };

/** WatchdogEvent is one step the watchdog took, for the log. */
export interface WatchdogEvent {
  peer: string;
  step: 're-resolve' | 'relay' | 'retry-direct' | 'direct-ok';
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
 * for `staleMs` is first re-resolved: its
 * endpoint is re-applied from the registry and a packet is sent to make WireGuard try at once. Still
 * silent after `graceMs`, its traffic goes through the relay (the coordinator). After a jittered,
 * doubling backoff it is tried directly again; a handshake puts it back on the direct path for good.
 * It decides only; the daemon applies. `random` is injectable so tests are deterministic.
 */
export class Watchdog {
  readonly #states = new Map<string, PeerState>();

  constructor(
    private readonly staleMs = STALE_AFTER_MS,
    private readonly graceMs = Math.min(10_000, STALE_AFTER_MS),
    private readonly random: () => number = Math.random,
  ) {}

  /** relayed is the set of peers (public keys) whose traffic goes through the relay now. */
  relayed(): Set<string> {
    return new Set([...this.#states].filter(([, s]) => s.mode === 'relayed').map(([k]) => k));
  }

  /** mode tells how a peer is reached now. */
  mode(publicKey: string): 'direct' | 'relayed' {
    return this.#states.get(publicKey)?.mode ?? 'direct';
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

  readonly #relay = { rx: -1, lastAlive: 0 };

  /**
   * tick looks at the live interface and decides what to change for `peers` (the relay excluded).
   * `relayKey` is the relay's (the coordinator's) public key: the relay is judged alive the same way as a
   * peer, and when it is not, nothing is moved onto it and what was relayed is tried directly at once.
   */
  tick(peers: PeerView[], live: LivePeer[], now: number, relayKey?: string): TickResult {
    const out: TickResult = { changed: false, reResolve: [], poke: [], events: [] };
    const liveBy = new Map(live.map((p) => [p.publicKey, p]));
    const relayUp = relayKey === undefined || this.#relayAlive(liveBy.get(relayKey), now);
    const keys = new Set(peers.map((p) => p.publicKey));
    for (const k of [...this.#states.keys()]) if (!keys.has(k)) this.#states.delete(k);
    for (const p of peers) {
      const lp = liveBy.get(p.publicKey);
      const handshake = (lp?.latestHandshake ?? 0) * 1000;
      const rx = lp?.rxBytes ?? 0;
      let s = this.#states.get(p.publicKey);
      if (!s) {
        s = { mode: 'direct', since: now, pokedAt: null, backoffMs: 0, lastAlive: Math.max(handshake, now), rx };
        this.#states.set(p.publicKey, s);
      }
      const heard = rx > s.rx;
      s.rx = rx;
      if (s.mode === 'relayed') {
        if (now >= s.retryAt || !relayUp) {
          this.#states.set(p.publicKey, { mode: 'direct', since: now, pokedAt: now, backoffMs: s.backoffMs, lastAlive: now, rx });
          out.changed = true;
          out.reResolve.push(p.publicKey);
          out.poke.push(p.meshIp);
          out.events.push({ peer: p.name, step: 'retry-direct', ...(relayUp ? {} : { detail: 'the relay does not answer' }) });
        }
        continue;
      }
      if (heard || (handshake > 0 && now - handshake < this.staleMs)) {
        if (s.pokedAt !== null) out.events.push({ peer: p.name, step: 'direct-ok' });
        this.#states.set(p.publicKey, { mode: 'direct', since: s.since, pokedAt: null, backoffMs: s.pokedAt !== null ? 0 : s.backoffMs, lastAlive: now, rx });
        continue;
      }
      if (s.pokedAt === null) {
        if (now - s.lastAlive < this.staleMs) continue;
        s.pokedAt = now;
        out.reResolve.push(p.publicKey);
        out.poke.push(p.meshIp);
        out.events.push({ peer: p.name, step: 're-resolve', detail: p.endpoint ?? 'no endpoint' });
        continue;
      }
      if (now - s.pokedAt < this.graceMs || !relayUp) continue;
      const backoffMs = this.#backoff(s.backoffMs);
      this.#states.set(p.publicKey, { mode: 'relayed', since: now, retryAt: now + backoffMs, backoffMs, rx });
      out.changed = true;
      out.events.push({ peer: p.name, step: 'relay', detail: `direct retry in ${Math.round(backoffMs / 1000)} s` });
    }
    return out;
  }
}
