import { randomBytes } from 'node:crypto';
import type { AddressInfo, Server, Socket } from 'node:net';
import { z } from 'zod';
import { fanout } from '../../fanout/run.js';
import { MpopError } from '../../errors.js';
import { defineTool, LOCAL_READ, type ToolDef } from '../tool.js';
import { nodeField, onNode } from './files.js';
import { fleetTool } from './fleet-tool.js';

const hello = z.object({ name: z.string(), host: z.string(), version: z.string(), rttMs: z.number(), address: z.string().nullable(), tls: z.boolean(), clockSkewMs: z.number(), policy: z.array(z.string()) });

const vsshStatus = fleetTool({
  name: 'vssh_status',
  title: 'vssh daemons',
  description: 'Asks every node\'s vssh daemon who it is (name, host, version, policy rules in force) and times a round trip; shows the address used and whether it is TLS. A node whose daemon does not answer is unreachable with the reason.',
  toolset: 'network',
  defaultAll: true,
  value: hello,
  gather: (pool, nodes, _a, opts) =>
    fanout(pool, nodes, async ({ client }) => {
      const h = await client.hello();
      const rttMs = Math.round((await client.ping()) * 100) / 100;
      const a = client.address;
      return { name: h.name, host: h.host, version: h.version, rttMs, address: a ? `${a.host}:${a.port}` : null, tls: a?.tls === true, clockSkewMs: Math.round(h.time - Date.now()), policy: h.policy };
    }, opts),
  render: (v) => `vssh ${v.version} on ${v.host} via ${v.address ?? '?'}${v.tls ? ' (TLS)' : ''}, rtt ${v.rttMs} ms${v.policy.length ? `, policy: ${v.policy.join('; ')}` : ''}`,
});

const speedTest = defineTool({
  name: 'vssh_speed_test',
  title: 'Throughput to a node',
  description: 'Measures the round trip (median of 20 pings) and the vssh throughput both ways to one node by streaming N MiB each way (the daemon discards and generates the bytes: nothing is written to its disk). Bounded to 256 MiB.',
  toolset: 'network',
  input: { node: nodeField, mib: z.number().int().min(1).max(256).optional().describe('MiB to send each way (default 16)') },
  output: { node: z.string(), mib: z.number(), rttMs: z.number(), upMBps: z.number(), downMBps: z.number() },
  annotations: { readOnly: true, destructive: false, idempotent: true, openWorld: true },
  long: true,
  targets: (a) => a.node,
  async run(a, ctx) {
    const mib = a.mib ?? 16;
    return onNode(ctx, a.node, async ({ node, client }) => {
      ctx.progress({ done: 0, total: 2, message: `${node}: 20 pings, then ${mib} MiB up and ${mib} MiB down` });
      const r = await client.speed(mib * 1024 * 1024);
      const round = (n: number) => Math.round(n * 10) / 10;
      const data = { node, mib, rttMs: round(r.rttMs), upMBps: round(r.upMBps), downMBps: round(r.downMBps) };
      return { data, text: `${node}: rtt ${data.rttMs} ms, up ${data.upMBps} MB/s, down ${data.downMBps} MB/s (${mib} MiB each way)` };
    });
  },
});

/** OpenTunnel is a tunnel this server keeps open until vssh_tunnel_close (or the server's end). */
interface OpenTunnel {
  id: string;
  node: string;
  local: string;
  remote: string;
  opened: string;
  errors: number;
  lastError?: string;
  server: Server;
  /** the connections it carries now (a net.Server's close leaves them open: close destroys them) */
  conns: Set<Socket>;
}

/** TUNNELS are the open tunnels, by id; they close when the server process ends. */
const TUNNELS = new Map<string, OpenTunnel>();
const tunnelRow = z.object({ id: z.string(), node: z.string(), local: z.string(), remote: z.string(), opened: z.string(), errors: z.number(), lastError: z.string().optional() });
const row = (t: OpenTunnel): z.infer<typeof tunnelRow> => ({ id: t.id, node: t.node, local: t.local, remote: t.remote, opened: t.opened, errors: t.errors, ...(t.lastError ? { lastError: t.lastError } : {}) });
const rows = (): string => [...TUNNELS.values()].map((t) => `${t.id}: ${t.local} -> ${t.node} ${t.remote}${t.errors ? ` (${t.errors} failed connections: ${t.lastError})` : ''}`).join('\n');

const tunnelOpen = defineTool({
  name: 'vssh_tunnel_open',
  title: 'Open a tunnel to a node',
  description: 'Listens on a loopback port of this machine (127.0.0.1) and carries each connection to host:port as seen from the node, over vssh (the node\'s policy must allow it: it is asked first). Returns the tunnel\'s id and local address, and lists every open tunnel. It stays open until vssh_tunnel_close or the server ends.',
  toolset: 'network',
  input: {
    node: nodeField,
    port: z.number().int().min(1).max(65535).describe('the port to reach, as seen from the node'),
    host: z.string().min(1).optional().describe('the host to reach from the node (default 127.0.0.1: a service on the node itself)'),
    localPort: z.number().int().min(0).max(65535).optional().describe('the local port to listen on (default 0: any free port)'),
  },
  output: { tunnel: tunnelRow, open: z.array(tunnelRow) },
  annotations: { readOnly: false, destructive: false, idempotent: false, openWorld: true },
  targets: (a) => a.node,
  async run(a, ctx) {
    const host = a.host ?? '127.0.0.1';
    return onNode(ctx, a.node, async ({ node, client }) => {
      const t: Partial<OpenTunnel> = { id: `t${randomBytes(4).toString('hex')}`, node, remote: `${host}:${a.port}`, opened: new Date().toISOString(), errors: 0, conns: new Set() };
      let server: Server;
      try {
        server = await client.tunnel(a.localPort ?? 0, host, a.port, '127.0.0.1', {
          onError: (err) => {
            t.errors = (t.errors ?? 0) + 1;
            t.lastError = err.message.slice(0, 200);
          },
        });
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        if (e.syscall !== 'listen') throw err;
        throw new MpopError('MPOP_USAGE', `cannot listen on 127.0.0.1:${a.localPort} on this machine (${e.code === 'EADDRINUSE' ? 'the port is in use' : e.code}); leave localPort out to take any free port`);
      }
      server.on('connection', (sock: Socket) => {
        t.conns!.add(sock);
        sock.once('close', () => t.conns!.delete(sock));
      });
      const addr = server.address() as AddressInfo;
      Object.assign(t, { server, local: `127.0.0.1:${addr.port}` });
      TUNNELS.set(t.id!, t as OpenTunnel);
      server.unref();
      return { data: { tunnel: row(t as OpenTunnel), open: [...TUNNELS.values()].map(row) }, text: `tunnel ${t.id} open: 127.0.0.1:${addr.port} -> ${node} ${host}:${a.port}\nopen tunnels:\n${rows()}` };
    });
  },
});

const tunnelClose = defineTool({
  name: 'vssh_tunnel_close',
  title: 'Close a tunnel',
  description: 'Closes a tunnel opened with vssh_tunnel_open, by id: it stops listening and drops its connections. The result lists the tunnels still open (also when the id matched none).',
  toolset: 'network',
  input: { id: z.string().min(1).describe('the tunnel id vssh_tunnel_open returned') },
  output: { closed: tunnelRow.nullable(), open: z.array(tunnelRow) },
  annotations: { readOnly: false, destructive: false, idempotent: false, openWorld: false },
  async run(a) {
    const t = TUNNELS.get(a.id);
    if (!t) {
      const text = `no open tunnel ${a.id}${TUNNELS.size ? `; open:\n${rows()}` : ' (none is open)'}`;
      return { data: { closed: null, open: [...TUNNELS.values()].map(row) }, text, isError: true };
    }
    TUNNELS.delete(a.id);
    t.server.close();
    for (const sock of t.conns) sock.destroy();
    return { data: { closed: row(t), open: [...TUNNELS.values()].map(row) }, text: `closed tunnel ${t.id} (${t.local} -> ${t.node} ${t.remote})${TUNNELS.size ? `\nstill open:\n${rows()}` : '\nno tunnel is open'}` };
  },
});

const keys = defineTool({
  name: 'vssh_keys',
  title: 'vssh keys held here',
  description: 'Which vssh key sources this controller holds in its vault (names only, never key material): a master it derives node keys from (vssh/master or the Wire coordinator\'s wire/mesh-master), a node key of its own, and the nodes it knows.',
  toolset: 'network',
  input: {},
  output: { master: z.string().nullable(), nodeKey: z.string().nullable(), nodes: z.array(z.object({ name: z.string(), id: z.string() })) },
  annotations: LOCAL_READ,
  async run(_a, ctx) {
    const [{ openVault }, vssh] = await Promise.all([import('@meshpop/vault'), import('@meshpop/vssh')]);
    const vault = await openVault({ home: ctx.home });
    let master: string | null = null;
    let nodeKey: string | null = null;
    try {
      for (const n of [vssh.KEY_NAMES.master, vssh.KEY_NAMES.wireMaster]) if (!master && (await vault.has(n))) master = n;
      for (const n of [vssh.KEY_NAMES.nodeKey, vssh.KEY_NAMES.wireSecret]) if (!nodeKey && (await vault.has(n))) nodeKey = n;
    } finally {
      await vault.close();
    }
    const nodes = (await vssh.listNodes(ctx.home)).map((n) => ({ name: n.name, id: n.id }));
    return {
      data: { master, nodeKey, nodes },
      text: `controller master: ${master ?? 'none (run `vssh keys init` to control nodes from here)'}\nnode key: ${nodeKey ?? (master ? `derived from ${master}` : 'none')}\nnodes known: ${nodes.map((n) => n.name).join(', ') || 'none'}`,
    };
  },
});

/** transportTools are vssh itself: daemons, throughput, tunnels and keys. */
export const transportTools: ToolDef[] = [vsshStatus, ...([speedTest, tunnelOpen, tunnelClose, keys] as unknown as ToolDef[])];
