import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Host, Mesh, lan, waitFor } from '../src/index.js';

// The lab needs root (network namespaces); CI runs as root.
const isRoot = process.getuid?.() === 0;

/**
 * vssh across real WireGuard: the hub (the coordinator, whose wire/mesh-master is the controller's
 * master) commands the nodes, whose daemons derive their keys from the node secrets Wire gave them at
 * enrollment and listen only on their mesh addresses.
 */
describe.skipIf(!isRoot)('vssh over the lab mesh', () => {
  let mesh: Mesh;
  const listening = async (h: Host, ip: string): Promise<void> => {
    await waitFor(`vssh serve on ${h.name}`, () => mesh.lab.log(h, 'vssh').includes(`vssh serving on ${ip}:48291`), 20_000);
  };
  beforeAll(async () => {
    mesh = await lan(2);
    for (const h of [mesh.hub, ...mesh.nodes]) mesh.lab.startVssh(h);
    for (const h of [mesh.hub, ...mesh.nodes]) await listening(h, mesh.ips.get(h.name)!);
  }, 180_000);
  afterAll(async () => {
    await mesh?.lab.destroy();
  });

  it('runs a command on each node, in that node\'s network, found through the Wire registry', async () => {
    for (const n of mesh.nodes) {
      const r = await mesh.lab.vssh(mesh.hub, ['exec', n.name, '--', 'ip', '-o', '-4', 'addr', 'show']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`inet ${mesh.ips.get(n.name)}/`);
    }
  });

  it('puts a file to a node, checked end to end, and skips it when it is already there', async () => {
    const [n1] = mesh.nodes;
    const src = join(mesh.hub.home, 'payload.bin');
    const data = randomBytes(8 * 1024 * 1024);
    writeFileSync(src, data);
    const put = await mesh.lab.vssh(mesh.hub, ['put', src, `${n1!.name}:${n1!.home}/received.bin`, '--json']);
    expect(put.code, put.stderr).toBe(0);
    expect(JSON.parse(put.stdout)).toMatchObject({ files: 1, bytes: data.length });
    expect(readFileSync(join(n1!.home, 'received.bin')).equals(data)).toBe(true);
    const again = await mesh.lab.vssh(mesh.hub, ['put', src, `${n1!.name}:${n1!.home}/received.bin`, '--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({ files: 0, unchanged: 1 });
  });

  it('status reaches every node over its mesh address', async () => {
    const r = await mesh.lab.vssh(mesh.hub, ['status', '--json']);
    const nodes = JSON.parse(r.stdout).nodes as { node: string; reachable: boolean; via: string; address: string }[];
    for (const h of [mesh.hub, ...mesh.nodes]) {
      const name = h === mesh.hub ? 'coordinator' : h.name;
      expect(nodes.find((n) => n.node === name)).toMatchObject({ reachable: true, via: 'wire', address: `${mesh.ips.get(h.name)}:48291` });
    }
  });

  it('a node cannot command another: it holds only its own key', async () => {
    const [n1, n2] = mesh.nodes;
    const r = await mesh.lab.vssh(n1!, ['exec', n2!.name, '--', 'true']);
    expect(r.code).toBe(255);
    expect(r.stderr).toContain('holds no vssh master');
  });

  it('listens only on the mesh address, and refuses a LAN address without TLS', async () => {
    const [n1, n2] = mesh.nodes;
    const probe = `require('net').connect(48291, '${n2!.ip}').on('connect', () => process.exit(0)).on('error', (e) => { console.log(e.code); process.exit(3); })`;
    const lanTry = await mesh.lab.exec(n1!, process.execPath, ['-e', probe]);
    expect([lanTry.code, lanTry.stdout.trim()]).toEqual([3, 'ECONNREFUSED']);
    const noTls = await mesh.lab.vssh(n2!, ['serve', '--bind', n2!.ip, '--port', '48292']);
    expect(noTls.code).toBe(6);
    expect(noTls.stderr).toContain('requires TLS');
  });
});
