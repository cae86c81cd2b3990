import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Host, Mesh, STALE_S, lan, serveHub, startEcho, tcpEcho, tokenFor, waitFor } from '../src/index.js';
import { decodeToken, encodeToken } from '../../wire/src/token.js';

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

  it('refuses reused, expired, forged and wrong-name tokens, and a coordinator with another certificate', async () => {
    const { lab, hub } = mesh;
    const guest: Host = await lab.addHost('guest', `${lab.prefix}-lan`, '192.168.77.50');
    const tryJoin = async (token: string, extra: string[] = []) => {
      const r = await lab.wire(guest, ['up', '--join', token, '--interface', guest.iface, ...extra, '--json']);
      return { code: r.code, error: r.stdout ? (JSON.parse(r.stdout) as { error?: { code: string; message: string } }).error : undefined, stderr: r.stderr };
    };
    const first = await tokenFor(lab, hub, 'guest');
    const wrongName = await tryJoin(first, ['--name', 'not-guest']);
    expect(wrongName).toMatchObject({ code: 5, error: { code: 'WIRE_TOKEN_NAME' } });
    const forged = encodeToken({ ...decodeToken(first), secret: 'A'.repeat(32) });
    expect(await tryJoin(forged)).toMatchObject({ code: 5, error: { code: 'WIRE_BAD_TOKEN' } });
    const otherCert = encodeToken({ ...decodeToken(first), fingerprint: decodeToken(first).fingerprint.replace(/^../, '00') });
    const mismatch = await tryJoin(otherCert);
    expect(mismatch).toMatchObject({ code: 6, error: { code: 'WIRE_CERT_MISMATCH' } });
    expect(mismatch.error!.message).toContain('Nothing was sent');
    const expiring = await tokenFor(lab, hub, 'guest', '1s');
    await new Promise((r) => setTimeout(r, 1500));
    expect(await tryJoin(expiring)).toMatchObject({ code: 5, error: { code: 'WIRE_TOKEN_EXPIRED' } });
    expect(await tryJoin('wire1_garbage')).toMatchObject({ code: 5, error: { code: 'WIRE_BAD_TOKEN' } });

    // What can be checked is checked before the token is spent: a name Linux refuses costs nothing.
    const tooLong = await lab.wire(guest, ['up', '--join', first, '--interface', 'abcdefghijklmnopqrstuvwx', '--json']);
    expect(tooLong.code).toBe(2);
    expect(JSON.parse(tooLong.stdout).error).toMatchObject({ code: 'WIRE_BAD_INPUT', message: expect.stringContaining('cannot be an interface name') });
    expect(JSON.parse((await lab.wire(hub, ['token', 'list', '--json'])).stdout).find((t: { id: string }) => t.id === decodeToken(first).id).usedAt).toBeNull();

    // The good token joins once; its second use is refused.
    const child = lab.startWire(guest, ['up', '--join', first, '--interface', guest.iface], 'up');
    await waitFor('guest to join', async () => (await lab.wire(guest, ['status'])).code === 0, 30_000, 500);
    await lab.stop(child);
    // On the machine that joined with it, the same token again carries on as that node.
    const again = lab.startWire(guest, ['up', '--join', first, '--interface', guest.iface], 'up-again');
    await waitFor('guest to come up again', async () => (await lab.wire(guest, ['status', '--json'])).stdout.includes('"up": true'), 30_000, 500);
    expect(lab.log(guest, 'up-again')).toContain('already joined with this token');
    await lab.stop(again);
    const other: Host = await lab.addHost('other', `${lab.prefix}-lan`, '192.168.77.51');
    const reused = await lab.wire(other, ['up', '--join', first, '--name', 'guest', '--interface', other.iface, '--json']);
    expect(reused.code).toBe(5);
    expect(JSON.parse(reused.stdout).error.code).toBe('WIRE_TOKEN_USED');
  }, 120_000);

  it('brings the interface back when wireguard-go is killed', async () => {
    const { lab } = mesh;
    const n1 = mesh.nodes[0]!;
    const pids = (await lab.exec(n1, 'ip', ['netns', 'pids', n1.ns])).stdout.split('\n').filter(Boolean).map(Number);
    const wgPid = pids.find((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]!.endsWith('wireguard-go');
      } catch {
        return false;
      }
    });
    expect(wgPid, 'wireguard-go of n1').toBeDefined();
    process.kill(wgPid!, 'SIGKILL');
    await waitFor('n1 to reach n2 again', async () => (await tcpEcho(lab, n1, mesh.ips.get('n2')!, 7000, 2000)).code === 0, 30_000, 500);
    expect(lab.log(n1, 'up')).toContain('wireguard-go exited; bringing the interface back');
  }, 60_000);

  it('finds a node again after its address moved', async () => {
    const { lab } = mesh;
    const [n1, n2] = mesh.nodes as [Host, Host];
    await lab.moveAddress(n1, '192.168.77.31');
    await waitFor('n2 to reach n1 at its new address', async () => (await tcpEcho(lab, n2, mesh.ips.get('n1')!, 7000, 2000)).code === 0, 60_000, 1000);
    await waitFor('the registry to hold the new endpoint', async () => {
      const peers = JSON.parse((await lab.wire(mesh.hub, ['peers', '--json'])).stdout) as { name: string; endpoint: string }[];
      return peers.find((p) => p.name === 'n1')?.endpoint.startsWith('192.168.77.31:');
    }, 30_000, 500);
  }, 90_000);

  it('keeps carrying traffic while the coordinator is stopped, and loses nothing when it restarts', async () => {
    const { lab, hub } = mesh;
    const [n1, n2] = mesh.nodes as [Host, Host];
    const serve = lab.processes(hub, 'serve');
    expect(serve).toHaveLength(1);
    await lab.stop(serve[0]!);
    // The hub's interface went with it; the nodes keep their peers (anything relayed through the hub
    // goes back to the direct path once the watchdog sees the hub silent).
    await new Promise((r) => setTimeout(r, 4000));
    await waitFor('n1 to reach n2 without the coordinator', async () => (await tcpEcho(lab, n1, mesh.ips.get('n2')!, 7000, 2000)).code === 0, STALE_S * 1000 * 4, 500);
    expect((await tcpEcho(lab, n2, mesh.ips.get('n1')!)).code).toBe(0);
    expect(lab.log(n1, 'up')).toContain('sync failed; keeping the peers we have');

    await serveHub(lab, hub);
    const peers = JSON.parse((await lab.wire(hub, ['peers', '--json'])).stdout) as { name: string; meshIp: string }[];
    for (const n of mesh.nodes) expect(peers.find((p) => p.name === n.name)?.meshIp).toBe(mesh.ips.get(n.name));
    startEcho(lab, hub, '10.99.0.1', 7001);
    await waitFor('n1 to reach the restarted hub', async () => (await tcpEcho(lab, n1, '10.99.0.1', 7001, 2000)).code === 0, 30_000, 500);
  }, 150_000);

  it('wire remove: the removed node can no longer reach anyone, and its peers drop it', async () => {
    const { lab, hub } = mesh;
    const [n1, n2] = mesh.nodes as [Host, Host];
    const n2Key = JSON.parse((await lab.wire(hub, ['status', '--json'])).stdout).peers.find((p: { name: string }) => p.name === 'n2').publicKey as string;
    const n2Up = lab.processes(n2, 'up')[0]!;
    const n2Exit = new Promise<number | null>((resolve) => n2Up.once('exit', (code) => resolve(code)));
    const r = await lab.wire(hub, ['remove', 'n2', '--json']);
    expect(JSON.parse(r.stdout)).toEqual({ removed: 'n2', meshIp: mesh.ips.get('n2') });
    // At once, not at the next interval (SYNC_S): the held syncs are answered when the registry changes.
    await waitFor('n1 to drop n2', async () => !(await lab.exec(n1, 'wg', ['show', n1.iface, 'peers'])).stdout.includes(n2Key), 5000, 250);
    await waitFor('n2 to stop', async () => lab.processes(n2, 'up').length === 0, 20_000, 250);
    expect(lab.log(n2, 'up')).toContain('removed from the mesh by the coordinator');
    // Exit 11, which the systemd unit does not restart on; its peers are forgotten, and it stays removed.
    expect(await n2Exit).toBe(11);
    expect(existsSync(join(n2.home, 'wire', 'peers.json'))).toBe(false);
    expect((await lab.exec(n2, 'ip', ['link', 'show', n2.iface])).code).not.toBe(0);
    const upAgain = await lab.wire(n2, ['up', '--interface', n2.iface, '--json']);
    expect(upAgain.code).toBe(11);
    expect(JSON.parse(upAgain.stdout).error.message).toContain('removed from the mesh by the coordinator');
    expect((await lab.exec(n2, 'ip', ['link', 'show', n2.iface])).code, 'no interface brought up for a removed node').not.toBe(0);
    expect((await lab.wire(n2, ['peers'])).code).toBe(11);
    expect((await tcpEcho(lab, n2, mesh.ips.get('n1')!, 7000, 2000)).code).not.toBe(0);
    expect((await tcpEcho(lab, n2, '10.99.0.1', 7001, 2000)).code).not.toBe(0);
    expect((await tcpEcho(lab, n1, '10.99.0.1', 7001)).code).toBe(0);
    // Its address is never given out again.
    const again = await tokenFor(lab, hub, 'n3');
    const n3: Host = await lab.addHost('n3', `${lab.prefix}-lan`, '192.168.77.60');
    lab.startWire(n3, ['up', '--join', again, '--interface', n3.iface], 'up');
    const s = await waitFor('n3 to join', async () => {
      const st = await lab.wire(n3, ['status', '--json']);
      return st.code === 0 ? (JSON.parse(st.stdout) as { meshIp: string }) : undefined;
    }, 30_000, 500);
    expect([...mesh.ips.values()]).not.toContain(s.meshIp);
    // ... and n1 hears of n3 at once too.
    await waitFor('n1 to reach n3', async () => {
      const peers = JSON.parse((await lab.wire(n1, ['peers', '--json'])).stdout) as { name: string }[];
      return peers.some((p) => p.name === 'n3');
    }, 5000, 250);
  }, 90_000);
});
