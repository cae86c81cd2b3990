import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Host, Mesh, STALE_S, blockedPair, startEcho, tcpEcho, waitFor } from '../src/index.js';
import { MPOP_BIN } from '../src/lab.js';

const isRoot = process.getuid?.() === 0;

interface PeerStatus { name: string; path: string }
interface MeshEdge { a: string; b: string; path: string; via?: string; handshakeAgeS: number | null; handshakeFrom?: string }
interface MeshGraph { nodes: { name: string; inMesh: boolean; note?: string }[]; edges: MeshEdge[] }
interface Answer { anon: number; online: number; status: number; type: string | null; nosniff: string | null; graph: MeshGraph }

/**
 * ASK_MESH runs on the controller (the hub) beside its `mpop dashboard`: it logs in with the printed link's
 * token (read from stdin, never on a command line), waits until the dashboard has read every node, and asks
 * the page's mesh endpoint with the session cookie, as the page does.
 */
const ASK_MESH = `
const [url, token, want] = require('fs').readFileSync(0, 'utf8').trim().split('\\n');
(async () => {
  const login = await fetch(url + '/login', { method: 'POST', headers: { 'content-type': 'application/json', origin: url }, body: JSON.stringify({ token }) });
  if (login.status !== 204) throw new Error('login refused: ' + login.status);
  const cookie = login.headers.get('set-cookie').split(';')[0];
  const anon = (await fetch(url + '/api/mesh')).status;
  let online = 0;
  for (const deadline = Date.now() + 30000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 500))) {
    online = (await (await fetch(url + '/api/fleet', { headers: { cookie } })).json()).counts.online;
    if (online >= Number(want)) break;
  }
  const res = await fetch(url + '/api/mesh', { headers: { cookie } });
  process.stdout.write(JSON.stringify({ anon, online, status: res.status, type: res.headers.get('content-type'), nosniff: res.headers.get('x-content-type-options'), graph: await res.json() }));
})().catch((e) => { console.error(e.message); process.exit(1); });
`;

/**
 * The dashboard's mesh graph over a real WireGuard mesh: a hub that relays and two nodes whose UDP to each
 * other is dropped. `mpop dashboard` runs on the hub (the controller); its /api/mesh, asked over HTTP with the
 * login cookie, must say that each node reaches the hub directly and that the blocked pair goes through the
 * coordinator's relay, with the handshake ages wireguard-go reports.
 */
describe.skipIf(!isRoot)('mpop dashboard: the mesh graph of a lab with a direct and a relayed pair', () => {
  let mesh: Mesh;
  const path = async (from: Host, peer: string): Promise<string | undefined> => {
    const r = await mesh.lab.wire(from, ['status', '--json']);
    return r.code === 0 ? (JSON.parse(r.stdout) as { peers: PeerStatus[] }).peers.find((p) => p.name === peer)?.path : undefined;
  };

  beforeAll(async () => {
    mesh = await blockedPair();
    const { lab, hub } = mesh;
    const [a, b] = mesh.nodes as [Host, Host];
    for (const h of [hub, a, b]) lab.startVssh(h);
    for (const h of [hub, a, b]) await waitFor(`vssh serve on ${h.name}`, () => lab.log(h, 'vssh').includes(`vssh serving on ${mesh.ips.get(h.name)}:48291`), 20_000);
    // Traffic between the pair makes each side's watchdog find the direct path dead and move to the relay.
    startEcho(lab, a, mesh.ips.get(a.name)!);
    startEcho(lab, b, mesh.ips.get(b.name)!);
    await waitFor('n1 to reach n2 through the relay', async () => (await tcpEcho(lab, a, mesh.ips.get(b.name)!, 7000, 2000)).code === 0, STALE_S * 1000 * 4, 1000);
    await waitFor('both sides of the pair to say relayed', async () => (await path(a, b.name)) === 'relayed via coordinator' && (await path(b, a.name)) === 'relayed via coordinator', STALE_S * 1000 * 2, 1000);
  }, 240_000);
  afterAll(async () => {
    await mesh?.lab.destroy();
  });

  it('mpop dashboard on the hub serves /api/mesh: n1-n2 relayed via the coordinator, each node direct to it, handshake ages in seconds', async () => {
    const { lab, hub } = mesh;
    const [a, b] = mesh.nodes as [Host, Host];
    expect((await tcpEcho(lab, b, mesh.ips.get(a.name)!)).code).toBe(0);
    lab.start(hub, process.execPath, [MPOP_BIN, 'dashboard', '--json', '--port', '0', '--interval', '2s'], 'dashboard');
    const started = await waitFor('mpop dashboard to print its login link', () => {
      const line = lab.log(hub, 'dashboard').split('\n').find((l) => l.startsWith('{"url"'));
      return line ? (JSON.parse(line) as { url: string; login: string }) : undefined;
    }, 30_000, 250);
    const token = /#t=([A-Za-z0-9_-]+)$/.exec(started.login)?.[1];
    expect(token, 'the login link carries a token').toBeTruthy();
    const hubKey = (await lab.exec(hub, 'wg', ['show', hub.iface, 'public-key'])).stdout.trim();
    const shakes = (await lab.exec(a, 'wg', ['show', a.iface, 'latest-handshakes'])).stdout.split('\n').map((l) => l.split('\t'));
    const hubShake = Number(shakes.find(([k]) => k === hubKey)?.[1]);
    expect(hubShake).toBeGreaterThan(0);
    const r = await lab.exec(hub, process.execPath, ['-e', ASK_MESH], { input: `${started.url}\n${token}\n3\n`, timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    const answer = JSON.parse(r.stdout) as Answer;
    expect(answer.anon, 'the mesh endpoint without the cookie').toBe(401);
    expect(answer.online).toBe(3);
    expect(answer.status).toBe(200);
    expect(answer.type).toMatch(/^application\/json/);
    expect(answer.nosniff).toBe('nosniff');

    const g = answer.graph;
    expect(g.nodes.map((n) => n.name).sort()).toEqual(['coordinator', 'n1', 'n2']);
    for (const n of g.nodes) expect(n, JSON.stringify(n)).toMatchObject({ inMesh: true });
    const edge = (x: string, y: string): MeshEdge | undefined => g.edges.find((e) => [e.a, e.b].sort().join() === [x, y].sort().join());
    expect(g.edges, JSON.stringify(g.edges)).toHaveLength(3);
    expect(edge('n1', 'n2'), JSON.stringify(g.edges)).toMatchObject({ path: 'relayed', via: 'coordinator' });
    for (const n of ['n1', 'n2']) {
      const e = edge('coordinator', n)!;
      expect(e, JSON.stringify(g.edges)).toMatchObject({ path: 'direct' });
      expect(e.via).toBeUndefined();
      expect(e.handshakeFrom).toBeUndefined();
    }
    // The relayed pair never handshakes itself (its packets ride each side's session with the coordinator):
    // its age is the older of those two sessions'.
    expect(edge('n1', 'n2')!.handshakeFrom).toBe('relay');
    expect(edge('n1', 'n2')!.handshakeAgeS).toBe(Math.max(edge('coordinator', 'n1')!.handshakeAgeS!, edge('coordinator', 'n2')!.handshakeAgeS!));
    for (const e of g.edges) {
      expect(typeof e.handshakeAgeS, JSON.stringify(e)).toBe('number');
      expect(Number.isInteger(e.handshakeAgeS)).toBe(true);
      expect(e.handshakeAgeS!).toBeGreaterThanOrEqual(0);
      // Traffic flowed within this test (the echo above, the keepalives): a WireGuard session rekeys every 2 minutes while it does.
      expect(e.handshakeAgeS!).toBeLessThan(180);
    }
    // The ages are wireguard-go's: the graph's age of n1-coordinator is no older than n1's own handshake read before it.
    expect(edge('coordinator', 'n1')!.handshakeAgeS!).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000 - hubShake) + 2);
  }, 120_000);

  it('mpop metrics on the hub: every node up with a real round trip, and a handshake age for each pair, the relayed one labelled so', async () => {
    const r = await mesh.lab.exec(mesh.hub, process.execPath, [MPOP_BIN, 'metrics', '--once'], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    const value = (name: string, labels: Record<string, string>): number | undefined => {
      for (const line of r.stdout.split('\n')) {
        const m = /^([a-z_]+)\{([^}]*)\} (\S+)$/.exec(line);
        if (!m || m[1] !== name) continue;
        const got = Object.fromEntries([...m[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
        if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
      }
      return undefined;
    };
    for (const node of ['coordinator', 'n1', 'n2']) {
      expect(value('mpop_node_up', { node }), node).toBe(1);
      expect(value('mpop_vssh_rtt_seconds', { node }), node).toBeGreaterThan(0);
      expect(value('mpop_node_memory_total_bytes', { node }), node).toBeGreaterThan(0);
    }
    const ages = r.stdout.split('\n').filter((l) => l.startsWith('mpop_mesh_handshake_age_seconds{'));
    expect(ages, r.stdout).toHaveLength(3);
    const relayed = ages.find((l) => l.includes('path="relayed"'));
    expect(relayed, ages.join('\n')).toMatch(/node="n[12]",peer="n[12]"/);
    for (const l of ages) expect(Number(l.split(' ').at(-1))).toBeLessThan(180);
  }, 90_000);
});
