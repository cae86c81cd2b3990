import { describe, expect, it } from 'vitest';
import { PeerView } from '../src/coordinator/peers.js';
import { desiredPeers } from '../src/node/daemon.js';
import { FIRST_RETRY_MS, Watchdog } from '../src/node/watchdog.js';
import { LivePeer } from '../src/wg/show.js';
import { SyncReply } from '../src/coordinator/api.js';

const peer = (name: string, key: string, ip: string): PeerView => ({ name, id: name, meshIp: ip, publicKey: key, endpoint: `192.168.1.${ip.split('.')[3]}:51820`, keepalive: null, online: true, tailscaleIp: null, listenPort: 51820 });
const live = (key: string, handshakeMs: number): LivePeer => ({ publicKey: key, endpoint: null, allowedIps: [], latestHandshake: Math.floor(handshakeMs / 1000), rxBytes: 0, txBytes: 0, keepalive: null });
const B = peer('b', 'KB', '10.99.0.3');
// The relay (the coordinator, key KH) as it looks when it answers: it handshook just now.
const hubAt = (t: number): LivePeer => live('KH', t);

describe('Watchdog', () => {
  it('leaves a peer with a fresh handshake alone', () => {
    const w = new Watchdog(10_000, 3_000, () => 0.5);
    for (let t = 0; t <= 60_000; t += 1000) expect(w.tick([B], [live('KB', t - 500)], t, null)).toEqual({ changed: false, reResolve: [], poke: [], events: [] });
  });

  it('re-resolves a silent peer, relays it after the grace period, and retries direct after a backoff', () => {
    const w = new Watchdog(10_000, 3_000, () => 0.5);
    expect(w.tick([B], [live('KB', 0), hubAt(0)], 0, 'KH').events).toEqual([]);
    const stale = w.tick([B], [live('KB', 0), hubAt(10_000)], 10_000, 'KH');
    expect(stale).toMatchObject({ changed: false, reResolve: ['KB'], poke: ['10.99.0.3'], events: [{ peer: 'b', step: 're-resolve' }] });
    expect(w.tick([B], [live('KB', 0), hubAt(12_000)], 12_000, 'KH').events).toEqual([]);
    const relay = w.tick([B], [live('KB', 0), hubAt(13_000)], 13_000, 'KH');
    expect(relay).toMatchObject({ changed: true, events: [{ peer: 'b', step: 'relay' }] });
    expect(w.relayed()).toEqual(new Set(['KB']));
    expect(w.tick([B], [hubAt(13_000 + FIRST_RETRY_MS - 1)], 13_000 + FIRST_RETRY_MS - 1, 'KH').changed).toBe(false);
    const retry = w.tick([B], [hubAt(13_000 + FIRST_RETRY_MS)], 13_000 + FIRST_RETRY_MS, 'KH');
    expect(retry).toMatchObject({ changed: true, reResolve: ['KB'], poke: ['10.99.0.3'], events: [{ step: 'retry-direct' }] });
    expect(w.mode('KB')).toBe('direct');
    // still dead: back to the relay, with a doubled backoff
    const t2 = 13_000 + FIRST_RETRY_MS + 3_000;
    expect(w.tick([B], [hubAt(t2)], t2, 'KH').events[0]).toMatchObject({ step: 'relay', detail: `direct retry in ${(2 * FIRST_RETRY_MS) / 1000} s` });
    // it comes back: direct for good
    const t3 = t2 + 2 * FIRST_RETRY_MS;
    w.tick([B], [hubAt(t3)], t3, 'KH');
    expect(w.tick([B], [live('KB', t3 + 500), hubAt(t3 + 1000)], t3 + 1000, 'KH').events).toEqual([{ peer: 'b', step: 'direct-ok' }]);
    expect(w.relayed().size).toBe(0);
  });

  it('counts received bytes as life: an idle session with an old handshake is not stale', () => {
    const w = new Watchdog(10_000, 3_000, () => 0.5);
    const t0 = 1_000_000;
    const rx = (n: number): LivePeer => ({ ...live('KB', t0 - 60_000), rxBytes: n });
    w.tick([B], [rx(100)], t0, null);
    expect(w.tick([B], [rx(100)], t0 + 10_000, null).events).toMatchObject([{ step: 're-resolve' }]);
    // the poke drew an answer (bytes arrived) though WireGuard did not need a new handshake
    expect(w.tick([B], [rx(180)], t0 + 11_000, null).events).toEqual([{ peer: 'b', step: 'direct-ok' }]);
    expect(w.tick([B], [rx(180)], t0 + 20_000, null).events).toEqual([]);
    expect(w.relayed().size).toBe(0);
  });

  it('never relays through a relay that does not answer, and brings relayed peers back when it stops', () => {
    const w = new Watchdog(10_000, 3_000, () => 0.5);
    const hub = (rx: number): LivePeer => ({ ...live('KH', 0), rxBytes: rx });
    w.tick([B], [hub(10)], 0, 'KH');
    w.tick([B], [hub(20)], 10_000, 'KH');
    // the hub has said nothing for longer than staleMs: not a relay to use
    expect(w.tick([B], [hub(20)], 20_001, 'KH').changed).toBe(false);
    expect(w.relayed().size).toBe(0);
    expect(w.tick([B], [hub(30)], 20_002, 'KH').changed).toBe(true);
    expect(w.relayed().size).toBe(1);
    expect(w.tick([B], [hub(30)], 30_003, 'KH')).toMatchObject({ changed: true, events: [{ step: 'retry-direct', detail: 'the relay does not answer' }] });
  });

  it('never moves a peer onto a coordinator that does not relay, however long it stays silent', () => {
    const w = new Watchdog(10_000, 3_000, () => 0.5);
    const steps: string[] = [];
    for (let t = 0; t <= 120_000; t += 1000) {
      const r = w.tick([B], [hubAt(t)], t, null);
      expect(r.changed).toBe(false);
      steps.push(...r.events.map((e) => e.step));
    }
    expect(w.relayed().size).toBe(0);
    // with nothing to fall back to it re-resolves again after each staleMs (+ grace), and does nothing else
    expect(new Set(steps)).toEqual(new Set(['re-resolve']));
    expect(steps.length).toBeGreaterThan(4);
  });

  it('tries the peer\'s Tailscale address before the relay, keeps it while it answers, and retries direct after the backoff', () => {
    const w = new Watchdog(10_000, 3_000, () => 0.5);
    const T = { ...B, tailscaleIp: '100.64.0.3', listenPort: 51999 };
    const kb = (rx: number, hs = 0): LivePeer => ({ ...live('KB', hs), rxBytes: rx });
    w.tick([T], [kb(0), hubAt(0)], 0, 'KH');
    expect(w.tick([T], [kb(0), hubAt(10_000)], 10_000, 'KH').events).toMatchObject([{ step: 're-resolve' }]);
    const ts = w.tick([T], [kb(0), hubAt(13_000)], 13_000, 'KH');
    expect(ts).toMatchObject({ changed: true, poke: ['10.99.0.3'], events: [{ peer: 'b', step: 'tailscale', detail: expect.stringContaining('100.64.0.3:51999') }] });
    expect(w.mode('KB')).toBe('tailscale');
    expect(w.relayed().size).toBe(0);
    // it answers over the tailnet: stays there (no relay) until the direct retry is due
    expect(w.tick([T], [kb(148, 14), hubAt(14_000)], 14_000, 'KH').events).toEqual([{ peer: 'b', step: 'tailscale-ok' }]);
    for (let t = 15_000; t < 13_000 + FIRST_RETRY_MS; t += 1000) expect(w.tick([T], [kb(148 + t, 14), hubAt(t)], t, 'KH').changed).toBe(false);
    const retry = w.tick([T], [kb(1e9, 14), hubAt(13_000 + FIRST_RETRY_MS)], 13_000 + FIRST_RETRY_MS, 'KH');
    expect(retry).toMatchObject({ changed: true, reResolve: ['KB'], events: [{ step: 'retry-direct' }] });
    expect(w.mode('KB')).toBe('direct');
  });

  it('goes on to the relay when the Tailscale address does not answer either', () => {
    const w = new Watchdog(10_000, 3_000, () => 0.5);
    const T = { ...B, tailscaleIp: '100.64.0.3' };
    for (const t of [0, 10_000, 13_000]) w.tick([T], [hubAt(t)], t, 'KH');
    expect(w.mode('KB')).toBe('tailscale');
    expect(w.tick([T], [hubAt(15_000)], 15_000, 'KH').changed).toBe(false);
    expect(w.tick([T], [hubAt(16_000)], 16_000, 'KH')).toMatchObject({ changed: true, events: [{ step: 'relay' }] });
    expect(w.relayed()).toEqual(new Set(['KB']));
  });

  it('jitters the backoff', () => {
    const delays = [0, 1].map((r) => {
      const w = new Watchdog(1000, 100, () => r);
      w.tick([B], [hubAt(0)], 0, 'KH');
      w.tick([B], [hubAt(1000)], 1000, 'KH');
      return w.tick([B], [hubAt(1100)], 1100, 'KH').events[0]!.detail;
    });
    expect(delays).toEqual([`direct retry in ${(FIRST_RETRY_MS * 0.8) / 1000} s`, `direct retry in ${(FIRST_RETRY_MS * 1.2) / 1000} s`]);
  });
});

describe('desiredPeers', () => {
  it('gives a peer reached over Tailscale its Tailscale address and listen port as endpoint', () => {
    const hub = { ...peer('coordinator', 'KH', '10.99.0.1'), keepalive: 25 };
    const T = { ...B, tailscaleIp: '100.64.0.3', listenPort: 51999 };
    const reply = { coordinator: { publicKey: 'KH', endpoint: 'x', relays: true }, peers: [hub, T] } as unknown as SyncReply;
    expect(desiredPeers(reply).get('KB')!.endpoint).toBe(B.endpoint);
    expect(desiredPeers(reply, new Set(), new Set(['KB'])).get('KB')).toMatchObject({ endpoint: '100.64.0.3:51999', allowedIps: ['10.99.0.3/32'] });
  });

  it('moves a relayed peer\'s address onto the coordinator\'s entry', () => {
    const hub = { ...peer('coordinator', 'KH', '10.99.0.1'), keepalive: 25 };
    const reply = { coordinator: { publicKey: 'KH', endpoint: 'x' }, peers: [hub, B] } as unknown as SyncReply;
    expect(desiredPeers(reply).get('KH')!.allowedIps).toEqual(['10.99.0.1/32']);
    const relayed = desiredPeers(reply, new Set(['KB']));
    expect(relayed.get('KH')!.allowedIps).toEqual(['10.99.0.1/32', '10.99.0.3/32']);
    expect(relayed.get('KB')).toMatchObject({ allowedIps: [], endpoint: B.endpoint });
  });
});
