import type { VsshClient } from '@meshpop/vssh/client';
import { z } from 'zod';
import { fanout } from '../../fanout/run.js';
import { readPorts } from '../../facts/ss.js';
import { readUnits } from '../../facts/systemctl.js';
import { absent, mustSucceed, runTool, ToolError, type Absent, type ToolOptions } from '../../facts/tool.js';
import type { ToolDef } from '../tool.js';
import { absentSchema, fleetTool } from './fleet-tool.js';

const opt = (signal: AbortSignal): ToolOptions => ({ signal });

/** parseAptUpgradable reads `apt list --upgradable`: "name/suite version arch [upgradable from: old]". */
export function parseAptUpgradable(text: string): { name: string; version: string; from: string | null }[] {
  const out = [];
  for (const line of text.split('\n')) {
    const m = /^([^/\s]+)\/\S+\s+(\S+)\s+\S+(?:\s+\[upgradable from: ([^\]]+)\])?/.exec(line);
    if (m) out.push({ name: m[1]!, version: m[2]!, from: m[3] ?? null });
  }
  return out;
}

/** parseDnfCheckUpdate reads `dnf check-update -q` (exit 100): "name.arch version repo" lines, until "Obsoleting Packages". */
export function parseDnfCheckUpdate(text: string): { name: string; version: string; from: null }[] {
  const out = [];
  for (const line of text.split('\n')) {
    if (/^Obsoleting/i.test(line)) break;
    const m = /^(\S+)\.\S+\s+(\S+)\s+\S+\s*$/.exec(line);
    if (m) out.push({ name: m[1]!, version: m[2]!, from: null });
  }
  return out;
}

const update = z.object({ name: z.string(), version: z.string(), from: z.string().nullable() });
const updatesValue = z.union([z.object({ present: z.literal(true), manager: z.enum(['apt', 'dnf']), count: z.number(), packages: z.array(update) }), absentSchema]);
type Updates = z.infer<typeof updatesValue>;

/** APT_LISTS is where apt keeps the package lists `apt update` fetched; without them apt knows of no newer version. */
const APT_LISTS = '/var/lib/apt/lists';

/**
 * readUpdates lists pending package updates with apt or dnf (from the package lists as they are: no refresh).
 * apt without package lists says "none upgradable" for want of knowing: that is said as unknown, not as 0.
 */
async function readUpdates(client: VsshClient, signal: AbortSignal): Promise<Updates> {
  const apt = await runTool(client, ['apt', 'list', '--upgradable'], opt(signal));
  if (apt !== 'missing') {
    const packages = parseAptUpgradable(mustSucceed(client.target.name, ['apt', 'list', '--upgradable'], apt).stdout);
    if (!packages.length) {
      const lists = await runTool(client, ['find', APT_LISTS, '-maxdepth', '1', '-name', '*_Packages*', '-print', '-quit'], opt(signal));
      if (lists !== 'missing' && !lists.stdout.trim()) return absent(`apt on ${client.target.name} has no package lists (${APT_LISTS} holds none): pending updates are unknown until \`apt update\` runs there`);
    }
    return { present: true, manager: 'apt', count: packages.length, packages };
  }
  const dnf = await runTool(client, ['dnf', 'check-update', '-q'], opt(signal));
  if (dnf !== 'missing') {
    if (dnf.exitCode !== 0 && dnf.exitCode !== 100) throw new ToolError(client.target.name, 'dnf check-update -q', dnf.exitCode, dnf.stderr);
    const packages = parseDnfCheckUpdate(dnf.stdout);
    return { present: true, manager: 'dnf', count: packages.length, packages };
  }
  return absent(`unknown package manager on ${client.target.name} (neither apt nor dnf)`);
}

const updates = fleetTool({
  name: 'mpop_updates',
  title: 'Pending updates',
  description: 'Packages with a newer version available on each node (apt list --upgradable, or dnf check-update), from the package lists as they are (no refresh). A node with neither says "unknown package manager"; apt without package lists (apt update never ran) says so.',
  toolset: 'security',
  defaultAll: true,
  value: updatesValue,
  gather: (pool, nodes, _a, opts) => fanout(pool, nodes, ({ client, signal }) => readUpdates(client, signal), opts),
  render: (v) => (v.present ? `${v.count} pending (${v.manager})${v.count ? `: ${v.packages.slice(0, 10).map((p) => p.name).join(', ')}${v.count > 10 ? ', ...' : ''}` : ''}` : v.reason),
});

/** parseSshdT reads the two settings of `sshd -T` that matter most. */
export function parseSshdT(text: string): { permitRootLogin: string | null; passwordAuthentication: string | null } {
  const get = (k: string): string | null => new RegExp(`^${k}\\s+(\\S+)`, 'mi').exec(text)?.[1] ?? null;
  return { permitRootLogin: get('permitrootlogin'), passwordAuthentication: get('passwordauthentication') };
}

const WILD = new Set(['0.0.0.0', '::', '*', '[::]']);
const WORLD_WRITABLE_MAX = 50;

const scanValue = z.object({
  openPorts: z.union([z.array(z.object({ proto: z.string(), address: z.string(), port: z.number(), process: z.string().nullable() })), absentSchema]),
  failedUnits: z.union([z.array(z.string()), absentSchema]),
  pendingUpdates: z.union([z.number(), absentSchema]),
  sshd: z.union([z.object({ present: z.literal(true), permitRootLogin: z.string().nullable(), passwordAuthentication: z.string().nullable() }), absentSchema]),
  worldWritableEtc: z.object({ paths: z.array(z.string()), truncated: z.boolean() }),
  warnings: z.array(z.string()),
});
type Scan = z.infer<typeof scanValue>;

/** orAbsent keeps one failed part of a scan from sinking the others: its error becomes that part's reason. */
const orAbsent = async <T>(p: Promise<T>): Promise<T | Absent> => p.catch((err: Error) => absent(err.message));

async function scan(client: VsshClient, signal: AbortSignal): Promise<Scan> {
  const node = client.target.name;
  const [ports, units, upd, sshdRun, find] = await Promise.all([
    orAbsent(readPorts(client, opt(signal))),
    orAbsent(readUnits(client, { failed: true, type: 'all' }, opt(signal))),
    orAbsent(readUpdates(client, signal)),
    orAbsent(runTool(client, ['sshd', '-T'], opt(signal))),
    runTool(client, ['find', '/etc', '-xdev', '-perm', '-0002', '!', '-type', 'l', '-print'], opt(signal)),
  ]);
  const openPorts = 'present' in ports && ports.present === false ? ports : (ports as { sockets: { proto: string; address: string; port: number; processes: { name: string }[] }[] }).sockets.filter((s) => WILD.has(s.address)).map((s) => ({ proto: s.proto, address: s.address, port: s.port, process: s.processes[0]?.name ?? null }));
  const failedUnits = units.present ? units.units.map((u) => u.unit) : units;
  const pendingUpdates = upd.present ? upd.count : upd;
  let sshd: Scan['sshd'];
  if (sshdRun === 'missing') sshd = absent(`no sshd on ${node}`);
  else if ('present' in sshdRun) sshd = sshdRun;
  else if (sshdRun.exitCode !== 0) sshd = absent(`sshd -T failed on ${node}: ${sshdRun.stderr.trim().split('\n')[0] ?? ''}`);
  else sshd = { present: true, ...parseSshdT(sshdRun.stdout) };
  const all = find === 'missing' ? [] : find.stdout.split('\n').filter(Boolean);
  const worldWritableEtc = { paths: all.slice(0, WORLD_WRITABLE_MAX), truncated: all.length > WORLD_WRITABLE_MAX };
  const warnings: string[] = [];
  if (Array.isArray(failedUnits) && failedUnits.length) warnings.push(`${failedUnits.length} failed units`);
  if (sshd.present && sshd.permitRootLogin === 'yes') warnings.push('sshd permits root login with a password');
  if (sshd.present && sshd.passwordAuthentication === 'yes') warnings.push('sshd accepts passwords');
  if (all.length) warnings.push(`${all.length} world-writable paths in /etc`);
  if (typeof pendingUpdates === 'number' && pendingUpdates) warnings.push(`${pendingUpdates} pending updates`);
  return { openPorts, failedUnits, pendingUpdates, sshd, worldWritableEtc, warnings };
}

const securityScan = fleetTool({
  name: 'mpop_security_scan',
  title: 'Security scan',
  description: 'A per-node security summary: listening ports open to all addresses (with their process), failed systemd units, the pending updates count, sshd\'s PermitRootLogin and PasswordAuthentication (from sshd -T, where sshd exists), and world-writable files in /etc (the first 50). A part a node lacks is said plainly.',
  toolset: 'security',
  defaultAll: true,
  value: scanValue,
  gather: (pool, nodes, _a, opts) => fanout(pool, nodes, ({ client, signal }) => scan(client, signal), opts),
  render: (v) => `${Array.isArray(v.openPorts) ? `open to all: ${v.openPorts.map((p) => `${p.proto}/${p.port}${p.process ? `(${p.process})` : ''}`).join(' ') || 'none'}` : v.openPorts.reason}; ${v.warnings.join('; ') || 'no warnings'}`,
});

const userRow = z.object({ name: z.string(), uid: z.number(), gid: z.number(), home: z.string(), shell: z.string(), admin: z.boolean() });
const usersValue = z.object({ users: z.array(userRow), admins: z.record(z.string(), z.array(z.string())) });

/** parsePasswd reads `getent passwd` lines (name:x:uid:gid:gecos:home:shell). */
export function parsePasswd(text: string): { name: string; uid: number; gid: number; home: string; shell: string }[] {
  return text.split('\n').filter(Boolean).map((l) => l.split(':')).filter((f) => f.length >= 7).map((f) => ({ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5]!, shell: f[6]! }));
}

const users = fleetTool({
  name: 'mpop_users',
  title: 'Users and admins',
  description: 'The people-and-root accounts of each node (getent passwd: uid 0 and uid >= 1000, without nobody) with home and shell, and the members of the admin groups (sudo, wheel, admin).',
  toolset: 'security',
  defaultAll: true,
  value: usersValue,
  gather: (pool, nodes, _a, opts) =>
    fanout(pool, nodes, async ({ client, signal }) => {
      const argv = ['getent', 'passwd'];
      const pw = await runTool(client, argv, opt(signal));
      if (pw === 'missing') throw new ToolError(client.target.name, 'getent passwd', null, 'getent is not installed');
      const gr = await runTool(client, ['getent', 'group', 'sudo', 'wheel', 'admin'], opt(signal));
      const admins: Record<string, string[]> = {};
      if (gr !== 'missing') for (const l of gr.stdout.split('\n').filter(Boolean)) admins[l.split(':')[0]!] = (l.split(':')[3] ?? '').split(',').filter(Boolean);
      const adminSet = new Set(Object.values(admins).flat());
      const list = parsePasswd(mustSucceed(client.target.name, argv, pw).stdout).filter((u) => u.uid === 0 || (u.uid >= 1000 && u.uid !== 65534 && u.name !== 'nobody'));
      return { users: list.map((u) => ({ ...u, admin: u.uid === 0 || adminSet.has(u.name) })), admins };
    }, opts),
  render: (v) => `${v.users.map((u) => `${u.name}(${u.uid})${u.admin ? '*' : ''}`).join(' ')}; admins: ${Object.entries(v.admins).map(([g, m]) => `${g}=${m.join(',') || '-'}`).join(' ') || 'no admin group'}`,
});

/** FAILED_RE reads sshd's failure lines: "Failed password for [invalid user] U from IP port N", "Invalid user U from IP". */
const FAILED_RE = /(?:Failed (?:password|publickey|keyboard-interactive\/pam) for (?:invalid user )?(\S+)|Invalid user (\S*)) from (\S+)/;

/** parseFailure reads one sshd message, or null when it is not a failed login. */
export function parseFailure(message: string): { user: string; ip: string } | null {
  const m = FAILED_RE.exec(message);
  return m ? { user: m[1] ?? m[2] ?? '', ip: m[3]! } : null;
}

const loginsValue = z.union([z.object({ present: z.literal(true), source: z.enum(['journald', '/var/log/auth.log', '/var/log/secure']), total: z.number(), byIp: z.array(z.object({ ip: z.string(), count: z.number(), users: z.array(z.string()), last: z.string().nullable() })), recent: z.array(z.object({ time: z.string().nullable(), user: z.string(), ip: z.string() })) }), absentSchema]);
type Logins = z.infer<typeof loginsValue>;

function tally(source: 'journald' | '/var/log/auth.log' | '/var/log/secure', events: { time: string | null; user: string; ip: string }[]): Logins {
  const by = new Map<string, { ip: string; count: number; users: Set<string>; last: string | null }>();
  for (const e of events) {
    const b = by.get(e.ip) ?? { ip: e.ip, count: 0, users: new Set<string>(), last: null };
    b.count++;
    b.users.add(e.user);
    b.last = e.time ?? b.last;
    by.set(e.ip, b);
  }
  const byIp = [...by.values()].sort((a, b) => b.count - a.count).map((b) => ({ ip: b.ip, count: b.count, users: [...b.users].slice(0, 20), last: b.last }));
  return { present: true, source, total: events.length, byIp, recent: events.slice(-20) };
}

async function readFailedLogins(client: VsshClient, hours: number, signal: AbortSignal): Promise<Logins> {
  const node = client.target.name;
  const argv = ['journalctl', '-u', 'ssh', '-u', 'sshd', '-o', 'json', '--no-pager', '--since', `-${hours}h`];
  const j = await runTool(client, argv, opt(signal));
  if (j !== 'missing' && j.exitCode === 0) {
    const events = [];
    for (const line of j.stdout.split('\n')) {
      if (!line.startsWith('{')) continue;
      let rec: { MESSAGE?: unknown; __REALTIME_TIMESTAMP?: string };
      try {
        rec = JSON.parse(line) as typeof rec;
      } catch {
        continue; // a record cut off (the journal rotating under us) is not a failed login
      }
      const msg = typeof rec.MESSAGE === 'string' ? rec.MESSAGE : Array.isArray(rec.MESSAGE) ? Buffer.from(rec.MESSAGE as number[]).toString('utf8') : '';
      const f = parseFailure(msg);
      if (f) events.push({ time: rec.__REALTIME_TIMESTAMP ? new Date(Number(rec.__REALTIME_TIMESTAMP) / 1000).toISOString() : null, ...f });
    }
    if (events.length || j.stdout.trim()) return tally('journald', events);
  }
  for (const file of ['/var/log/auth.log', '/var/log/secure'] as const) {
    const t = await runTool(client, ['tail', '-n', '50000', file], opt(signal));
    if (t === 'missing' || t.exitCode !== 0) continue;
    const events = t.stdout.split('\n').map((l) => ({ l, f: /sshd/.test(l) ? parseFailure(l) : null })).filter((x) => x.f).map((x) => ({ time: /^(\S+T\S+|\w{3}\s+\d+ [\d:]+)/.exec(x.l)?.[1] ?? null, ...x.f! }));
    return tally(file, events);
  }
  return absent(`no sshd log on ${node} (no ssh/sshd entries in the journal${j === 'missing' ? ': no journalctl' : ''}, no /var/log/auth.log or /var/log/secure)`);
}

const failedLogins = fleetTool({
  name: 'mpop_failed_logins',
  title: 'Failed SSH logins',
  description: 'Failed SSH logins on each node over the last hours (journald\'s ssh/sshd units as JSON, else /var/log/auth.log or /var/log/secure): counted per source IP with the users tried, and the latest attempts.',
  toolset: 'security',
  defaultAll: true,
  input: { hours: z.number().positive().max(24 * 90).optional().describe('how far back to look in the journal (default 24)') },
  value: loginsValue,
  gather: (pool, nodes, a, opts) => fanout(pool, nodes, ({ client, signal }) => readFailedLogins(client, a.hours ?? 24, signal), opts),
  render: (v) => (v.present ? `${v.total} failed logins (${v.source})${v.byIp.length ? `: ${v.byIp.slice(0, 5).map((b) => `${b.ip} x${b.count}`).join(', ')}` : ''}` : v.reason),
});

const fwValue = z.union([z.object({ present: z.literal(true), tool: z.enum(['nft', 'iptables-save']), tables: z.array(z.object({ family: z.string(), name: z.string(), chains: z.array(z.object({ name: z.string(), hook: z.string().nullable(), policy: z.string().nullable(), rules: z.number() })) })), rules: z.number() }), absentSchema]);
type Firewall = z.infer<typeof fwValue>;

/** parseNftJson reads `nft -j list ruleset` into tables, chains (hook, policy) and rule counts. */
export function parseNftJson(text: string): Extract<Firewall, { present: true }> {
  const doc = JSON.parse(text) as { nftables?: Record<string, Record<string, unknown>>[] };
  const tables = new Map<string, { family: string; name: string; chains: { name: string; hook: string | null; policy: string | null; rules: number }[] }>();
  const key = (o: Record<string, unknown>) => `${String(o.family)} ${String(o.table ?? o.name)}`;
  let rules = 0;
  for (const item of doc.nftables ?? []) {
    if (item.table) tables.set(key(item.table), { family: String(item.table.family), name: String(item.table.name), chains: [] });
    else if (item.chain) tables.get(key(item.chain))?.chains.push({ name: String(item.chain.name), hook: (item.chain.hook as string) ?? null, policy: (item.chain.policy as string) ?? null, rules: 0 });
    else if (item.rule) {
      rules++;
      const c = tables.get(key(item.rule))?.chains.find((x) => x.name === item.rule!.chain);
      if (c) c.rules++;
    }
  }
  return { present: true, tool: 'nft', tables: [...tables.values()], rules };
}

/** parseIptablesSave counts iptables-save's tables (*filter), chains (:INPUT ACCEPT [0:0]) and rules (-A INPUT ...). */
export function parseIptablesSave(text: string): Extract<Firewall, { present: true }> {
  const tables: { family: string; name: string; chains: { name: string; hook: string | null; policy: string | null; rules: number }[] }[] = [];
  let rules = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) tables.push({ family: 'ip', name: line.slice(1).trim(), chains: [] });
    const t = tables.at(-1);
    if (!t) continue;
    const c = /^:(\S+) (\S+)/.exec(line);
    if (c) t.chains.push({ name: c[1]!, hook: null, policy: c[2] === '-' ? null : c[2]!, rules: 0 });
    const r = /^-A (\S+)/.exec(line);
    if (r) {
      rules++;
      const chain = t.chains.find((x) => x.name === r[1]);
      if (chain) chain.rules++;
    }
  }
  return { present: true, tool: 'iptables-save', tables, rules };
}

const firewall = fleetTool({
  name: 'mpop_firewall',
  title: 'Firewall rules',
  description: 'Each node\'s firewall: tables, chains with their hook and policy, and rule counts, from `nft -j list ruleset` (iptables-save as a fallback). "no firewall tool" where neither exists. Reading the ruleset needs root on the node.',
  toolset: 'security',
  defaultAll: true,
  value: fwValue,
  gather: (pool, nodes, _a, opts) =>
    fanout(pool, nodes, async ({ client, signal }): Promise<Firewall> => {
      const nft = await runTool(client, ['nft', '-j', 'list', 'ruleset'], opt(signal));
      if (nft !== 'missing') return parseNftJson(mustSucceed(client.target.name, ['nft', '-j', 'list', 'ruleset'], nft).stdout || '{"nftables":[]}');
      const ipt = await runTool(client, ['iptables-save'], opt(signal));
      if (ipt !== 'missing') return parseIptablesSave(mustSucceed(client.target.name, ['iptables-save'], ipt).stdout);
      return absent(`no firewall tool on ${client.target.name} (neither nft nor iptables-save)`);
    }, opts),
  render: (v) => (v.present && !v.tables.length ? `${v.tool}: an empty ruleset (no tables, no rules: nothing is filtered)` : v.present ? `${v.tool}: ${v.tables.length} tables, ${v.rules} rules${v.tables.flatMap((t) => t.chains.filter((c) => c.policy).map((c) => ` ${t.name}/${c.name} policy ${c.policy}`)).join(',')}` : v.reason),
});

/** securityTools are the `security` toolset. */
export const securityTools: ToolDef[] = [securityScan, users, failedLogins, firewall, updates];
