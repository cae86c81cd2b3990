import { Host, Lab, Result, SshServer, waitFor } from './lab.js';

/**
 * Named topologies, each a running mesh: the coordinator (`hub`) serving, every node joined and up.
 * Tests read topology -> act -> expect:  const mesh = await lan(3); ...; await mesh.lab.destroy();
 */

/** Mesh is a lab whose wire mesh is up. */
export interface Mesh {
  lab: Lab;
  hub: Host;
  nodes: Host[];
  /** meshIp of every host by name (the hub is 10.99.0.1) */
  ips: Map<string, string>;
}

/**
 * SYNC_S is the lab's sync interval: the default, 30 s. Changes still reach every node at once (a sync is
 * a long poll the coordinator answers when the peer list changes), and the tests check that they do.
 */
export const SYNC_S = 30;

/**
 * STALE_S is the lab's watchdog threshold: a peer silent this long is re-resolved, then relayed. It is
 * the lowest `wire up` takes (the 25 s keepalive).
 */
export const STALE_S = 25;

/** HubOptions: whether the coordinator relays (`wire serve --relay`, the lab's default). */
export interface HubOptions {
  relay?: boolean;
}

/** serveHub starts `wire serve` on the hub and waits until it is up. */
export async function serveHub(lab: Lab, hub: Host, opts: HubOptions = {}): Promise<void> {
  lab.startWire(hub, ['serve', '--endpoint', hub.ip, '--interface', hub.iface, '--sync-interval', String(SYNC_S), ...(opts.relay === false ? [] : ['--relay'])], 'serve');
  await waitFor('the coordinator to serve', async () => {
    const r = await lab.wire(hub, ['status', '--json']);
    return r.code === 0 && (JSON.parse(r.stdout) as { up: boolean }).up;
  }, 30_000, 500);
}

/** tokenFor makes a join token on the hub for `name`. */
export async function tokenFor(lab: Lab, hub: Host, name: string, ttl = '10m'): Promise<string> {
  const r = await lab.wire(hub, ['token', 'create', name, '--ttl', ttl, '--json']);
  if (r.code !== 0) throw new Error(`token create ${name} failed: ${r.stderr}${r.stdout}`);
  return (JSON.parse(r.stdout) as { token: string }).token;
}

/** joinNode runs `wire up --join` on a node and waits until it has joined (node.json and interface up). */
export async function joinNode(lab: Lab, hub: Host, node: Host): Promise<string> {
  const token = await tokenFor(lab, hub, node.name);
  lab.startWire(node, ['up', '--join', token, '--interface', node.iface, '--stale-after', String(STALE_S)], 'up');
  const status = await waitFor(`${node.name} to join`, async () => {
    const r = await lab.wire(node, ['status', '--json']);
    if (r.code !== 0) return undefined;
    const s = JSON.parse(r.stdout) as { up: boolean; meshIp: string };
    return s.up ? s : undefined;
  }, 30_000, 500).catch((err: Error) => {
    throw new Error(`${err.message}\n--- ${node.name} wire up log:\n${lab.log(node, 'up')}\n--- hub serve log:\n${lab.log(hub, 'serve')}`);
  });
  return status.meshIp;
}

/**
 * meshOf builds a topology with `make`, serves the coordinator on its hub and joins every node; the lab
 * is destroyed if any step fails.
 */
async function meshOf(make: (lab: Lab) => Promise<{ hub: Host; nodes: Host[] }>, opts: HubOptions = {}): Promise<Mesh> {
  const lab = new Lab();
  try {
    const { hub, nodes } = await make(lab);
    await serveHub(lab, hub, opts);
    const ips = new Map<string, string>([['hub', '10.99.0.1']]);
    for (const node of nodes) ips.set(node.name, await joinNode(lab, hub, node));
    return { lab, hub, nodes, ips };
  } catch (err) {
    await lab.destroy();
    throw err;
  }
}

/** lan makes `n` nodes and a hub on one LAN (192.168.77.0/24), all joined to one mesh. */
export function lan(n: number, opts: HubOptions = {}): Promise<Mesh> {
  return meshOf(async (lab) => {
    const sw = await lab.addSwitch('lan');
    const hub = await lab.addHost('hub', sw, '192.168.77.10');
    const nodes: Host[] = [];
    for (let i = 1; i <= n; i++) nodes.push(await lab.addHost(`n${i}`, sw, `192.168.77.${10 + i}`));
    return { hub, nodes };
  }, opts);
}

/**
 * hubAndNatted makes a hub on a WAN (203.0.113.0/24, inside the lab) and `n` nodes, each behind its own
 * NAT router (nftables masquerade) on a LAN of its own (10.10.i.0/24), all joined to one mesh.
 */
export function hubAndNatted(n: number): Promise<Mesh> {
  return meshOf(async (lab) => {
    const wan = await lab.addSwitch('wan');
    const hub = await lab.addHost('hub', wan, '203.0.113.10');
    const nodes: Host[] = [];
    for (let i = 1; i <= n; i++) {
      const lanSw = await lab.addSwitch(`lan${i}`);
      await lab.addRouter(`r${i}`, wan, `203.0.113.${20 + i}`, lanSw, `10.10.${i}.1`);
      nodes.push(await lab.addHost(`n${i}`, lanSw, `10.10.${i}.2`, `10.10.${i}.1`));
    }
    return { hub, nodes };
  });
}

/** blockedPair makes a LAN mesh of a hub and two nodes between which every UDP packet is dropped. */
export async function blockedPair(opts: HubOptions = {}): Promise<Mesh> {
  const mesh = await lan(2, opts);
  const [a, b] = mesh.nodes as [Host, Host];
  try {
    await mesh.lab.blockUdp(a, b.ip);
    await mesh.lab.blockUdp(b, a.ip);
  } catch (err) {
    await mesh.lab.destroy();
    throw err;
  }
  return mesh;
}

/**
 * tailnetPair makes a LAN mesh of a hub and two nodes whose UDP to each other's LAN address is dropped,
 * but which are both on a tailnet (100.64.0.1 and .2, see Lab.addTailscale) where they reach each other.
 * The hub does not relay unless told to.
 */
export function tailnetPair(opts: HubOptions = { relay: false }): Promise<Mesh> {
  return meshOf(async (lab) => {
    const sw = await lab.addSwitch('lan');
    const tailnet = await lab.addSwitch('ts');
    const hub = await lab.addHost('hub', sw, '192.168.77.10');
    const a = await lab.addHost('n1', sw, '192.168.77.11');
    const b = await lab.addHost('n2', sw, '192.168.77.12');
    await lab.addTailscale(a, tailnet, '100.64.0.1');
    await lab.addTailscale(b, tailnet, '100.64.0.2');
    await lab.blockUdp(a, b.ip);
    await lab.blockUdp(b, a.ip);
    return { hub, nodes: [a, b] };
  }, opts);
}

/**
 * tcpEcho checks that `from` reaches `toIp:port` over TCP: it sends a line to an echo server (which
 * must be running on the target) and returns what came back.
 */
export async function tcpEcho(lab: Lab, from: Host, toIp: string, port = 7000, timeoutMs = 5000): Promise<Result> {
  const script = `const s=require('net').connect({host:${JSON.stringify(toIp)},port:${port},timeout:${timeoutMs}},()=>s.end('ping from ${from.name}\\n'));` +
    `let d='';s.on('data',c=>d+=c);s.on('end',()=>{process.stdout.write(d);process.exit(0)});` +
    `s.on('timeout',()=>{console.error('timeout');process.exit(2)});s.on('error',e=>{console.error(e.code);process.exit(1)})`;
  return lab.exec(from, process.execPath, ['-e', script], { timeoutMs: timeoutMs + 5000 });
}

/** startEcho starts a TCP echo server on `host`, listening on its mesh address. */
export function startEcho(lab: Lab, host: Host, ip: string, port = 7000): void {
  lab.start(host, process.execPath, ['-e', `require('net').createServer(s=>s.pipe(s)).listen(${port},${JSON.stringify(ip)})`], `echo-${port}`);
}

/** FreshHost is a machine outside the mesh that only answers SSH, beside a served coordinator. */
export interface FreshHost {
  lab: Lab;
  hub: Host;
  host: Host;
  sshd: SshServer;
}

/**
 * hubAndFresh makes a coordinator (`hub`, serving) and a fresh host (`fresh`) on one LAN: not joined, no
 * daemons, only a real sshd on port 22 (see Lab.startSshd, and its ownSystemDirs), for `mpop enroll` to take
 * into the mesh.
 */
export async function hubAndFresh(opts: { ownSystemDirs?: boolean } = {}): Promise<FreshHost> {
  const lab = new Lab();
  try {
    const sw = await lab.addSwitch('lan');
    const hub = await lab.addHost('hub', sw, '192.168.77.10');
    const host = await lab.addHost('fresh', sw, '192.168.77.20');
    await serveHub(lab, hub);
    const sshd = await lab.startSshd(host, opts);
    return { lab, hub, host, sshd };
  } catch (err) {
    await lab.destroy();
    throw err;
  }
}
