import { describe, expect, it } from 'vitest';
import { joinMeshViews } from '../../src/dashboard/mesh.js';

// The join of each node's `wire status --json` peers into pairs (the shapes are wire's PeerStatus; the lab
// test in e2e drives it with real WireGuard).
describe('joinMeshViews', () => {
  const now = 1_800_000_000_000;
  it('a pair is direct when either side has a direct path; relayed names the relay; the freshest handshake wins', () => {
    const g = joinMeshViews([
      { node: 'a', now, peers: [{ name: 'b', lastHandshake: now - 30_000, path: 'direct' }, { name: 'c', lastHandshake: now - 90_000, path: 'relayed via b' }] },
      { node: 'b', now, peers: [{ name: 'a', lastHandshake: now - 10_000, path: 'relayed via c' }, { name: 'c', lastHandshake: null, path: 'not configured' }] },
      { node: 'c', now, peers: [{ name: 'a', lastHandshake: now - 200_000, path: 'relayed via b' }, { name: 'b', lastHandshake: now - 5_000, path: 'direct' }] },
      { node: 'd', note: 'not in a mesh' },
    ]);
    expect(g.nodes).toEqual([{ name: 'a', inMesh: true }, { name: 'b', inMesh: true }, { name: 'c', inMesh: true }, { name: 'd', inMesh: false, note: 'not in a mesh' }]);
    expect(g.edges).toEqual([
      { a: 'a', b: 'b', path: 'direct', handshakeAgeS: 10 },
      { a: 'a', b: 'c', path: 'relayed', via: 'b', handshakeAgeS: 90 },
      { a: 'b', b: 'c', path: 'direct', handshakeAgeS: 5 },
    ]);
  });

  it('a pair neither side has a path for is none, with no handshake age', () => {
    const g = joinMeshViews([{ node: 'x', now, peers: [{ name: 'y', lastHandshake: null, path: 'no path (the coordinator does not relay)' }] }, { node: 'y', now, peers: [] }]);
    expect(g.edges).toEqual([{ a: 'x', b: 'y', path: 'none', handshakeAgeS: null }]);
  });
});
