import { describe, expect, it } from 'vitest';
import { describePeers } from '../src/status.js';
import { LiveInterface, LivePeer } from '../src/wg/show.js';

const lp = (publicKey: string, allowedIps: string[], endpoint: string | null = null): LivePeer => ({ publicKey, endpoint, allowedIps, latestHandshake: 0, rxBytes: 0, txBytes: 0, keepalive: 25 });
const known = [
  { name: 'coordinator', meshIp: '10.99.0.1', publicKey: 'KH' },
  { name: 'b', meshIp: '10.99.0.3', publicKey: 'KB', tailscaleIp: '100.64.0.3' },
];

describe('describePeers', () => {
  it('says relayed only when the coordinator carrying the address relays', () => {
    const live: LiveInterface = { publicKey: 'KA', listenPort: 51820, peers: [lp('KH', ['10.99.0.1/32', '10.99.0.3/32']), lp('KB', [])] };
    expect(describePeers(live, known, true).find((p) => p.name === 'b')?.path).toBe('relayed via coordinator');
    expect(describePeers(live, known, false).find((p) => p.name === 'b')?.path).toBe('no path (the coordinator does not relay)');
  });

  it('tells a peer reached at its Tailscale address from one reached directly', () => {
    const at = (endpoint: string): LiveInterface => ({ publicKey: 'KA', listenPort: 51820, peers: [lp('KH', ['10.99.0.1/32']), lp('KB', ['10.99.0.3/32'], endpoint)] });
    expect(describePeers(at('100.64.0.3:51820'), known).find((p) => p.name === 'b')?.path).toBe('tailscale');
    expect(describePeers(at('192.168.1.3:51820'), known).find((p) => p.name === 'b')?.path).toBe('direct');
    expect(describePeers(undefined, known)[1]?.path).toBe('not configured');
  });
});
