import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Host, Mesh, STALE_S, blockedPair, hubAndNatted, startEcho, tcpEcho, waitFor } from '../src/index.js';

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
    await waitFor('a to reach b through the relay', async () => (await tcpEcho(lab, a, mesh.ips.get(b.name)!, 7000, 2000)).code === 0, STALE_S * 1000 * 8, 1000);
    expect((await tcpEcho(lab, b, mesh.ips.get(a.name)!)).code).toBe(0);
    expect((await peerStatus(mesh, a, b.name))?.path).toBe('relayed via coordinator');
    expect(lab.log(a, 'up')).toContain('watchdog: re-resolve');
    expect(lab.log(a, 'up')).toContain('watchdog: relay');
    // The pair's own UDP is still dropped: the traffic really went through the hub.
    expect((await peerStatus(mesh, a, 'coordinator'))?.path).toBe('direct');
  }, 120_000);

  it('goes back to the direct path when it works again', async () => {
    const { lab } = mesh;
    const [a, b] = mesh.nodes as [Host, Host];
    await lab.exec(a, 'nft', ['delete', 'table', 'inet', 'labblock']);
    await lab.exec(b, 'nft', ['delete', 'table', 'inet', 'labblock']);
    // The first retry comes after ~30 s (jittered backoff).
    await waitFor('a to use the direct path to b again', async () => (await peerStatus(mesh, a, b.name))?.path === 'direct' && (await tcpEcho(lab, a, mesh.ips.get(b.name)!, 7000, 2000)).code === 0, 90_000, 1000);
    expect(lab.log(a, 'up')).toContain('watchdog: retry-direct');
  }, 120_000);
});
