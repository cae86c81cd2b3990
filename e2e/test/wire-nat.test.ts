import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Host, Mesh, STALE_S, blockedPair, hubAndNatted, startEcho, tailnetPair, tcpEcho, waitFor } from '../src/index.js';

const isRoot = process.getuid?.() === 0;

interface PeerStatus { name: string; path: string; endpoint: string | null }
async function peerStatus(mesh: Mesh, host: Host, peer: string): Promise<PeerStatus | undefined> {
  const r = await mesh.lab.wire(host, ['status', '--json']);
  return r.code === 0 ? (JSON.parse(r.stdout) as { peers: PeerStatus[] }).peers.find((p) => p.name === peer) : undefined;
}

describe.skipIf(!isRoot)('wire: nodes behind NAT', () => {
  let mesh: Mesh;
  beforeAll(async () => {
    mesh = await hubAndNatted(2);
  }, 120_000);
  afterAll(async () => {
    await mesh?.lab.destroy();
  });

  it('join through their NAT, are known to be behind it, and are reached by the hub and by each other', async () => {
    const { lab, hub } = mesh;
    const [n1, n2] = mesh.nodes as [Host, Host];
    const peers = JSON.parse((await lab.wire(hub, ['peers', '--json'])).stdout) as { name: string; endpoint: string }[];
    // The hub sees each node at its router's public address, never at its private one.
    expect(peers.find((p) => p.name === 'n1')?.endpoint).toMatch(/^203\.0\.113\.21:\d+$/);
    expect(peers.find((p) => p.name === 'n2')?.endpoint).toMatch(/^203\.0\.113\.22:\d+$/);
    for (const h of [hub, n1, n2]) startEcho(lab, h, mesh.ips.get(h.name)!);
    await new Promise((r) => setTimeout(r, 500));
    await waitFor('the hub to reach n1', async () => (await tcpEcho(lab, hub, mesh.ips.get('n1')!, 7000, 2000)).code === 0, 30_000, 500);
    await waitFor('n1 to reach n2 through both NATs', async () => (await tcpEcho(lab, n1, mesh.ips.get('n2')!, 7000, 2000)).code === 0, 60_000, 1000);
    expect((await tcpEcho(lab, n2, mesh.ips.get('n1')!)).code).toBe(0);
    const cfg = JSON.parse((await lab.wire(hub, ['config', 'n1', '--json'])).stdout) as { config: string };
    expect(cfg.config).toContain('PersistentKeepalive = 25');
  }, 120_000);
});

describe.skipIf(!isRoot)('wire: a pair that cannot reach each other', () => {
  let mesh: Mesh;
  beforeAll(async () => {
    mesh = await blockedPair();
  }, 120_000);
  afterAll(async () => {
    await mesh?.lab.destroy();
  });

  it('talks through the relay once the watchdog finds the direct path dead', async () => {
    const { lab } = mesh;
    const [a, b] = mesh.nodes as [Host, Host];
    startEcho(lab, b, mesh.ips.get(b.name)!);
    startEcho(lab, a, mesh.ips.get(a.name)!);
    await waitFor('a to reach b through the relay', async () => (await tcpEcho(lab, a, mesh.ips.get(b.name)!, 7000, 2000)).code === 0, STALE_S * 1000 * 4, 1000);
    expect((await tcpEcho(lab, b, mesh.ips.get(a.name)!)).code).toBe(0);
    expect((await peerStatus(mesh, a, b.name))?.path).toBe('relayed via coordinator');
    expect(lab.log(a, 'up')).toContain('watchdog: re-resolve');
    expect(lab.log(a, 'up')).toContain('watchdog: relay');
    // The pair's own UDP is still dropped: the traffic really went through the hub.
    expect((await peerStatus(mesh, a, 'coordinator'))?.path).toBe('direct');
  }, 180_000);

  it('forwards only from the mesh to the mesh: a LAN address a node puts on its coordinator entry reaches no one', async () => {
    const { lab, hub } = mesh;
    const [a] = mesh.nodes as [Host, Host];
    // A host on the hub's LAN that is not in the mesh, with a route back to the mesh through the hub:
    // were the hub to forward a's packets to it, the TCP echo would complete.
    const bystander: Host = await lab.addHost('bystander', `${lab.prefix}-lan`, '192.168.77.99');
    await lab.exec(bystander, 'ip', ['route', 'add', '10.99.0.0/16', 'via', hub.ip]);
    startEcho(lab, bystander, bystander.ip);
    const hubKey = (await lab.exec(hub, 'wg', ['show', hub.iface, 'public-key'])).stdout.trim();
    const allowed = (await lab.exec(a, 'wg', ['show', a.iface, 'allowed-ips'])).stdout.split('\n').find((l) => l.startsWith(hubKey))!.split('\t')[1]!.split(' ');
    expect((await lab.exec(a, 'wg', ['set', a.iface, 'peer', hubKey, 'allowed-ips', [...allowed, `${bystander.ip}/32`].join(',')])).code).toBe(0);
    expect((await lab.exec(a, 'ip', ['route', 'add', `${bystander.ip}/32`, 'dev', a.iface])).code).toBe(0);
    const r = await tcpEcho(lab, a, bystander.ip, 7000, 3000);
    expect(r.code, 'the hub forwarded a mesh packet onto its LAN').not.toBe(0);
    // The packets did reach the hub over the mesh, and its relay table dropped them there.
    const table = (await lab.exec(hub, 'nft', ['list', 'table', 'inet', `meshpop_wire_${hub.iface}`])).stdout;
    expect(Number(/iifname "[^"]+" counter packets (\d+)/.exec(table)?.[1] ?? 0)).toBeGreaterThan(0);
    // What the hub changed: forwarding on its mesh interface alone, and a table of its own.
    expect((await lab.exec(hub, 'sysctl', ['-n', 'net.ipv4.ip_forward'])).stdout.trim()).toBe('0');
    expect((await lab.exec(hub, 'sysctl', ['-n', `net.ipv4.conf.${hub.iface}.forwarding`])).stdout.trim()).toBe('1');
    expect((await lab.exec(hub, 'nft', ['list', 'table', 'inet', `meshpop_wire_${hub.iface}`])).code).toBe(0);
    // ... and the relay still carries a <-> b.
    expect((await tcpEcho(lab, a, mesh.ips.get('n2')!)).code).toBe(0);
    await lab.exec(a, 'ip', ['route', 'del', `${bystander.ip}/32`, 'dev', a.iface]);
  }, 60_000);

  it('goes back to the direct path when it works again', async () => {
    const { lab } = mesh;
    const [a, b] = mesh.nodes as [Host, Host];
    await lab.exec(a, 'nft', ['delete', 'table', 'inet', 'labblock']);
    await lab.exec(b, 'nft', ['delete', 'table', 'inet', 'labblock']);
    // The first retry comes after ~30 s (jittered backoff).
    await waitFor('a to use the direct path to b again', async () => (await peerStatus(mesh, a, b.name))?.path === 'direct' && (await tcpEcho(lab, a, mesh.ips.get(b.name)!, 7000, 2000)).code === 0, 90_000, 1000);
    expect(lab.log(a, 'up')).toContain('watchdog: retry-direct');
  }, 120_000);

  it('removes what it changed when the coordinator stops', async () => {
    const { lab, hub } = mesh;
    await lab.stop(lab.processes(hub, 'serve')[0]!);
    expect((await lab.exec(hub, 'nft', ['list', 'table', 'inet', `meshpop_wire_${hub.iface}`])).code).not.toBe(0);
    expect((await lab.exec(hub, 'sysctl', ['-n', 'net.ipv4.ip_forward'])).stdout.trim()).toBe('0');
  }, 30_000);
});

describe.skipIf(!isRoot)('wire: a pair that cannot reach each other, and a coordinator that does not relay', () => {
  let mesh: Mesh;
  beforeAll(async () => {
    mesh = await blockedPair({ relay: false });
  }, 120_000);
  afterAll(async () => {
    await mesh?.lab.destroy();
  });

  it('is never moved onto the coordinator, and status says the path is direct (and silent), not relayed', async () => {
    const { lab } = mesh;
    const [a, b] = mesh.nodes as [Host, Host];
    startEcho(lab, b, mesh.ips.get(b.name)!);
    const cached = JSON.parse(readFileSync(join(a.home, 'wire', 'peers.json'), 'utf8')) as { reply: { coordinator: { relays: boolean } } };
    expect(cached.reply.coordinator.relays).toBe(false);
    // Past the point where a relaying coordinator would have been used (stale, then the grace period).
    await waitFor('a to find b stale', async () => lab.log(a, 'up').includes('watchdog: re-resolve'), STALE_S * 1000 * 3, 1000);
    await new Promise((r) => setTimeout(r, 15_000));
    expect(lab.log(a, 'up')).not.toContain('watchdog: relay');
    const s = await peerStatus(mesh, a, b.name);
    expect(s?.path).toBe('direct');
    expect((await tcpEcho(lab, a, mesh.ips.get(b.name)!, 7000, 2000)).code).not.toBe(0);
  }, 150_000);
});

describe.skipIf(!isRoot)('wire: a pair that cannot reach each other directly, both on Tailscale', () => {
  let mesh: Mesh;
  beforeAll(async () => {
    mesh = await tailnetPair();
  }, 120_000);
  afterAll(async () => {
    await mesh?.lab.destroy();
  });

  it('knows every peer\'s Tailscale IP on every node, and talks over the tailnet when direct fails (no relay here)', async () => {
    const { lab } = mesh;
    const [a, b] = mesh.nodes as [Host, Host];
    const cached = JSON.parse(readFileSync(join(a.home, 'wire', 'peers.json'), 'utf8')) as { reply: { self: { tailscaleIp: string }; peers: { name: string; tailscaleIp: string | null }[] } };
    expect(cached.reply.self.tailscaleIp).toBe('100.64.0.1');
    expect(cached.reply.peers.find((p) => p.name === 'n2')?.tailscaleIp).toBe('100.64.0.2');
    const peers = JSON.parse((await lab.wire(a, ['peers', '--json'])).stdout) as { name: string; tailscaleIp: string | null }[];
    expect(peers.find((p) => p.name === 'n2')?.tailscaleIp).toBe('100.64.0.2');
    startEcho(lab, b, mesh.ips.get(b.name)!);
    startEcho(lab, a, mesh.ips.get(a.name)!);
    await waitFor('a to reach b over the tailnet', async () => (await tcpEcho(lab, a, mesh.ips.get(b.name)!, 7000, 2000)).code === 0, STALE_S * 1000 * 4, 1000);
    expect((await tcpEcho(lab, b, mesh.ips.get(a.name)!)).code).toBe(0);
    // Whichever side's watchdog moves first, the other follows without its own: WireGuard takes a peer's new
    // source address as its endpoint (roaming). So one of the two logs names the move, and neither a relay.
    const logs = lab.log(a, 'up') + lab.log(b, 'up');
    expect(logs).toContain('watchdog: tailscale');
    expect(logs).not.toContain('watchdog: relay');
    const s = await peerStatus(mesh, a, b.name);
    expect(s).toMatchObject({ path: 'tailscale', endpoint: expect.stringMatching(/^100\.64\.0\.2:\d+$/) });
  }, 180_000);
});
