import { afterAll, describe, expect, it } from 'vitest';
import { loopFleet, type Fleet } from '../fleet.js';
import { Access, COOKIE, newSecret } from '../../src/dashboard/access.js';
import { Collector } from '../../src/dashboard/collector.js';
import { joinMeshViews } from '../../src/dashboard/mesh.js';
import { dashboardApp } from '../../src/dashboard/server.js';

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

  it('a relayed pair without a handshake of its own (wire relays inside each side\'s session with the relay) takes the older leg\'s age', () => {
    const g = joinMeshViews([
      { node: 'n1', now, peers: [{ name: 'hub', lastHandshake: now - 20_000, path: 'direct' }, { name: 'n2', lastHandshake: null, path: 'relayed via hub' }] },
      { node: 'n2', now, peers: [{ name: 'hub', lastHandshake: now - 70_000, path: 'direct' }, { name: 'n1', lastHandshake: null, path: 'relayed via hub' }] },
      { node: 'n3', now, peers: [{ name: 'n4', lastHandshake: null, path: 'relayed via gone' }] },
    ]);
    expect(g.edges).toEqual([
      { a: 'hub', b: 'n1', path: 'direct', handshakeAgeS: 20 },
      { a: 'n1', b: 'n2', path: 'relayed', via: 'hub', handshakeAgeS: 70, handshakeFrom: 'relay' },
      { a: 'hub', b: 'n2', path: 'direct', handshakeAgeS: 70 },
      { a: 'n3', b: 'n4', path: 'relayed', via: 'gone', handshakeAgeS: null },
    ]);
  });

  it('a pair neither side has a path for is none, with no handshake age', () => {
    const g = joinMeshViews([{ node: 'x', now, peers: [{ name: 'y', lastHandshake: null, path: 'no path (the coordinator does not relay)' }] }, { node: 'y', now, peers: [] }]);
    expect(g.edges).toEqual([{ a: 'x', b: 'y', path: 'none', handshakeAgeS: null }]);
  });
});

describe('GET /api/mesh', () => {
  let fleet: Fleet | undefined;
  afterAll(async () => {
    await fleet?.close();
  });

  it('asked before the collector\'s first poll, waits for it and lists the fleet (not an empty graph kept for 30 s)', async () => {
    fleet = await loopFleet(2);
    const collector = new Collector({ home: fleet.home, pool: fleet.pool, intervalMs: 60_000 }); // never started: no poll yet
    const access = new Access(newSecret('key'), '127.0.0.1', 8790);
    const app = dashboardApp({ home: fleet.home, pool: fleet.pool, collector, key: 'unused', bind: '127.0.0.1', port: 8790 }, access);
    const res = await app.fetch(new Request('http://127.0.0.1:8790/api/mesh', { headers: { host: '127.0.0.1:8790', cookie: `${COOKIE}=${access.session()}` } }));
    expect(res.status).toBe(200);
    const g = (await res.json()) as { nodes: { name: string; inMesh: boolean; note?: string }[] };
    // Loopback daemons run no wire: each node is in the graph, out of the mesh, with the reason.
    expect(g.nodes.map((n) => n.name).sort()).toEqual(['n1', 'n2']);
    for (const n of g.nodes) expect(n.note, n.name).not.toBe('did not answer the last poll');
    await collector.close();
  });
});
