import { describe, expect, it } from 'vitest';
import { PeerConfig, diffPeers, setArgs } from '../../src/wg/peers.js';
import { LivePeer } from '../../src/wg/show.js';

const cfg = (k: string, ip: string, endpoint: string | null = null, keepalive: number | null = null): PeerConfig => ({ publicKey: k, allowedIps: [`${ip}/32`], endpoint, keepalive });
const live = (c: PeerConfig, endpoint = c.endpoint): LivePeer => ({ publicKey: c.publicKey, endpoint, allowedIps: c.allowedIps, latestHandshake: 0, rxBytes: 0, txBytes: 0, keepalive: c.keepalive });
const map = (...cs: PeerConfig[]) => new Map(cs.map((c) => [c.publicKey, c]));

describe('diffPeers', () => {
  const a = cfg('A', '10.99.0.2', '192.168.1.2:51820');
  const b = cfg('B', '10.99.0.3', '192.168.1.3:51820', 25);

  it('adds new peers and removes gone ones, and nothing else', () => {
    const changes = diffPeers(map(a), map(b), [live(a)]);
    expect(changes).toEqual([{ op: 'remove', publicKey: 'A' }, { op: 'set', peer: b, setEndpoint: true }]);
    expect(setArgs('wire0', changes)).toEqual(['set', 'wire0', 'peer', 'A', 'remove', 'peer', 'B', 'endpoint', '192.168.1.3:51820', 'persistent-keepalive', '25', 'allowed-ips', '10.99.0.3/32']);
  });

  it('is empty when the interface already holds what we want', () => {
    expect(diffPeers(map(a, b), map(a, b), [live(a), live(b)])).toEqual([]);
  });

  it('leaves a peer that roamed alone, but applies an endpoint the registry changed', () => {
    expect(diffPeers(map(a), map(a), [live(a, '203.0.113.9:40000')])).toEqual([]);
    const moved = { ...a, endpoint: '192.168.1.99:51820' };
    expect(diffPeers(map(a), map(moved), [live(a)])).toEqual([{ op: 'set', peer: moved, setEndpoint: true }]);
  });

  it('re-applies everything to an interface that lost its peers', () => {
    expect(diffPeers(map(a, b), map(a, b), []).map((c) => c.op)).toEqual(['set', 'set']);
  });

  it('updates allowed IPs and keepalive without touching the endpoint', () => {
    const relay = { ...a, allowedIps: ['10.99.0.2/32', '10.99.0.3/32'] };
    const changes = diffPeers(map(a), map(relay), [live(a)]);
    expect(changes).toEqual([{ op: 'set', peer: relay, setEndpoint: false }]);
    expect(setArgs('w', changes)).toEqual(['set', 'w', 'peer', 'A', 'persistent-keepalive', 'off', 'allowed-ips', '10.99.0.2/32,10.99.0.3/32']);
  });
});
