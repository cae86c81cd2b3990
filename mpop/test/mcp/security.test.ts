import { existsSync, readFileSync } from 'node:fs';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fleet, loopFleet } from '../fleet.js';
import { mcpClient } from './client.js';

/**
 * The security toolset over the SDK client against real loopback daemons. The daemons run on this machine,
 * so every answer is checked against what this machine really has: /etc/passwd, its journal and auth logs,
 * nft / iptables, apt's lists, sshd -T, find over /etc. Where a subject is absent here the tool must say so.
 */
type R = { isError?: boolean; structuredContent?: any; content: { text: string }[] };
type NodeOut = { node: string; outcome: string; value?: any; error?: { code: string; message: string } };
const SECURITY_TOOLS = ['mpop_security_scan', 'mpop_users', 'mpop_failed_logins', 'mpop_firewall', 'mpop_updates'];

/** here runs a command on this machine the way the node would (no shell, C locale); null when it is not installed. */
async function here(argv: string[]): Promise<{ stdout: string; stderr: string; exitCode: number } | null> {
  const r = await execa(argv[0]!, argv.slice(1), { reject: false, env: { LC_ALL: 'C' }, stdin: 'ignore', timeout: 120_000 });
  if ((r as { code?: string }).code === 'ENOENT') return null;
  return { stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode ?? -1 };
}

describe('mpop-mcp security tools over real loopback daemons, checked against this machine', () => {
  let fleet: Fleet;
  let client: Client;
  beforeAll(async () => {
    fleet = await loopFleet(2);
    await fleet.addDown('gone1');
    client = await mcpClient(fleet, ['--toolsets', 'security'], { name: 'security-agent' });
    await client.listTools(); // the client checks every structuredContent against the output schemas it listed
  }, 120_000);
  afterAll(async () => {
    await client?.close();
    await fleet?.close();
  });
  const call = async (name: string, args: Record<string, unknown> = {}) => (await client.callTool({ name, arguments: args })) as R;
  const nodes = (r: R): Record<string, NodeOut> => Object.fromEntries((r.structuredContent.nodes as NodeOut[]).map((n) => [n.node, n]));

  it('lists the five tools, every one a described, read-only read of the fleet', async () => {
    const tools = (await client.listTools()).tools;
    expect(tools.map((t) => t.name).filter((n) => SECURITY_TOOLS.includes(n)).sort()).toEqual([...SECURITY_TOOLS].sort());
    for (const t of tools.filter((x) => SECURITY_TOOLS.includes(x.name))) {
      expect(t.annotations, t.name).toMatchObject({ readOnlyHint: true, destructiveHint: false, openWorldHint: true });
      for (const [field, schema] of Object.entries((t.inputSchema.properties ?? {}) as Record<string, { description?: string }>)) expect(schema.description, `${t.name}.${field}`).toBeTruthy();
    }
  });

  it('mpop_users: root and the real people of /etc/passwd, with the admin groups as getent has them; a down node apart', async () => {
    const r = await call('mpop_users', { target: 'n1,n2,gone1' });
    expect(r.isError).toBe(true);
    const by = nodes(r);
    expect(by.gone1!.outcome).toBe('unreachable');
    const passwd = readFileSync('/etc/passwd', 'utf8').split('\n').filter(Boolean).map((l) => l.split(':'));
    const people = passwd.filter((f) => f[2] === '0' || (Number(f[2]) >= 1000 && f[0] !== 'nobody' && f[2] !== '65534'));
    for (const n of ['n1', 'n2']) {
      expect(by[n]!.outcome, n).toBe('ok');
      const users = by[n]!.value.users as { name: string; uid: number; gid: number; home: string; shell: string; admin: boolean }[];
      expect(users.find((u) => u.name === 'root'), n).toEqual({ name: 'root', uid: 0, gid: 0, home: '/root', shell: expect.stringMatching(/^\//), admin: true });
      // every account of /etc/passwd that is root or a person (uid >= 1000) is there, as the file has it
      for (const f of people) expect(users.find((u) => u.name === f[0]), `${n} ${f[0]}`).toMatchObject({ uid: Number(f[2]), gid: Number(f[3]), home: f[5], shell: f[6] });
      for (const u of users) expect(u.uid === 0 || u.uid >= 1000, u.name).toBe(true);
      expect(users.map((u) => u.name)).not.toContain('nobody');
    }
    const groups = await here(['getent', 'group', 'sudo', 'wheel', 'admin']);
    const want = Object.fromEntries((groups?.stdout ?? '').split('\n').filter(Boolean).map((l) => l.split(':')).map((f) => [f[0], (f[3] ?? '').split(',').filter(Boolean)]));
    expect(by.n1!.value.admins).toEqual(want);
    for (const u of by.n1!.value.users as { name: string; uid: number; admin: boolean }[]) expect(u.admin, u.name).toBe(u.uid === 0 || Object.values(want).flat().includes(u.name));
    // both nodes are this machine: their identical answers are folded into one line
    expect(r.content[0]!.text).toMatch(/^n\[1-2\]: root\(0\)\*/m);
    expect(r.content[0]!.text).toMatch(/^gone1: unreachable/m);
  }, 60_000);

  it('mpop_failed_logins: what the journal or auth log holds here, or plainly that there is neither', async () => {
    const r = await call('mpop_failed_logins', { target: 'n1', hours: 48 });
    expect(r.isError, r.content[0]?.text).toBeFalsy();
    const v = nodes(r).n1!.value;
    const journal = await here(['journalctl', '-u', 'ssh', '-u', 'sshd', '-o', 'json', '--no-pager', '--since', '-48h']);
    const file = ['/var/log/auth.log', '/var/log/secure'].find((f) => existsSync(f));
    if (journal?.exitCode === 0 && journal.stdout.trim()) expect(v).toMatchObject({ present: true, source: 'journald' });
    else if (file) {
      expect(v).toMatchObject({ present: true, source: file });
      const failed = readFileSync(file, 'utf8').split('\n').slice(-50_000).filter((l) => /sshd/.test(l) && /Failed (password|publickey|keyboard-interactive\/pam) for|Invalid user/.test(l));
      expect(v.total).toBe(failed.length);
    } else {
      expect(v.present).toBe(false);
      expect(v.reason).toMatch(/^no sshd log on n1 \(no ssh\/sshd entries in the journal.*no \/var\/log\/auth\.log or \/var\/log\/secure\)$/);
      expect(r.content[0]!.text).toContain('no sshd log on n1');
    }
    if (v.present) {
      expect(v.byIp.reduce((s: number, b: { count: number }) => s + b.count, 0)).toBe(v.total);
      expect(v.recent.length).toBeLessThanOrEqual(20);
    }
  }, 60_000);

  it('mpop_firewall: the ruleset nft (or iptables-save) really has here, or plainly no firewall tool', async () => {
    const r = await call('mpop_firewall', { target: 'n1' });
    const n1 = nodes(r).n1!;
    const nft = await here(['nft', '-j', 'list', 'ruleset']);
    const ipt = nft ? null : await here(['iptables-save']);
    if (nft && nft.exitCode === 0) {
      expect(n1.outcome, r.content[0]?.text).toBe('ok');
      const items = (JSON.parse(nft.stdout || '{"nftables":[]}') as { nftables: Record<string, { family: string; name: string }>[] }).nftables;
      const tables = items.filter((i) => i.table).map((i) => ({ family: i.table!.family, name: i.table!.name }));
      expect(n1.value).toMatchObject({ present: true, tool: 'nft', rules: items.filter((i) => i.rule).length });
      expect(n1.value.tables.map((t: { family: string; name: string }) => ({ family: t.family, name: t.name }))).toEqual(tables);
      expect(n1.value.tables.flatMap((t: { chains: unknown[] }) => t.chains)).toHaveLength(items.filter((i) => i.chain).length);
      if (!tables.length) expect(r.content[0]!.text).toContain('nft: an empty ruleset (no tables, no rules: nothing is filtered)');
    } else if (nft) {
      // nft is there but cannot read the ruleset (not root): a failure that says why, not an empty firewall
      expect(n1.outcome).toBe('failed');
      expect(n1.error!.message).toContain('nft -j list ruleset');
    } else if (ipt && ipt.exitCode === 0) {
      expect(n1.value).toMatchObject({ present: true, tool: 'iptables-save', rules: ipt.stdout.split('\n').filter((l) => l.startsWith('-A ')).length });
    } else if (!ipt) {
      expect(n1.value).toEqual({ present: false, reason: 'no firewall tool on n1 (neither nft nor iptables-save)' });
    }
  }, 60_000);

  it('mpop_updates: the same upgradable packages apt (or dnf) lists here, or plainly what is missing', async () => {
    const r = await call('mpop_updates', { target: 'n1' });
    const n1 = nodes(r).n1!;
    expect(n1.outcome, r.content[0]?.text).toBe('ok');
    const v = n1.value;
    const apt = await here(['apt', 'list', '--upgradable']);
    const dnf = apt ? null : await here(['dnf', 'check-update', '-q']);
    if (apt) {
      const names = apt.stdout.split('\n').map((l) => /^([^/\s]+)\/\S+\s+\S+\s+\S+/.exec(l)?.[1]).filter(Boolean).sort();
      const lists = await here(['find', '/var/lib/apt/lists', '-maxdepth', '1', '-name', '*_Packages*', '-print', '-quit']);
      if (!names.length && !lists?.stdout.trim()) {
        expect(v.present).toBe(false);
        expect(v.reason).toContain('has no package lists');
      } else {
        expect(v).toMatchObject({ present: true, manager: 'apt', count: names.length });
        expect(v.packages.map((p: { name: string }) => p.name).sort()).toEqual(names);
        for (const p of v.packages as { version: string }[]) expect(p.version).toMatch(/\d/);
        expect(r.content[0]!.text).toContain(`${names.length} pending (apt)`);
      }
    } else if (dnf) expect(v).toMatchObject({ present: true, manager: 'dnf' });
    else expect(v).toEqual({ present: false, reason: 'unknown package manager on n1 (neither apt nor dnf)' });
  }, 120_000);

  it('mpop_security_scan: each part matches this machine (sshd -T, find /etc, ss, the updates count), absent parts said plainly', async () => {
    const r = await call('mpop_security_scan', { target: 'n1' });
    const n1 = nodes(r).n1!;
    expect(n1.outcome, r.content[0]?.text).toBe('ok');
    const v = n1.value;
    const sshd = await here(['sshd', '-T']);
    if (sshd && sshd.exitCode === 0) {
      const get = (k: string) => new RegExp(`^${k}\\s+(\\S+)`, 'mi').exec(sshd.stdout)?.[1] ?? null;
      expect(v.sshd).toEqual({ present: true, permitRootLogin: get('permitrootlogin'), passwordAuthentication: get('passwordauthentication') });
      expect(v.warnings.includes('sshd accepts passwords')).toBe(get('passwordauthentication') === 'yes');
    } else expect(v.sshd.present).toBe(false);
    const find = await here(['find', '/etc', '-xdev', '-perm', '-0002', '!', '-type', 'l', '-print']);
    const ww = (find?.stdout ?? '').split('\n').filter(Boolean);
    expect(v.worldWritableEtc).toEqual({ paths: ww.slice(0, 50), truncated: ww.length > 50 });
    const units = await here(['systemctl', 'list-units', '--failed', '--all', '--no-pager', '--plain', '--no-legend']);
    if (!units || units.exitCode !== 0) {
      expect(v.failedUnits.present).toBe(false);
      expect(v.failedUnits.reason).toMatch(/^no systemd on n1/);
    } else expect(Array.isArray(v.failedUnits)).toBe(true);
    const upd = nodes(await call('mpop_updates', { target: 'n1' })).n1!.value;
    expect(v.pendingUpdates).toEqual(upd.present ? upd.count : upd);
    // ports open to all addresses are really listening on a wildcard here; the loopback daemons are not among them
    const ss = await here(['ss', '-Hltnu']);
    if (Array.isArray(v.openPorts)) {
      const wild = (ss?.stdout ?? '').split('\n').filter((l) => /\s(0\.0\.0\.0|\*|\[::\]):\d+\s/.test(l));
      for (const p of v.openPorts as { proto: string; port: number }[]) expect(wild.some((l) => l.includes(`:${p.port} `)), `${p.proto}/${p.port}`).toBe(true);
      for (const n of fleet.nodes) expect(v.openPorts.map((p: { port: number }) => p.port)).not.toContain(n.port);
    } else expect(v.openPorts.present).toBe(false);
  }, 120_000);

  it('bad arguments to every security tool are tool errors, and the server goes on serving', async () => {
    const bad: [string, Record<string, unknown>][] = [
      ['mpop_security_scan', { target: 'no-such-node' }],
      ['mpop_security_scan', { target: 'n1', timeoutSeconds: 0 }],
      ['mpop_users', { target: 5 }],
      ['mpop_failed_logins', { target: 'n1', hours: -1 }],
      ['mpop_failed_logins', { target: 'n1', hours: 'a day' }],
      ['mpop_failed_logins', { target: 'n1', hours: 24 * 91 }],
      ['mpop_firewall', { target: ['n1'] }],
      ['mpop_updates', { target: 'n1', timeoutSeconds: 'soon' }],
    ];
    for (const [name, args] of bad) {
      const r = await call(name, args);
      expect(r.isError, `${name} ${JSON.stringify(args)}`).toBe(true);
      expect(r.content[0]!.text.length, name).toBeGreaterThan(10);
    }
    const ok = await call('mpop_users', { target: 'n2' });
    expect(ok.isError).toBeFalsy();
    expect(nodes(ok).n2!.outcome).toBe('ok');
  }, 60_000);
});
