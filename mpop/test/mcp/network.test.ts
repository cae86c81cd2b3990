import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { decodeToken, peersFor, Registry, type NodeInfo } from '@meshpop/wire';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The network toolset's wire tools against a real Wire registry (SQLite, written by the wire library) in a
 * throwaway MESHPOP_HOME: a coordinator that has served once, with nodes joined through real tokens. No
 * WireGuard interface is brought up (that needs root and namespaces: the lab in e2e/ does it), so the mesh
 * interface here is down, and wire_ping and wire_diagnose are checked for what they say about that.
 */
const MCP_BIN = fileURLToPath(new URL('../../bin/mcp.js', import.meta.url));
type R = { isError?: boolean; structuredContent?: any; content: { text: string }[] };
const WIRE_TOOLS = ['wire_status', 'wire_peers', 'wire_ping', 'wire_diagnose', 'wire_token_create', 'wire_remove_node', 'wire_config'];
const DESTRUCTIVE = ['wire_token_create', 'wire_remove_node'];
const key = (n: number): string => Buffer.alloc(32, n).toString('base64');
const COORD_KEY = key(200);
const FINGERPRINT = Array.from({ length: 32 }, () => 'AB').join(':');
const info = (remoteAddr: string | null): NodeInfo => ({ listenPort: 51820, lanAddrs: ['192.168.1.10'], tailscaleIp: null, behindNat: false, remoteAddr });

/** coordinatorHome makes a home whose registry is what `wire serve` leaves: its meta, and nodes alpha (online), beta (offline) and gamma. */
function coordinatorHome(iface: string): string {
  const home = mkdtempSync(join(tmpdir(), 'mpop-mcp-wire-'));
  mkdirSync(join(home, 'wire'), { recursive: true });
  const reg = new Registry(join(home, 'wire', 'registry.db'));
  try {
    for (const [k, v] of Object.entries({ url: 'https://192.0.2.1:8787', fingerprint: FINGERPRINT, probe_port: '8788', endpoint: '192.0.2.1:51820', public_key: COORD_KEY, iface })) reg.setMeta(k, v);
    const join_ = (name: string, k: number, remote: string | null, now = Date.now()) => reg.join(reg.createToken(name, 60_000, now), name, key(k), info(remote), now);
    join_('alpha', 1, '198.51.100.1');
    join_('beta', 2, null, Date.now() - 600_000); // not heard from for 10 minutes: offline
    join_('gamma', 3, '198.51.100.3');
  } finally {
    reg.close();
  }
  return home;
}

const spawnClient = async (name: string, home: string, args: string[]): Promise<Client> => {
  const c = new Client({ name, version: '1.0.0' });
  await c.connect(new StdioClientTransport({ command: process.execPath, args: [MCP_BIN, ...args], env: { ...(process.env as Record<string, string>), MESHPOP_HOME: home, NO_COLOR: '1' } }));
  await c.listTools(); // the client checks every structuredContent against the output schemas it listed
  return c;
};

describe('mpop-mcp wire tools against a real Wire registry (coordinator home, no root)', () => {
  const iface = `wt${randomBytes(4).toString('hex')}`; // an interface that does not exist here
  let home: string;
  let empty: string;
  let client: Client;
  let bare: Client;
  let none: Client;
  const registry = () => new Registry(join(home, 'wire', 'registry.db'));
  beforeAll(async () => {
    home = coordinatorHome(iface);
    empty = mkdtempSync(join(tmpdir(), 'mpop-mcp-nowire-'));
    [client, bare, none] = await Promise.all([
      spawnClient('wire-agent', home, ['--toolsets', 'network', ...DESTRUCTIVE.flatMap((t) => ['--allow', t])]),
      spawnClient('wire-bare', home, ['--toolsets', 'network']),
      spawnClient('wire-none', empty, ['--toolsets', 'network', '--allow-destructive']),
    ]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([client?.close(), bare?.close(), none?.close()]);
    for (const d of [home, empty]) if (d) rmSync(d, { recursive: true, force: true });
  });
  const call = async (name: string, args: Record<string, unknown> = {}, c = client) => (await c.callTool({ name, arguments: args })) as R;

  it('lists every wire tool with described inputs and honest annotations; read-only mode hides the two that change the mesh', async () => {
    const tools = (await client.listTools()).tools.filter((t) => WIRE_TOOLS.includes(t.name));
    expect(tools.map((t) => t.name).sort()).toEqual([...WIRE_TOOLS].sort());
    for (const t of tools) {
      for (const [field, schema] of Object.entries((t.inputSchema.properties ?? {}) as Record<string, { description?: string }>)) expect(schema.description, `${t.name}.${field}`).toBeTruthy();
      expect(t.outputSchema, t.name).toBeDefined();
      if (DESTRUCTIVE.includes(t.name)) expect(t.annotations, t.name).toMatchObject({ readOnlyHint: false, destructiveHint: true, idempotentHint: false });
      else expect(t.annotations, t.name).toMatchObject({ readOnlyHint: true, destructiveHint: false });
    }
    expect(tools.find((t) => t.name === 'wire_ping')!.annotations?.openWorldHint).toBe(true);
    expect(tools.find((t) => t.name === 'wire_status')!.annotations?.openWorldHint).toBe(false);
    const ro = await spawnClient('wire-ro', home, ['--toolsets', 'network', '--read-only', '--allow-destructive']);
    try {
      const names = (await ro.listTools()).tools.map((t) => t.name);
      expect(names).toEqual(expect.arrayContaining(['wire_status', 'wire_peers', 'wire_config']));
      for (const d of DESTRUCTIVE) expect(names).not.toContain(d);
    } finally {
      await ro.close();
    }
  }, 60_000);

  it('wire_status: the coordinator, its registry\'s nodes as peers, and its interface down (none exists here)', async () => {
    const r = await call('wire_status');
    expect(r.isError, r.content[0]?.text).toBeFalsy();
    const reg = registry();
    const nodes = reg.listNodes();
    reg.close();
    expect(r.structuredContent).toMatchObject({ mesh: true, status: { role: 'coordinator', name: 'coordinator', meshIp: '10.99.0.1', iface, up: false, listenPort: null, removed: null } });
    expect(r.structuredContent.status.peers).toEqual(nodes.map((n) => ({ name: n.name, meshIp: n.meshIp, publicKey: n.publicKey, endpoint: null, lastHandshake: null, rxBytes: 0, txBytes: 0, path: 'not configured' })));
    expect(r.content[0]!.text).toContain(`coordinator coordinator 10.99.0.1 ${iface} DOWN`);
  });

  it('wire_peers: the registry as it is (online, offline, endpoints, last seen)', async () => {
    const r = await call('wire_peers');
    expect(r.isError).toBeFalsy();
    const reg = registry();
    const nodes = reg.listNodes();
    reg.close();
    expect(r.structuredContent.source).toBe('registry');
    expect(r.structuredContent.peers).toEqual(nodes.map((n) => ({ name: n.name, meshIp: n.meshIp, status: n.status, endpoint: n.publicEndpoint, lastSeen: new Date(n.lastSeen!).toISOString(), tailscaleIp: null })));
    expect(Object.fromEntries(nodes.map((n) => [n.name, n.status]))).toMatchObject({ alpha: 'online', beta: 'offline' });
    expect(r.content[0]!.text).toMatch(/^alpha 10\.99\.0\.2 online 198\.51\.100\.1:51820/m);
  });

  it('wire_diagnose: the interface down (one finding for all peers) and the node the registry sees offline', async () => {
    const r = await call('wire_diagnose');
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent.healthy).toBe(false);
    const findings = r.structuredContent.findings as { subject: string; problem: string; advice: string }[];
    expect(findings.map((f) => f.subject)).toEqual([iface, 'beta']);
    expect(findings[0]!.problem).toContain('the interface is down');
    expect(findings[0]!.advice).toContain('wire serve');
    expect(findings[1]!.problem).toMatch(/^offline in the registry \(last seen \d{4}-/);
    for (const f of findings) expect(f.advice.length).toBeGreaterThan(10);
  });

  it('wire_ping: with the mesh interface down it says so plainly (the real ping belongs to the e2e lab)', async () => {
    for (const node of ['alpha', '10.99.0.3', 'no-such-node']) {
      const r = await call('wire_ping', { node, count: 1 });
      expect(r.isError, node).toBe(true);
      expect(r.structuredContent, node).toMatchObject({ available: false, node, sent: 0, received: 0, rttMs: null });
      expect(r.structuredContent.reason, node).toContain(`the mesh interface ${iface} is not up`);
    }
  });

  it('wire_config: a node\'s wg-quick config from the registry, with the coordinator and the other nodes as peers, and no private key', async () => {
    const r = await call('wire_config', { node: 'alpha' });
    expect(r.isError, r.content[0]?.text).toBeFalsy();
    const reg = registry();
    const [alpha, ...others] = reg.listNodes();
    reg.close();
    const config = r.structuredContent.config as string;
    expect(r.structuredContent.node).toBe('alpha');
    expect(config).toContain(`[Interface]\nAddress = ${alpha!.meshIp}/16\nListenPort = 51820\nPrivateKey = <on alpha: sv get wire/private-key>\n`);
    expect(config).toContain(`[Peer]\n# coordinator\nPublicKey = ${COORD_KEY}\nAllowedIPs = 10.99.0.1/32\nEndpoint = 192.0.2.1:51820\nPersistentKeepalive = 25\n`);
    for (const o of others) expect(config).toContain(`# ${o.name}\nPublicKey = ${o.publicKey}\nAllowedIPs = ${o.meshIp}/32\n`);
    expect(config).not.toContain(`PublicKey = ${alpha!.publicKey}`); // not its own peer
    expect(config.match(/^PrivateKey = /gm)).toHaveLength(1);
    expect(config).not.toMatch(/PrivateKey = [A-Za-z0-9+/]{43}=/);
    const missing = await call('wire_config', { node: 'nope' });
    expect(missing.isError).toBe(true);
    expect(missing.content[0]!.text).toContain('WIRE_NOT_FOUND');
    expect(missing.content[0]!.text).toContain('wire_peers');
  });

  it('wire_token_create: refused without a grant; with one, a real single-use token the registry honours, never in the audit', async () => {
    const tokens = () => {
      const reg = registry();
      try {
        return reg.listTokens();
      } finally {
        reg.close();
      }
    };
    const before = tokens().length;
    const refused = await call('wire_token_create', { name: 'delta' }, bare);
    expect(refused.isError).toBe(true);
    expect(refused.content[0]!.text).toMatch(/Refused.*--allow wire_token_create/);
    expect(tokens()).toHaveLength(before);
    const started = Date.now();
    const r = await call('wire_token_create', { name: 'delta', ttl: '2h' });
    expect(r.isError, r.content[0]?.text).toBeFalsy();
    const { token, command, expiresAt } = r.structuredContent as { token: string; command: string; expiresAt: string };
    expect(command).toBe(`wire up --join ${token}`);
    const t = decodeToken(token);
    expect(t).toMatchObject({ url: 'https://192.0.2.1:8787', fingerprint: FINGERPRINT, name: 'delta', probePort: 8788 });
    const made = tokens().find((x) => x.id === t.id)!;
    expect(made).toMatchObject({ name: 'delta', usedAt: null, revokedAt: null });
    expect(made.expires).toBe(Date.parse(expiresAt));
    expect(made.expires - started).toBeGreaterThan(2 * 3600_000 - 60_000);
    expect(made.expires - started).toBeLessThanOrEqual(2 * 3600_000 + 60_000);
    // The registry takes it, once.
    const reg = registry();
    try {
      expect(reg.join(t, 'delta', key(4), info('198.51.100.4')).node).toMatchObject({ name: 'delta', meshIp: '10.99.0.5' });
      expect(() => reg.join(t, 'delta', key(5), info(null))).toThrow(expect.objectContaining({ code: 'WIRE_TOKEN_USED' }));
    } finally {
      reg.close();
    }
    const audit = readFileSync(join(home, 'mpop', 'mcp-audit.jsonl'), 'utf8');
    expect(audit).toContain('"tool":"wire_token_create"');
    expect(audit).not.toContain(t.secret);
    expect(audit).not.toContain(token);
    // bad names and TTLs, a name already in the mesh: tool errors, nothing made
    const n = tokens().length;
    for (const args of [{ name: 'Bad_Name' }, { name: 'ok-name', ttl: '91d' }, { name: 'ok-name', ttl: 'soon' }, { name: 'alpha' }, { name: '' }, { name: 7 }]) {
      const bad = await call('wire_token_create', args);
      expect(bad.isError, JSON.stringify(args)).toBe(true);
    }
    expect((await call('wire_token_create', { name: 'alpha' })).content[0]!.text).toContain('WIRE_NAME_TAKEN');
    expect((await call('wire_token_create', { name: 'ok-name', ttl: '91d' })).content[0]!.text).toContain('90 days');
    expect(tokens()).toHaveLength(n);
  });

  it('wire_remove_node: refused without a grant; with one the registry revokes it, peers drop it, a second removal is a tool error', async () => {
    const refused = await call('wire_remove_node', { node: 'gamma' }, bare);
    expect(refused.isError).toBe(true);
    expect(refused.content[0]!.text).toMatch(/Refused.*--allow wire_remove_node/);
    let reg = registry();
    const gamma = reg.findNode('gamma')!;
    reg.close();
    expect(gamma).toBeDefined();
    const r = await call('wire_remove_node', { node: 'gamma' });
    expect(r.isError, r.content[0]?.text).toBeFalsy();
    expect(r.structuredContent).toEqual({ removed: 'gamma', meshIp: gamma.meshIp });
    reg = registry();
    try {
      expect(reg.findNode('gamma')).toBeUndefined();
      expect(reg.listNodes({ includeRemoved: true }).find((x) => x.name === 'gamma')?.status).toBe('removed');
    } finally {
      reg.close();
    }
    const peers = await call('wire_peers');
    expect(peers.structuredContent.peers.map((p: { name: string }) => p.name)).not.toContain('gamma');
    expect((await call('wire_config', { node: 'alpha' })).structuredContent.config).not.toContain('# gamma');
    const again = await call('wire_remove_node', { node: 'gamma' });
    expect(again.isError).toBe(true);
    expect(again.content[0]!.text).toContain('WIRE_NOT_FOUND');
  });

  it('a client that can ask its user is asked what each destructive wire tool will do, and its answer is obeyed', async () => {
    const asked: string[] = [];
    let answer: 'no' | 'yes' = 'no';
    const asker = new Client({ name: 'wire-asker', version: '1.0.0' }, { capabilities: { elicitation: {} } });
    asker.setRequestHandler(ElicitRequestSchema, async (req) => {
      asked.push(String(req.params.message));
      return { action: 'accept', content: { confirm: answer === 'yes' } };
    });
    await asker.connect(new StdioClientTransport({ command: process.execPath, args: [MCP_BIN, '--toolsets', 'network'], env: { ...(process.env as Record<string, string>), MESHPOP_HOME: home } }));
    try {
      const count = () => {
        const reg = registry();
        try {
          return reg.listTokens().filter((t) => t.name === 'epsilon').length;
        } finally {
          reg.close();
        }
      };
      const no = await call('wire_token_create', { name: 'epsilon', ttl: '15m' }, asker);
      expect(no.isError).toBe(true);
      expect(no.content[0]!.text).toContain('the user declined');
      expect(asked).toEqual(['Make a join token that lets a new machine into the mesh as epsilon (valid 15m)?']);
      expect(count()).toBe(0);
      answer = 'yes';
      const yes = await call('wire_token_create', { name: 'epsilon', ttl: '15m' }, asker);
      expect(yes.isError, yes.content[0]?.text).toBeFalsy();
      expect(decodeToken(yes.structuredContent.token).name).toBe('epsilon');
      expect(count()).toBe(1);
      answer = 'no';
      const keep = await call('wire_remove_node', { node: 'alpha' }, asker);
      expect(keep.isError).toBe(true);
      expect(asked.at(-1)).toBe('Remove alpha from the mesh (it loses its place and must join again with a new token)?');
      const reg = registry();
      expect(reg.findNode('alpha')).toBeDefined();
      reg.close();
      const audit = readFileSync(join(home, 'mpop', 'mcp-audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { client: string; tool: string; decision: string });
      expect(audit.filter((e) => e.client === 'wire-asker').map((e) => [e.tool, e.decision])).toEqual([['wire_token_create', 'refused'], ['wire_token_create', 'confirmed'], ['wire_remove_node', 'refused']]);
    } finally {
      await asker.close();
    }
  }, 60_000);

  it('without a mesh: every wire tool says so plainly, as an error result', async () => {
    const st = await call('wire_status', {}, none);
    expect(st.isError).toBe(true);
    expect(st.structuredContent).toEqual({ mesh: false, reason: expect.stringContaining('no WireGuard mesh on this machine') });
    expect(st.content[0]!.text).toContain('wire up --join TOKEN');
    const peers = await call('wire_peers', {}, none);
    expect(peers.isError).toBe(true);
    expect(peers.structuredContent).toMatchObject({ mesh: false, peers: [] });
    const diag = await call('wire_diagnose', {}, none);
    expect(diag.isError).toBe(true);
    expect(diag.structuredContent).toMatchObject({ mesh: false, healthy: false, findings: [] });
    const ping = await call('wire_ping', { node: 'alpha' }, none);
    expect(ping.isError).toBe(true);
    expect(ping.structuredContent).toMatchObject({ available: false, reason: expect.stringContaining('no WireGuard mesh') });
    for (const [name, args] of [['wire_token_create', { name: 'delta' }], ['wire_remove_node', { node: 'alpha' }], ['wire_config', { node: 'alpha' }]] as const) {
      const r = await call(name, args, none);
      expect(r.isError, name).toBe(true);
      expect(r.content[0]!.text, name).toContain('WIRE_NOT_COORDINATOR');
      expect(r.content[0]!.text, name).toContain('wire serve');
    }
  });

  it('on a node (node.json and its cached peer list): status from its side, peers from the cache, a removal diagnosed', async () => {
    const reg = registry();
    const alpha = reg.findNode('alpha')!;
    const peers = peersFor(alpha, reg.listNodes(), { publicKey: COORD_KEY, endpoint: '192.0.2.1:51820' });
    reg.close();
    const state = { id: alpha.id, name: 'alpha', meshIp: alpha.meshIp, coordinator: { url: 'https://192.0.2.1:8787', fingerprint: FINGERPRINT, host: '192.0.2.1', probePort: 8788 }, iface, listenPort: 51820, joined: new Date().toISOString() };
    mkdirSync(join(empty, 'wire'), { recursive: true });
    writeFileSync(join(empty, 'wire', 'peers.json'), JSON.stringify({ fetched: new Date().toISOString(), reply: { self: { id: alpha.id, name: 'alpha', meshIp: alpha.meshIp, tailscaleIp: null }, network: { cidr: '10.99.0.0/16', coordinatorIp: '10.99.0.1' }, coordinator: { publicKey: COORD_KEY, endpoint: '192.0.2.1:51820', relays: false }, peers, syncIntervalMs: 30_000, version: 1 } }));
    writeFileSync(join(empty, 'wire', 'node.json'), JSON.stringify(state));
    try {
      const st = await call('wire_status', {}, none);
      expect(st.isError, st.content[0]?.text).toBeFalsy();
      expect(st.structuredContent.status).toMatchObject({ role: 'node', name: 'alpha', meshIp: alpha.meshIp, iface, up: false, removed: null });
      expect(st.structuredContent.status.peers.map((p: { name: string }) => p.name)).toEqual(peers.map((p) => p.name));
      const p = await call('wire_peers', {}, none);
      expect(p.structuredContent.source).toBe('node cache');
      expect(p.structuredContent.peers.map((x: { name: string; status: string }) => [x.name, x.status])).toEqual(peers.map((x) => [x.name, x.online ? 'online' : 'offline']));
      const ping = await call('wire_ping', { node: 'beta' }, none);
      expect(ping.structuredContent.reason).toContain(`${iface} is not up`);
      writeFileSync(join(empty, 'wire', 'node.json'), JSON.stringify({ ...state, removed: '2026-01-02T03:04:05.000Z' }));
      const d = await call('wire_diagnose', {}, none);
      const subjects = d.structuredContent.findings.map((f: { subject: string }) => f.subject);
      expect(subjects).toEqual(['alpha', iface]);
      expect(d.structuredContent.findings[0].problem).toContain('removed from the mesh by the coordinator at 2026-01-02T03:04:05.000Z');
      expect((await call('wire_status', {}, none)).content[0]!.text).toContain('REMOVED by the coordinator');
    } finally {
      rmSync(join(empty, 'wire'), { recursive: true, force: true });
    }
  });

  it('bad arguments to every wire tool are tool errors, and the server goes on serving', async () => {
    const bad: [string, Record<string, unknown>][] = [
      ['wire_ping', { node: 'alpha', count: 0 }],
      ['wire_ping', { node: '' }],
      ['wire_ping', { count: 3 }],
      ['wire_token_create', { name: 'x'.repeat(64) }],
      ['wire_token_create', { name: 'delta', ttl: 5 }],
      ['wire_remove_node', { node: '' }],
      ['wire_remove_node', {}],
      ['wire_config', { node: ['alpha'] }],
      ['wire_config', {}],
    ];
    for (const [name, args] of bad) {
      const r = await call(name, args);
      expect(r.isError, `${name} ${JSON.stringify(args)}`).toBe(true);
    }
    // wire_status, wire_peers and wire_diagnose take no arguments: there is nothing to get wrong, and they still answer
    for (const name of ['wire_status', 'wire_peers', 'wire_diagnose']) expect((await call(name)).isError, name).toBeFalsy();
  });
});
