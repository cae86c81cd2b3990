import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Mesh, lan, startEcho, tcpEcho } from '../src/index.js';

// The lab needs root (network namespaces); CI runs as root.
const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot)('wire: a LAN mesh of a hub and 2 nodes', () => {
  let mesh: Mesh;
  beforeAll(async () => {
    mesh = await lan(2);
  }, 120_000);
  afterAll(async () => {
    await mesh?.lab.destroy();
  });

  it('gives each node its own mesh address, never the hub\'s', () => {
    const ips = [...mesh.ips.values()];
    expect(new Set(ips).size).toBe(3);
    expect(mesh.ips.get('hub')).toBe('10.99.0.1');
    for (const n of mesh.nodes) expect(mesh.ips.get(n.name)).toMatch(/^10\.99\.\d+\.\d+$/);
  });

  it('carries TCP between every pair over 10.99.x.x', async () => {
    const hosts = [mesh.hub, ...mesh.nodes];
    for (const h of hosts) startEcho(mesh.lab, h, mesh.ips.get(h.name)!);
    await new Promise((r) => setTimeout(r, 500));
    for (const from of hosts) {
      for (const to of hosts) {
        if (from === to) continue;
        const r = await tcpEcho(mesh.lab, from, mesh.ips.get(to.name)!);
        expect(r, `${from.name} -> ${to.name}: ${r.stderr}`).toMatchObject({ code: 0, stdout: `ping from ${from.name}\n` });
      }
    }
  }, 120_000);
});
