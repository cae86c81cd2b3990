import { existsSync } from 'node:fs';
import { execa } from 'execa';
import { z } from 'zod';
import { defineTool, LOCAL_READ, type ToolDef } from '../tool.js';

/** The wire library is loaded on first use: a server that never touches the mesh does not pay for SQLite. */
const wire = () => import('@meshpop/wire');

/** NO_MESH is what the network tools say on a machine that is neither in a mesh nor its coordinator. */
const noMesh = (why: string): string => `no WireGuard mesh on this machine: ${why}. Join one with \`wire up --join TOKEN\`, or run mpop-mcp on the coordinator (where \`wire serve\` runs).`;

/** openRegistry opens the coordinator's registry on this machine, or throws WIRE_NOT_COORDINATOR saying where to run instead. */
async function openRegistry(home: string) {
  const w = await wire();
  const file = w.wirePaths(home).registry;
  if (!existsSync(file)) throw new w.WireError('WIRE_NOT_COORDINATOR', `this machine is not the mesh coordinator (no registry at ${file}): run mpop-mcp where \`wire serve\` runs, with the same MESHPOP_HOME`);
  return new w.Registry(file);
}

/** meshOrAbsent returns the mesh status, or the plain reason there is none. */
async function meshOrAbsent(home: string) {
  const w = await wire();
  try {
    return await w.meshStatus(home);
  } catch (err) {
    if (w.isWireError(err, 'WIRE_NOT_JOINED')) return { absent: noMesh('it has not joined one and is not a coordinator') };
    throw err;
  }
}

const peer = z.object({ name: z.string(), meshIp: z.string(), publicKey: z.string(), endpoint: z.string().nullable(), lastHandshake: z.string().nullable(), rxBytes: z.number(), txBytes: z.number(), path: z.string() });
const status = z.object({ role: z.enum(['node', 'coordinator']), name: z.string(), meshIp: z.string(), iface: z.string(), up: z.boolean(), listenPort: z.number().nullable(), peers: z.array(peer), removed: z.string().nullable() });
const iso = (ms: number | null): string | null => (ms ? new Date(ms).toISOString() : null);

const wireStatus = defineTool({
  name: 'wire_status',
  title: 'Mesh status',
  description: 'This machine\'s place in the WireGuard mesh: role (node or coordinator), mesh address, whether the interface is up, and each peer with its endpoint, last handshake, bytes and path (direct, relayed, not configured). Says plainly when there is no mesh here.',
  toolset: 'network',
  input: {},
  output: { mesh: z.boolean(), status: status.optional(), reason: z.string().optional() },
  annotations: LOCAL_READ,
  async run(_a, ctx) {
    const s = await meshOrAbsent(ctx.home);
    if ('absent' in s) return { data: { mesh: false, reason: s.absent }, text: s.absent, isError: true };
    const out = { ...s, peers: s.peers.map((p) => ({ ...p, lastHandshake: iso(p.lastHandshake) })) };
    const head = `${s.role} ${s.name} ${s.meshIp} ${s.iface} ${s.up ? `up, port ${s.listenPort}` : 'DOWN'}${s.removed ? ` REMOVED by the coordinator at ${s.removed}` : ''}`;
    return { data: { mesh: true, status: out }, text: [head, ...out.peers.map((p) => `${p.name} ${p.meshIp} ${p.endpoint ?? '-'} handshake ${p.lastHandshake ?? 'never'} ${p.path}`)].join('\n') };
  },
});

const peerRow = z.object({ name: z.string(), meshIp: z.string(), status: z.string(), endpoint: z.string().nullable(), lastSeen: z.string().nullable(), tailscaleIp: z.string().nullable() });

const wirePeers = defineTool({
  name: 'wire_peers',
  title: 'Mesh nodes',
  description: 'The nodes of the mesh: the registry on the coordinator (name, mesh IP, online/offline, endpoint, last seen), or the last peer list a node received.',
  toolset: 'network',
  input: {},
  output: { mesh: z.boolean(), source: z.enum(['registry', 'node cache']).optional(), peers: z.array(peerRow), reason: z.string().optional() },
  annotations: LOCAL_READ,
  async run(_a, ctx) {
    const w = await wire();
    const paths = w.wirePaths(ctx.home);
    let rows: z.infer<typeof peerRow>[];
    let source: 'registry' | 'node cache';
    if (existsSync(paths.registry)) {
      const reg = new w.Registry(paths.registry);
      try {
        rows = reg.listNodes().map((n) => ({ name: n.name, meshIp: n.meshIp, status: n.status, endpoint: n.publicEndpoint, lastSeen: iso(n.lastSeen), tailscaleIp: n.tailscaleIp }));
      } finally {
        reg.close();
      }
      source = 'registry';
    } else {
      const cached = existsSync(paths.peers) ? w.readCachedPeers(paths.peers) : undefined;
      if (!cached) {
        const reason = noMesh('no registry and no peer list here');
        return { data: { mesh: false, peers: [], reason }, text: reason, isError: true };
      }
      rows = cached.reply.peers.map((p) => ({ name: p.name, meshIp: p.meshIp, status: p.online ? 'online' : 'offline', endpoint: p.endpoint, lastSeen: null, tailscaleIp: p.tailscaleIp }));
      source = 'node cache';
    }
    return { data: { mesh: true, source, peers: rows }, text: rows.length ? rows.map((r) => `${r.name} ${r.meshIp} ${r.status} ${r.endpoint ?? '-'}${r.lastSeen ? ` seen ${r.lastSeen}` : ''}`).join('\n') : 'the mesh has no nodes yet' };
  },
});

/** meshIpOf finds a node's mesh address in the registry or the node's peer list. */
async function meshIpOf(home: string, node: string): Promise<string | undefined> {
  if (/^10\.99\.\d+\.\d+$/.test(node)) return node;
  const w = await wire();
  const paths = w.wirePaths(home);
  if (existsSync(paths.registry)) {
    const reg = new w.Registry(paths.registry);
    try {
      return reg.findNode(node)?.meshIp;
    } finally {
      reg.close();
    }
  }
  return (existsSync(paths.peers) ? w.readCachedPeers(paths.peers) : undefined)?.reply.peers.find((p) => p.name === node)?.meshIp;
}

const wirePing = defineTool({
  name: 'wire_ping',
  title: 'Ping over the mesh',
  description: 'ICMP ping from this machine to a node\'s mesh address (by name or 10.99.x.y): replies and round trip. Needs the mesh interface up here; without a mesh it says so.',
  toolset: 'network',
  input: { node: z.string().min(1).describe('a mesh node name, or its mesh IP (10.99.x.y)'), count: z.number().int().min(1).max(100).optional().describe('how many pings (default 3)') },
  output: { available: z.boolean(), node: z.string(), meshIp: z.string().nullable(), sent: z.number(), received: z.number(), rttMs: z.object({ min: z.number(), avg: z.number(), max: z.number() }).nullable(), reason: z.string().optional() },
  annotations: { readOnly: true, destructive: false, idempotent: true, openWorld: true },
  long: true,
  targets: (a) => a.node,
  async run(a, ctx) {
    const count = a.count ?? 3;
    const s = await meshOrAbsent(ctx.home);
    const unavailable = (reason: string, meshIp: string | null = null) => ({ data: { available: false, node: a.node, meshIp, sent: 0, received: 0, rttMs: null, reason }, text: reason, isError: true });
    if ('absent' in s) return unavailable(s.absent);
    if (!s.up) return unavailable(`the mesh interface ${s.iface} is not up on this machine: nothing to ping over (start it with \`wire up\`)`);
    const ip = await meshIpOf(ctx.home, a.node);
    if (!ip) throw new (await wire()).WireError('WIRE_NOT_FOUND', `no mesh node named ${a.node}; wire_peers lists them`);
    ctx.progress({ done: 0, total: count, message: `pinging ${a.node} (${ip}) ${count} times` });
    const r = await execa('ping', ['-n', '-c', String(count), '-W', '2', ip], { reject: false, env: { LC_ALL: 'C' }, cancelSignal: ctx.signal });
    if ((r as { code?: string }).code === 'ENOENT') return unavailable('ping is not installed on this machine (apt install iputils-ping)', ip);
    const counts = /(\d+) packets transmitted, (\d+) received/.exec(r.stdout);
    const rtt = /= ([\d.]+)\/([\d.]+)\/([\d.]+)/.exec(r.stdout);
    const data = { available: true, node: a.node, meshIp: ip, sent: Number(counts?.[1] ?? count), received: Number(counts?.[2] ?? 0), rttMs: rtt ? { min: Number(rtt[1]), avg: Number(rtt[2]), max: Number(rtt[3]) } : null };
    if (data.received) return { data, text: `${a.node} (${ip}): ${data.received}/${data.sent} replies, rtt avg ${data.rttMs?.avg} ms` };
    const next =
      `${a.node} may be down, or its \`wire up\` not running: wire_peers shows whether this side has a handshake with it and when the registry last saw it; ` +
      `wire_diagnose (run here) names a peer that never handshook or went stale; mpop_heal_check with target ${a.node} (checks mesh and vssh) asks the node itself if vssh still reaches it another way.`;
    return { data: { ...data, reason: next }, text: `${a.node} (${ip}): no reply to ${data.sent} pings. ${next}`, isError: true };
  },
});

/** STALE_HANDSHAKE_MS: WireGuard re-handshakes every 2 minutes on a live path; past 3 the path is suspect. */
const STALE_HANDSHAKE_MS = 180_000;

const wireDiagnose = defineTool({
  name: 'wire_diagnose',
  title: 'Diagnose the mesh',
  description: 'Looks for what is wrong with the mesh from here: the interface down, this node removed, peers never handshaken or stale (over 3 min), peers not configured or without a path, nodes the registry sees offline. Each finding says what to do.',
  toolset: 'network',
  input: {},
  output: { mesh: z.boolean(), healthy: z.boolean(), findings: z.array(z.object({ subject: z.string(), problem: z.string(), advice: z.string() })), reason: z.string().optional() },
  annotations: LOCAL_READ,
  async run(_a, ctx) {
    const s = await meshOrAbsent(ctx.home);
    if ('absent' in s) return { data: { mesh: false, healthy: false, findings: [], reason: s.absent }, text: s.absent, isError: true };
    const findings: { subject: string; problem: string; advice: string }[] = [];
    if (s.removed) findings.push({ subject: s.name, problem: `removed from the mesh by the coordinator at ${s.removed}`, advice: 'join again with a new token (wire token create on the coordinator)' });
    // With the interface down no peer is configured: that one finding stands for them all.
    if (!s.up) findings.push({ subject: s.iface, problem: `the interface is down: none of the ${s.peers.length} peers can be reached from here`, advice: s.role === 'coordinator' ? 'start `wire serve`' : 'start `wire up` (or its service)' });
    const now = Date.now();
    for (const p of s.up ? s.peers : []) {
      if (p.path === 'not configured') findings.push({ subject: p.name, problem: 'not on the interface', advice: 'the node has not synced its peers yet: check that `wire up` runs and can reach the coordinator' });
      else if (p.path.startsWith('no path')) findings.push({ subject: p.name, problem: p.path, advice: 'the peer is only reachable through the coordinator, which does not relay: open its UDP port or enable relaying' });
      else if (p.lastHandshake === null) findings.push({ subject: p.name, problem: 'no handshake yet', advice: `check that ${p.endpoint ?? 'its endpoint'} is reachable over UDP and that the node runs wire` });
      else if (now - p.lastHandshake > STALE_HANDSHAKE_MS) findings.push({ subject: p.name, problem: `last handshake ${Math.round((now - p.lastHandshake) / 1000)} s ago`, advice: 'the node may be down or its endpoint changed: mpop_status / wire_peers' });
    }
    if (s.role === 'coordinator') {
      const reg = await openRegistry(ctx.home);
      try {
        for (const n of reg.listNodes()) if (n.status === 'offline') findings.push({ subject: n.name, problem: `offline in the registry (last seen ${iso(n.lastSeen) ?? 'never'})`, advice: 'the node has stopped syncing: is `wire up` running there?' });
      } finally {
        reg.close();
      }
    }
    const healthy = findings.length === 0;
    return { data: { mesh: true, healthy, findings }, text: healthy ? `the mesh looks healthy from ${s.name} (${s.peers.length} peers)` : findings.map((f) => `${f.subject}: ${f.problem} -> ${f.advice}`).join('\n') };
  },
});

const tokenCreate = defineTool({
  name: 'wire_token_create',
  title: 'Make a mesh join token',
  description: 'On the coordinator: a single-use join token for a new node named `name`, valid for ttl (default 1h). The result IS A CREDENTIAL: whoever holds it can join the mesh as that node until it is used or expires; hand it only to the new node (`wire up --join TOKEN`). Since it opens the mesh to a new machine it asks for confirmation like a destructive tool. The audit log never records it.',
  toolset: 'network',
  input: { name: z.string().min(1).max(63).describe('the name the new node will have in the mesh'), ttl: z.string().optional().describe('how long the token is valid: 15m, 1h, 7d (at most 90d; default 1h)') },
  output: { name: z.string(), token: z.string(), command: z.string(), expiresAt: z.string() },
  // Nothing is deleted, but a join credential lets a new machine into the mesh: it is confirmed as destructive tools are.
  annotations: { readOnly: false, destructive: true, idempotent: false, openWorld: false },
  targets: (a) => a.name,
  confirm: (a) => `Make a join token that lets a new machine into the mesh as ${a.name} (valid ${a.ttl ?? '1h'})?`,
  async run(a, ctx) {
    const w = await wire();
    w.checkNodeName(a.name);
    const ttlMs = w.parseTtl(a.ttl ?? '1h');
    const reg = await openRegistry(ctx.home);
    try {
      const url = reg.getMeta('url');
      const fingerprint = reg.getMeta('fingerprint');
      if (!url || !fingerprint) throw new w.WireError('WIRE_NOT_COORDINATOR', 'the coordinator has not served yet: start `wire serve --endpoint ADDR` once first');
      const t = reg.createToken(a.name, ttlMs);
      const token = w.encodeToken({ url, fingerprint, name: a.name, id: t.id, secret: t.secret, probePort: Number(reg.getMeta('probe_port')) });
      const expiresAt = new Date(t.expires).toISOString();
      return { data: { name: a.name, token, command: `wire up --join ${token}`, expiresAt }, text: `join token for ${a.name} (a credential, single use, expires ${expiresAt}); on the new node run:\nwire up --join ${token}` };
    } finally {
      reg.close();
    }
  },
});

const removeNode = defineTool({
  name: 'wire_remove_node',
  title: 'Remove a node from the mesh',
  description: 'On the coordinator: revokes a node. Its credential stops working, every other node drops it within one sync, and its mesh address is never given out again. It must join again with a new token. Destructive.',
  toolset: 'network',
  input: { node: z.string().min(1).describe('the mesh node name or id to remove') },
  output: { removed: z.string(), meshIp: z.string() },
  annotations: { readOnly: false, destructive: true, idempotent: false, openWorld: true },
  targets: (a) => a.node,
  confirm: (a) => `Remove ${a.node} from the mesh (it loses its place and must join again with a new token)?`,
  async run(a, ctx) {
    const reg = await openRegistry(ctx.home);
    try {
      const n = reg.removeNode(a.node);
      return { data: { removed: n.name, meshIp: n.meshIp }, text: `removed ${n.name} (${n.meshIp}) from the mesh` };
    } finally {
      reg.close();
    }
  },
});

const wireConfig = defineTool({
  name: 'wire_config',
  title: 'A node\'s WireGuard config',
  description: 'On the coordinator: a node\'s WireGuard configuration as the coordinator sees it (wg-quick format). The private key is never included: it never leaves the node.',
  toolset: 'network',
  input: { node: z.string().min(1).describe('the mesh node name or id') },
  output: { node: z.string(), config: z.string() },
  annotations: LOCAL_READ,
  targets: (a) => a.node,
  async run(a, ctx) {
    const w = await wire();
    const reg = await openRegistry(ctx.home);
    try {
      const node = reg.findNode(a.node);
      if (!node) throw new w.WireError('WIRE_NOT_FOUND', `no node named ${a.node} in the mesh; wire_peers lists them`);
      const publicKey = reg.getMeta('public_key');
      const endpoint = reg.getMeta('endpoint');
      if (!publicKey || !endpoint) throw new w.WireError('WIRE_NOT_COORDINATOR', 'the coordinator has not served yet: start `wire serve` once first');
      const lines = [`# ${node.name} (${node.meshIp}); its private key never leaves ${node.name}.`, '[Interface]', `Address = ${node.meshIp}/16`, `ListenPort = ${node.listenPort}`, `PrivateKey = <on ${node.name}: sv get wire/private-key>`];
      for (const p of w.peersFor(node, reg.listNodes(), { publicKey, endpoint })) {
        lines.push('', '[Peer]', `# ${p.name}`, `PublicKey = ${p.publicKey}`, `AllowedIPs = ${p.meshIp}/32`);
        if (p.endpoint) lines.push(`Endpoint = ${p.endpoint}`);
        if (p.keepalive) lines.push(`PersistentKeepalive = ${p.keepalive}`);
      }
      const config = lines.join('\n') + '\n';
      return { data: { node: node.name, config }, text: config.trimEnd() };
    } finally {
      reg.close();
    }
  },
});

/** networkTools are the `network` toolset: the WireGuard mesh through the wire library. */
export const networkTools: ToolDef[] = [wireStatus, wirePeers, wirePing, wireDiagnose, tokenCreate, removeNode, wireConfig] as unknown as ToolDef[];
