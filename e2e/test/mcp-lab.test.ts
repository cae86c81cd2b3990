import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Host, Lab, Mesh, lan, waitFor } from '../src/index.js';
import { FreshHost, hubAndFresh } from '../src/topologies.js';

const isRoot = process.getuid?.() === 0;
const MCP_BIN = fileURLToPath(new URL('../../mpop/bin/mcp.js', import.meta.url));
type R = { isError?: boolean; structuredContent?: any; content: { type: string; text?: string }[] };

/** McpHost is a real MCP client whose mpop-mcp runs inside a lab host (its network and mount namespaces, its home). */
interface McpHost {
  client: Client;
  /** what the server wrote on stderr (its logs), for failure messages */
  stderr: () => string;
  call: (name: string, args?: Record<string, unknown>, onprogress?: (p: { progress: number; total?: number; message?: string }) => void) => Promise<R>;
}

/** connect starts `mpop-mcp ARGS` in `host` over stdio (the transport spawns `ip netns exec`, see Lab.command). */
async function connect(lab: Lab, host: Host, args: string[], name: string): Promise<McpHost> {
  const cmd = lab.command(host, process.execPath, [MCP_BIN, ...args]);
  const transport = new StdioClientTransport({ ...cmd, env: { ...cmd.env, NO_COLOR: '1' }, stderr: 'pipe' });
  let err = '';
  transport.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  const client = new Client({ name, version: '1.0.0' });
  await client.connect(transport);
  await client.listTools(); // the client checks every structuredContent against the output schemas it listed
  return {
    client,
    stderr: () => err,
    call: async (tool, a = {}, onprogress) => (await client.callTool({ name: tool, arguments: a }, undefined, { timeout: 300_000, ...(onprogress ? { onprogress } : {}) })) as R,
  };
}

const textOf = (r: R): string => r.content.map((c) => c.text ?? '').join('\n');

/** pidsOf lists the processes in a host's network namespace whose command line contains `needle`. */
async function pidsOf(lab: Lab, host: Host, needle: string): Promise<number[]> {
  const r = await lab.exec(host, 'ip', ['netns', 'pids', host.ns]);
  return r.stdout.split('\n').filter(Boolean).map(Number).filter((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').join(' ').includes(needle);
    } catch {
      return false;
    }
  });
}

/**
 * mpop-mcp's network toolset on a real WireGuard mesh: the server runs on the coordinator (and on nodes) inside
 * the lab, and its answers are checked against the mesh itself: real pings, a node whose WireGuard is stopped.
 */
describe.skipIf(!isRoot)('mpop-mcp network tools over the lab mesh', () => {
  let mesh: Mesh;
  let hub: McpHost;
  const servers: McpHost[] = [];
  const node = (name: string): Host => mesh.lab.host(name);
  beforeAll(async () => {
    mesh = await lan(2);
    hub = await connect(mesh.lab, mesh.hub, ['--toolsets', 'all'], 'lab-hub');
    servers.push(hub);
  }, 180_000);
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.client.close()));
    await mesh?.lab.destroy();
  });

  it('wire_peers: the registry\'s nodes, online, at their mesh addresses', async () => {
    const r = await hub.call('wire_peers');
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(r.structuredContent).toMatchObject({ mesh: true, source: 'registry' });
    const peers = r.structuredContent.peers as { name: string; meshIp: string; status: string; endpoint: string | null; lastSeen: string | null }[];
    expect(peers.map((p) => p.name).sort()).toEqual(['n1', 'n2']);
    for (const p of peers) {
      expect(p, p.name).toMatchObject({ meshIp: mesh.ips.get(p.name), status: 'online' });
      expect(p.endpoint, p.name).toMatch(new RegExp(`^${node(p.name).ip.replace(/\./g, '\\.')}:\\d+$`));
      expect(Date.now() - Date.parse(p.lastSeen!), p.name).toBeLessThan(120_000);
    }
  });

  it('wire_ping from the hub reaches each node over the mesh, with real round trips', async () => {
    for (const n of mesh.nodes) {
      for (const target of [n.name, mesh.ips.get(n.name)!]) {
        const progress: string[] = [];
        const r = await hub.call('wire_ping', { node: target, count: 3 }, (p) => progress.push(p.message ?? ''));
        expect(r.isError, textOf(r)).toBeFalsy();
        expect(r.structuredContent).toMatchObject({ available: true, node: target, meshIp: mesh.ips.get(n.name), sent: 3, received: 3 });
        const { min, avg, max } = r.structuredContent.rttMs as { min: number; avg: number; max: number };
        expect(min).toBeGreaterThan(0);
        expect(min).toBeLessThanOrEqual(avg);
        expect(avg).toBeLessThanOrEqual(max);
        expect(max).toBeLessThan(1000);
        expect(textOf(r)).toContain(`${target} (${mesh.ips.get(n.name)}): 3/3 replies`);
        expect(progress.join('\n')).toContain(`pinging ${target} (${mesh.ips.get(n.name)}) 3 times`);
      }
    }
    const unknown = await hub.call('wire_ping', { node: 'no-such-node' });
    expect(unknown.isError).toBe(true);
    expect(textOf(unknown)).toContain('no mesh node named no-such-node');
    expect(textOf(unknown)).toContain('wire_peers');
  }, 60_000);

  it('wire_status on the hub: coordinator, interface up, each node a peer that has handshaken and moved bytes', async () => {
    const r = await hub.call('wire_status');
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(r.structuredContent).toMatchObject({ mesh: true, status: { role: 'coordinator', name: 'coordinator', meshIp: '10.99.0.1', iface: mesh.hub.iface, up: true, removed: null } });
    expect(r.structuredContent.status.listenPort).toBeGreaterThan(0);
    const peers = r.structuredContent.status.peers as { name: string; meshIp: string; endpoint: string | null; lastHandshake: string | null; rxBytes: number; txBytes: number; path: string }[];
    expect(peers.map((p) => p.name).sort()).toEqual(['n1', 'n2']);
    for (const p of peers) {
      expect(p.meshIp, p.name).toBe(mesh.ips.get(p.name));
      expect(p.endpoint, p.name).toContain(node(p.name).ip);
      expect(Date.now() - Date.parse(p.lastHandshake!), p.name).toBeLessThan(60_000); // the pings above
      expect(p.rxBytes, p.name).toBeGreaterThan(0);
      expect(p.txBytes, p.name).toBeGreaterThan(0);
      expect(p.path, p.name).toBe('direct');
    }
    expect(textOf(r)).toMatch(new RegExp(`^coordinator coordinator 10\\.99\\.0\\.1 ${mesh.hub.iface} up, port \\d+`));
  });

  it('mpop_dashboard on the hub: every node read over the mesh with live values; a node whose daemon stops is offline, last seen kept', async () => {
    const hosts = [mesh.hub, ...mesh.nodes];
    for (const h of hosts) mesh.lab.startVssh(h);
    try {
      for (const h of hosts) await waitFor(`vssh serve on ${h.name}`, () => mesh.lab.log(h, 'vssh').includes(`vssh serving on ${mesh.ips.get(h.name)}:48291`), 20_000);
      type Row = { name: string; online: boolean; address: string; lastSeen: string | null; error?: { message: string }; reading: { hostname: string; rttMs: number; memory: { totalBytes: number } } | null };
      const r = await hub.call('mpop_dashboard');
      expect(r.isError, textOf(r)).toBeFalsy();
      const nodes = r.structuredContent.nodes as Row[];
      for (const name of ['n1', 'n2']) {
        const n = nodes.find((x) => x.name === name);
        expect(n, textOf(r)).toBeDefined();
        expect(n!.online, textOf(r)).toBe(true);
        expect(n!.address, name).toBe(`${mesh.ips.get(name)}:48291`);
        expect(n!.reading!.rttMs, name).toBeGreaterThan(0);
        expect(n!.reading!.memory.totalBytes, name).toBeGreaterThan(0);
        expect(textOf(r)).toMatch(new RegExp(`^${name}\\s+online\\s`, 'm'));
      }
      for (const c of mesh.lab.processes(node('n1'), 'vssh')) await mesh.lab.stop(c);
      const after = await hub.call('mpop_dashboard');
      const rows = after.structuredContent.nodes as Row[];
      const n1 = rows.find((x) => x.name === 'n1')!;
      expect(n1.online).toBe(false);
      expect(n1.error!.message).toContain('cannot reach n1');
      expect(n1.lastSeen).toBe(nodes.find((x) => x.name === 'n1')!.lastSeen); // the reading of the call before
      expect(rows.find((x) => x.name === 'n2')!.online).toBe(true);
      expect(textOf(after)).toMatch(/^n1\s+offline\s/m);
    } finally {
      for (const h of hosts) for (const c of mesh.lab.processes(h, 'vssh')) await mesh.lab.stop(c);
    }
    const tool = (await hub.client.listTools()).tools.find((t) => t.name === 'mpop_dashboard');
    expect(tool?._meta).toMatchObject({ ui: { resourceUri: 'ui://mpop/dashboard.html' } });
  }, 90_000);

  it('wire_diagnose on a healthy node (its own mpop-mcp, in its namespace) finds nothing', async () => {
    const n1 = node('n1');
    // n1 talks to both of its peers first: a peer never handshaken is a finding of its own
    for (const ip of [mesh.ips.get('hub')!, mesh.ips.get('n2')!]) expect((await mesh.lab.exec(n1, 'ping', ['-n', '-c', '1', '-W', '2', ip])).code, ip).toBe(0);
    const s = await connect(mesh.lab, n1, ['--toolsets', 'network'], 'lab-n1');
    servers.push(s);
    const st = await s.call('wire_status');
    expect(st.structuredContent).toMatchObject({ mesh: true, status: { role: 'node', name: 'n1', meshIp: mesh.ips.get('n1'), iface: n1.iface, up: true } });
    const r = await s.call('wire_diagnose');
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(r.structuredContent).toEqual({ mesh: true, healthy: true, findings: [] });
    expect(textOf(r)).toBe('the mesh looks healthy from n1 (2 peers)');
    const hubView = await hub.call('wire_diagnose');
    expect(hubView.structuredContent, textOf(hubView)).toEqual({ mesh: true, healthy: true, findings: [] });
  }, 60_000);

  it('a node whose wireguard-go is stopped: wire_ping says unreachable as an error, and its own wire_diagnose names the interface', async () => {
    const n2 = node('n2');
    for (const c of mesh.lab.processes(n2, 'up')) await mesh.lab.stop(c); // nothing brings the interface back
    for (const pid of await pidsOf(mesh.lab, n2, 'wireguard-go')) process.kill(pid, 'SIGTERM');
    await waitFor(`${n2.iface} gone on n2`, async () => (await mesh.lab.exec(n2, 'ip', ['link', 'show', n2.iface])).code !== 0, 15_000);
    expect(await pidsOf(mesh.lab, n2, 'wireguard-go')).toEqual([]);

    const r = await hub.call('wire_ping', { node: 'n2', count: 2 });
    expect(r.isError, textOf(r)).toBe(true);
    expect(r.structuredContent).toMatchObject({ available: true, node: 'n2', meshIp: mesh.ips.get('n2'), sent: 2, received: 0, rttMs: null });
    expect(textOf(r)).toContain(`n2 (${mesh.ips.get('n2')}): no reply to 2 pings`);
    // n1 is still answered
    expect((await hub.call('wire_ping', { node: 'n1', count: 1 })).structuredContent).toMatchObject({ received: 1 });

    const s = await connect(mesh.lab, n2, ['--toolsets', 'network'], 'lab-n2');
    servers.push(s);
    const st = await s.call('wire_status');
    expect(st.structuredContent).toMatchObject({ mesh: true, status: { role: 'node', name: 'n2', iface: n2.iface, up: false, listenPort: null } });
    const d = await s.call('wire_diagnose');
    expect(d.structuredContent).toMatchObject({ mesh: true, healthy: false });
    const findings = d.structuredContent.findings as { subject: string; problem: string; advice: string }[];
    expect(findings).toEqual([{ subject: n2.iface, problem: 'the interface is down: none of the 2 peers can be reached from here', advice: 'start `wire up` (or its service)' }]);
    expect(textOf(d)).toBe(`${n2.iface}: the interface is down: none of the 2 peers can be reached from here -> start \`wire up\` (or its service)`);
    // and wire_ping from there says why it cannot ping at all, before trying
    const p = await s.call('wire_ping', { node: 'n1', count: 1 });
    expect(p.isError).toBe(true);
    expect(p.structuredContent).toMatchObject({ available: false, sent: 0, received: 0 });
    expect(p.structuredContent.reason).toBe(`the mesh interface ${n2.iface} is not up on this machine: nothing to ping over (start it with \`wire up\`)`);
  }, 90_000);

  it('a node that does not answer wire_ping gets a next step (wire_peers, wire_diagnose, mpop_heal_check) in the result', async () => {
    const r = await hub.call('wire_ping', { node: 'n2', count: 1 });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/wire_diagnose/);
    expect(r.structuredContent.reason).toMatch(/wire_peers.*wire_diagnose.*mpop_heal_check/);
  });
});

/**
 * mpop_enroll through a real MCP client, in the lab: the server on the coordinator's machine takes a fresh
 * host that only runs a real sshd into the mesh, and mpop_exec then reaches it over its mesh address. The
 * fresh host has a /var/lib and a /run/wireguard of its own (the tool enrolls with the defaults:
 * /var/lib/meshpop and wire0).
 */
describe.skipIf(!isRoot)('mpop-mcp mpop_enroll over SSH in the lab', () => {
  let lab: FreshHost;
  let granted: McpHost;
  let bare: McpHost;
  const args = (extra: Record<string, unknown> = {}) => ({ name: 'fresh1', host: `root@${lab.host.ip}`, keyFile: lab.sshd.rootKey, skipInstall: true, connectTimeoutSeconds: 10, ...extra });
  const tokens = async (): Promise<{ name: string; usedAt: number | null; revokedAt: number | null }[]> => JSON.parse((await lab.lab.wire(lab.hub, ['token', 'list', '--json'])).stdout);
  /** followJob waits for a job the deadline handed off, and returns its result (structured and text). */
  const followJob = async (s: McpHost, job: string): Promise<{ data: any; text: string; status: string }> => {
    await waitFor(`job ${job}`, async () => (await s.call('mpop_job_status', { job })).structuredContent.job.status !== 'running', 240_000, 1000);
    const out = await s.call('mpop_job_output', { job });
    return { data: out.structuredContent.result, text: out.structuredContent.text, status: out.structuredContent.status };
  };
  beforeAll(async () => {
    lab = await hubAndFresh({ ownSystemDirs: true });
    // a short deadline: enroll takes longer, so it goes on as a job, as an agent sees it with the defaults
    granted = await connect(lab.lab, lab.hub, ['--toolsets', 'all', '--allow-destructive', '--deadline', '5'], 'lab-enroll');
    bare = await connect(lab.lab, lab.hub, ['--toolsets', 'all'], 'lab-enroll-bare');
  }, 180_000);
  afterAll(async () => {
    await Promise.all([granted?.client.close(), bare?.client.close()]);
    await lab?.lab.destroy();
  });

  it('mpop_enroll is listed as destructive and long, and refused without a grant: nothing is done', async () => {
    const t = (await bare.client.listTools()).tools.find((x) => x.name === 'mpop_enroll')!;
    expect(t.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true, openWorldHint: true });
    const r = await bare.call('mpop_enroll', args({ acceptHostKey: lab.sshd.fingerprint }));
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain('mpop_enroll is destructive and this client cannot ask the user to confirm');
    expect(textOf(r)).toContain('--allow mpop_enroll');
    expect((await tokens()).filter((x) => x.name === 'fresh1')).toEqual([]);
    expect(existsSync(join(lab.host.home, 'varlib', 'upper', 'meshpop'))).toBe(false);
    expect(lab.lab.log(lab.host, 'sshd')).not.toContain('Accepted publickey');
  });

  // As `mpop enroll` takes --remote-home, --interface and --prefix; an argument the tool does not know is an error.
  it('mpop_enroll takes the node\'s home, prefix and WireGuard interface, and refuses an argument it does not know', async () => {
    const t = (await bare.client.listTools()).tools.find((x) => x.name === 'mpop_enroll')!;
    expect(Object.keys(t.inputSchema.properties ?? {})).toEqual(expect.arrayContaining(['remoteHome', 'prefix', 'interface']));
    expect(t.inputSchema.additionalProperties).toBe(false);
    const r = await granted.call('mpop_enroll', args({ acceptHostKey: lab.sshd.fingerprint, remoteHom: '/tmp/typo' }));
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain('remoteHom');
    expect((await tokens()).filter((x) => x.name === 'fresh1')).toEqual([]); // nothing was done
    const rel = await granted.call('mpop_enroll', args({ acceptHostKey: lab.sshd.fingerprint, remoteHome: 'relative/home' }));
    expect(rel.isError).toBe(true);
    expect(textOf(rel)).toContain('must be an absolute path');
  });

  it('a fingerprint that is not the host\'s stops at connect, as an error result with the step and its code', async () => {
    const r = await granted.call('mpop_enroll', args({ acceptHostKey: 'SHA256:' + 'A'.repeat(43) }));
    const res = r.structuredContent.jobId ? await followJob(granted, r.structuredContent.jobId) : { data: r.structuredContent, text: textOf(r), status: r.isError ? 'failed' : 'done' };
    expect(res.data, res.text).toMatchObject({ node: 'fresh1', enrolled: false, failedStep: 'connect', error: { code: 'MPOP_HOST_KEY' } });
    expect(res.data.error.message).toContain(lab.sshd.fingerprint); // it shows what the host really offers
    expect(res.data.steps[0]).toMatchObject({ step: 'connect', status: 'failed' });
    expect(res.data.steps.slice(1).every((s: { status: string }) => s.status === 'not run')).toBe(true);
    expect(res.text).toContain('ssh-keygen -lf'); // the hint: how to check the fingerprint on the host
    expect((await tokens()).filter((x) => x.name === 'fresh1')).toEqual([]);
  }, 60_000);

  it('enrolls the fresh host (with progress per step; a job when it outlives the deadline); mpop_exec then reaches it over the mesh', async () => {
    const hadVarLib = existsSync('/var/lib/meshpop'); // this machine's, not the fresh host's
    const progress: string[] = [];
    const r = await granted.call('mpop_enroll', args({ acceptHostKey: lab.sshd.fingerprint, group: 'fresh', waitSeconds: 90 }), (p) => progress.push(p.message ?? ''));
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(progress[0]).toBe('connect...');
    // Usually past the 5 s deadline, so a job; on a quiet machine it can finish first, and then it is the answer itself.
    if (r.structuredContent.jobId) expect(r.structuredContent).toMatchObject({ jobStatus: 'running', jobId: expect.stringMatching(/^job-/) });
    const res = r.structuredContent.jobId ? await followJob(granted, r.structuredContent.jobId) : { data: r.structuredContent, text: textOf(r), status: 'done' };
    expect(res.status, `${res.text}\n--- server:\n${granted.stderr().slice(-3000)}\n--- sshd:\n${lab.lab.log(lab.host, 'sshd').slice(-3000)}`).toBe('done');
    expect(res.data).toMatchObject({ node: 'fresh1', host: `root@${lab.host.ip}`, enrolled: true, hostKey: { type: 'ssh-ed25519', fingerprint: lab.sshd.fingerprint } });
    expect(res.data.meshIp).toMatch(/^10\.99\.0\.\d+$/);
    expect(res.data.steps.map((s: { step: string; status: string }) => `${s.step}:${s.status}`)).toEqual([
      'connect:ok', 'system:ok', 'root:ok', 'node:ok', 'packages:ok', 'token:ok', 'join:ok', 'services:ok', 'mesh:ok', 'record:ok',
    ]);
    expect(res.text).toContain(`fresh1 enrolled: ${res.data.meshIp} in the mesh`);
    // the token it made was used, and the node's state is where the defaults put it: on the host alone
    expect((await tokens()).filter((x) => x.name === 'fresh1')).toMatchObject([{ usedAt: expect.any(Number) }]);
    expect(existsSync(join(lab.host.home, 'varlib', 'upper', 'meshpop', 'vault', 'store.sv'))).toBe(true);
    if (!hadVarLib) expect(existsSync('/var/lib/meshpop')).toBe(false);

    const peers = await granted.call('wire_peers');
    expect(peers.structuredContent.peers).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'fresh1', meshIp: res.data.meshIp, status: 'online' })]));
    const ping = await granted.call('wire_ping', { node: 'fresh1', count: 2 });
    expect(ping.structuredContent, textOf(ping)).toMatchObject({ available: true, received: 2 });

    const ex = await granted.call('mpop_exec', { target: 'fresh1', argv: ['ip', '-o', '-4', 'addr', 'show'] });
    expect(ex.isError, textOf(ex)).toBeFalsy();
    expect(ex.structuredContent).toMatchObject({ target: 'fresh1', counts: { ok: 1 } });
    expect(ex.structuredContent.nodes).toMatchObject([{ node: 'fresh1', outcome: 'ok', exitCode: 0, error: null }]);
    expect(ex.structuredContent.nodes[0].stdout).toContain(`inet ${res.data.meshIp}/`);
    expect(ex.structuredContent.nodes[0].stdout).toContain('wire0'); // the default interface, in the host's own namespace
    const group = await granted.call('mpop_exec', { target: '@fresh', argv: ['true'] });
    expect(group.structuredContent.nodes.map((n: { node: string }) => n.node)).toEqual(['fresh1']);
    // without a grant, the same exec is refused
    const refused = await bare.call('mpop_exec', { target: 'fresh1', argv: ['true'] });
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toContain('mpop_exec is destructive');
  }, 300_000);
});
