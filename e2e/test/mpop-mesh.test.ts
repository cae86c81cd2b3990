import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Host, Mesh, lan, waitFor } from '../src/index.js';

const isRoot = process.getuid?.() === 0;
const MPOP_BIN = fileURLToPath(new URL('../../mpop/bin/run.js', import.meta.url));

/**
 * mpop on the coordinator's machine, over a real WireGuard mesh: the fleet comes from the Wire registry,
 * every node is reached on its mesh address, and a node whose daemon goes away is its own outcome.
 */
describe.skipIf(!isRoot)('mpop over the lab mesh', () => {
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

  it('servers lists the mesh from the Wire registry, online, on mesh addresses', async () => {
    const r = await mpop(['servers', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const nodes = JSON.parse(r.stdout).nodes as { name: string; address: string; via: string; wire: { status: string } | null }[];
    for (const n of mesh.nodes) {
      expect(nodes.find((x) => x.name === n.name)).toMatchObject({ address: `${mesh.ips.get(n.name)}:48291`, via: 'wire', wire: { status: 'online' } });
    }
  });

  it('exec all runs on every node in its own network namespace, and folds nothing that differs', async () => {
    const r = await mpop(['exec', 'all', '--json', '--', 'ip', '-o', '-4', 'addr', 'show']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { nodes: { node: string; outcome: string; stdout: string }[] };
    for (const n of mesh.nodes) {
      const mine = j.nodes.find((x) => x.node === n.name)!;
      expect(mine.outcome).toBe('ok');
      expect(mine.stdout).toContain(`inet ${mesh.ips.get(n.name)}/`);
    }
    const same = await mpop(['exec', mesh.nodes.map((n) => n.name).join(','), '--', 'echo', 'hello']);
    expect(same.code, same.stderr).toBe(0);
    expect(same.stdout).toContain(`(${mesh.nodes.length})\n`);
    expect(same.stdout).toMatch(/^ok\s+3\s+/m);
  });

  it('heal reads each node\'s own mesh (its `wire status` through vssh): every peer reachable', async () => {
    const r = await mpop(['heal', mesh.nodes.map((n) => n.name).join(','), '--check', 'mesh', '--json']);
    const j = JSON.parse(r.stdout) as { nodes: { node: string; checks: { check: string; status: string; diagnosis: string; evidence: { peers?: number; role?: string } }[] }[] };
    for (const n of mesh.nodes) {
      const m = j.nodes.find((x) => x.node === n.name)!.checks.find((c) => c.check === 'mesh')!;
      expect(m, JSON.stringify(m)).toMatchObject({ status: 'ok', evidence: { role: 'node', peers: mesh.nodes.length } });
    }
  });

  it('heal tells an idle peer from a broken one: n3\'s tunnel down is a problem on n1, n2 (idle) is not', async () => {
    const [n1, n2, n3] = mesh.nodes;
    const healYaml = join(mesh.hub.home, 'mpop', 'heal.yaml');
    writeFileSync(healYaml, 'thresholds:\n  peerStale: 1s\n'); // every peer is quiet by this measure: each gets pinged
    await mesh.lab.exec(n3!, 'ip', ['link', 'set', n3!.iface, 'down']);
    await new Promise((r) => setTimeout(r, 2500)); // the handshakes of the test before are older than 1 s now
    try {
      const r = await mpop(['heal', n1!.name, '--check', 'mesh', '--json']);
      const m = (JSON.parse(r.stdout) as { nodes: { checks: { check: string; status: string; diagnosis: string; evidence: { idle?: string[]; stale: { name: string }[] } }[] }[] }).nodes[0]!.checks[0]!;
      expect(m.status, m.diagnosis).toBe('problem');
      expect(m.evidence.stale.map((p) => p.name)).toEqual([n3!.name]);
      expect(m.evidence.idle).toEqual(expect.arrayContaining([n2!.name]));
      expect(m.diagnosis).toContain('no answer to a ping over the mesh');
    } finally {
      await mesh.lab.exec(n3!, 'ip', ['link', 'set', n3!.iface, 'up']);
      rmSync(healYaml, { force: true });
    }
  });

  it('a node whose daemon stopped is unreachable; the others are ok, and @failed retries only it', async () => {
    const [n1] = mesh.nodes;
    for (const c of mesh.lab.processes(n1!, 'vssh')) await mesh.lab.stop(c);
    const r = await mpop(['exec', 'all', '--', 'true']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`^unreachable\\s+1\\s+${n1!.name}$`, 'm'));
    expect(r.stdout).toMatch(/^ok\s+3\s+/m);
    mesh.lab.startVssh(n1!);
    await waitFor(`vssh back on ${n1!.name}`, () => mesh.lab.log(n1!, 'vssh').split(`vssh serving on`).length > 2, 20_000);
    const retry = await mpop(['exec', '@failed', '--json', '--', 'true']);
    expect(retry.code, retry.stderr).toBe(0);
    expect(JSON.parse(retry.stdout).nodes.map((n: { node: string }) => n.node)).toEqual([n1!.name]);
  });
});
