import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Host, Mesh, lan, waitFor } from '../src/index.js';

const isRoot = process.getuid?.() === 0;
const MPOP_BIN = fileURLToPath(new URL('../../mpop/bin/run.js', import.meta.url));

/**
 * mpop status and matrix over a real WireGuard mesh: every node read on its mesh address, and every
 * node-to-node path tried from the node itself; a path cut inside one host's namespace shows in the grid.
 */
describe.skipIf(!isRoot)('mpop facts over the lab mesh', () => {
  let mesh: Mesh;
  const mpop = (args: string[]) => mesh.lab.exec(mesh.hub, process.execPath, [MPOP_BIN, ...args], { timeoutMs: 60_000 });
  const listening = async (h: Host): Promise<void> => {
    await waitFor(`vssh serve on ${h.name}`, () => mesh.lab.log(h, 'vssh').includes(`vssh serving on ${mesh.ips.get(h.name)}:48291`), 20_000);
  };
  beforeAll(async () => {
    mesh = await lan(3);
    for (const h of [mesh.hub, ...mesh.nodes]) mesh.lab.startVssh(h);
    for (const h of [mesh.hub, ...mesh.nodes]) await listening(h);
  }, 180_000);
  afterAll(async () => {
    await mesh?.lab.destroy();
  });

  it('status reads every node on its mesh address', async () => {
    const r = await mpop(['status', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { nodes: { node: string; outcome: string; value: { rttMs: number } }[] };
    for (const n of mesh.nodes) expect(j.nodes.find((x) => x.node === n.name)).toMatchObject({ outcome: 'ok', value: { rttMs: expect.any(Number) } });
  });

  it('matrix: every path between the nodes is ok over the mesh; a blackholed pair fails both ways, the rest stay ok', async () => {
    const names = mesh.nodes.map((n) => n.name);
    const ok = await mpop(['matrix', names.join(','), '--json']);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    const j = JSON.parse(ok.stdout) as { targets: { node: string; host: string; port: number }[]; counts: { ok: number; failed: number } };
    expect(j.counts).toEqual({ ok: names.length * (names.length - 1), failed: 0, untried: 0 });
    for (const t of j.targets) expect(t).toEqual({ node: t.node, host: mesh.ips.get(t.node), port: 48291 });

    const [a, b] = mesh.nodes as [Host, Host];
    const cut = await mesh.lab.exec(a, 'ip', ['route', 'add', 'blackhole', `${mesh.ips.get(b.name)}/32`]);
    expect(cut.code, cut.stderr).toBe(0);
    try {
      const r = await mpop(['matrix', names.join(','), '--connect-timeout', '1500ms', '--json']);
      expect(r.code).toBe(1);
      const m = JSON.parse(r.stdout) as { rows: { from: string; cells: { to: string; ok: boolean; error: string | null }[] }[]; counts: { ok: number; failed: number } };
      const cell = (from: string, to: string) => m.rows.find((x) => x.from === from)!.cells.find((c) => c.to === to)!;
      expect(cell(a.name, b.name).ok).toBe(false);
      expect(cell(b.name, a.name)).toMatchObject({ ok: false, error: expect.stringMatching(/timed out/) });
      expect(m.counts).toEqual({ ok: names.length * (names.length - 1) - 2, failed: 2, untried: 0 });
      const text = await mpop(['matrix', names.join(','), '--connect-timeout', '1500ms']);
      expect(text.stdout).toContain(`${a.name} -> ${b.name}: `);
    } finally {
      await mesh.lab.exec(a, 'ip', ['route', 'del', 'blackhole', `${mesh.ips.get(b.name)}/32`]);
    }
  });
});
