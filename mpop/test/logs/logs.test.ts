import { appendFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logsFleet } from '../../src/logs/fetch.js';
import { followFleet } from '../../src/logs/follow.js';
import type { LogEntry } from '../../src/logs/parse.js';
import { parseLogSource } from '../../src/logs/source.js';
import { Fleet, loopFleet } from '../fleet.js';

/** remoteReaders lists the processes still reading `marker` (a unique file name) on this machine, where the "nodes" run. */
async function remoteReaders(marker: string): Promise<string[]> {
  const { stdout } = await execa('ps', ['-eo', 'pid=,args=']);
  return stdout.split('\n').filter((l) => l.includes(marker) && /\b(tail|grep|sh)\b/.test(l) && !l.includes('ps -eo'));
}

const waitFor = async (what: string, ok: () => boolean, ms = 15_000): Promise<void> => {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe('mpop logs over real loopback daemons', () => {
  let fleet: Fleet;
  let dir: string;
  let app: string;
  const iso = (msAgo: number): string => new Date(Date.now() - msAgo).toISOString();
  beforeAll(async () => {
    fleet = await loopFleet(3);
    await fleet.addDown('down1');
    dir = mkdtempSync(join(tmpdir(), 'mpop-logs-'));
    app = join(dir, 'app.log');
    const lines: string[] = [];
    for (let i = 0; i < 500; i++) lines.push(`${iso(3 * 3600_000 - i * 1000)} app[7]: old line ${i}${i % 50 === 0 ? ' ERROR disk' : ''}`);
    for (let i = 0; i < 20; i++) lines.push(`${iso(600_000 - i * 1000)} app[7]: new line ${i}${i % 5 === 0 ? ' error net' : ''}`);
    writeFileSync(app, lines.join('\n') + '\n');
  });
  afterAll(async () => {
    await fleet?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads the last --lines lines of a file on every node, in order, with the times of the lines', async () => {
    const r = await fleet.mpop(['logs', 'n1,n2', app, '--lines', '5', '--json']);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const out = JSON.parse(String(r.stdout)) as { nodes: { node: string; outcome: string; sources: string[]; entries: LogEntry[] }[] };
    expect(out.nodes.map((n) => [n.node, n.outcome, n.sources])).toEqual([['n1', 'ok', [app]], ['n2', 'ok', [app]]]);
    expect(out.nodes[0]!.entries.map((e) => e.message.replace(/^\S+ /, ''))).toEqual(['app[7]: new line 15 error net', 'app[7]: new line 16', 'app[7]: new line 17', 'app[7]: new line 18', 'app[7]: new line 19']);
    expect(Date.parse(out.nodes[0]!.entries[0]!.time!)).toBeGreaterThan(Date.now() - 700_000);
    const text = await fleet.mpop(['logs', 'n1,n2', app, '-n', '2']);
    expect(String(text.stdout).split('\n').filter(Boolean).map((l) => l.replace(/ \S+Z /, ' T '))).toEqual(['n1: T app[7]: new line 18', 'n1: T app[7]: new line 19', 'n2: T app[7]: new line 18', 'n2: T app[7]: new line 19']);
  });

  it('--grep is a regex (grep -E) or a fixed string, -i ignores case; --since keeps the lines whose timestamps are recent', async () => {
    const re = await fleet.mpop(['logs', 'n1', app, '--grep', 'ERROR (disk|net)', '--lines', '100', '--json']);
    expect(JSON.parse(String(re.stdout)).nodes[0].entries).toHaveLength(10);
    const ci = await fleet.mpop(['logs', 'n1', app, '--grep', 'error', '-i', '--json']);
    expect(JSON.parse(String(ci.stdout)).nodes[0].entries).toHaveLength(14);
    const fixed = await fleet.mpop(['logs', 'n1', app, '--grep', 'line 1.', '-F', '--json']);
    expect(JSON.parse(String(fixed.stdout)).nodes[0].entries).toHaveLength(0);
    const since = await fleet.mpop(['logs', 'n1', app, '--since', '1h', '--lines', '1000', '--json']);
    const entries = JSON.parse(String(since.stdout)).nodes[0].entries as LogEntry[];
    expect(entries).toHaveLength(20);
    expect(entries[0]!.message).toContain('new line 0');
    const both = await fleet.mpop(['logs', 'n1', app, '--since', '1h', '--grep', 'error', '--json']);
    expect(JSON.parse(String(both.stdout)).nodes[0].entries).toHaveLength(4);
  });

  it('--since on a file whose lines carry no timestamp says so', async () => {
    const plain = join(dir, 'plain.log');
    writeFileSync(plain, 'alpha\nbeta\n');
    const r = await fleet.mpop(['logs', 'n1', plain, '--since', '1h', '--json']);
    const n = JSON.parse(String(r.stdout)).nodes[0];
    expect(n.entries.map((e: LogEntry) => e.message)).toEqual(['alpha', 'beta']);
    expect(n.notes.join()).toContain('--since not applied');
  });

  it('a node without the source fails saying exactly what is missing; a down node is unreachable; the others are read', async () => {
    const r = await fleet.mpop(['logs', 'n1,down1', join(dir, 'nope.log'), '--json']);
    expect(r.exitCode).toBe(1);
    const nodes = Object.fromEntries((JSON.parse(String(r.stdout)).nodes as { node: string; outcome: string; error: { message: string } }[]).map((n) => [n.node, n]));
    expect(nodes.n1).toMatchObject({ outcome: 'failed', error: { message: `cannot read the log on n1: no ${join(dir, 'nope.log')}` } });
    expect(nodes.down1!.outcome).toBe('unreachable');
    const unit = await fleet.mpop(['logs', 'n2', 'ssh.service']);
    if (!existsSync('/run/systemd/journal/socket')) expect(String(unit.stderr)).toContain('n2: no systemd journal on n2, so no logs of the unit ssh.service');
    const ng = await fleet.mpop(['logs', 'n2', 'nginx', '--json']);
    if (!existsSync('/var/log/nginx')) expect(JSON.parse(String(ng.stdout)).nodes[0].error.message).toBe('no nginx logs on n2: no /var/log/nginx/access.log or /var/log/nginx/error.log');
    const pod = await fleet.mpop(['logs', 'n2', 'podman:web', '--json']);
    const hasPodman = (await execa('sh', ['-c', 'command -v podman'], { reject: false })).exitCode === 0;
    if (!hasPodman) expect(JSON.parse(String(pod.stdout)).nodes[0].error.message).toBe('no podman on n2');
  });

  it('falls back to the classic files or dmesg where there is no journal, and says which it read', async () => {
    if (existsSync('/run/systemd/journal/socket')) return; // this machine has a journal: the fallback is not taken
    const k = await fleet.mpop(['logs', 'n1', 'kernel', '--lines', '3', '--json']);
    const n = JSON.parse(String(k.stdout)).nodes[0];
    if (n.outcome === 'ok') {
      expect(n.sources).toEqual(['dmesg']);
      expect(n.notes).toContain('no systemd journal on n1: read dmesg');
      expect(n.entries).toHaveLength(3);
      // the ring buffer holds the kernel's lines and what programs write to /dev/kmsg (a journald elsewhere on this
      // machine: facility syslog), each with its facility as the unit
      expect(['kernel', 'user', 'daemon', 'auth', 'syslog', 'authpriv']).toContain(n.entries[0].unit);
      expect(typeof n.entries[0].priority).toBe('number');
      expect(Date.parse(n.entries[0].time)).toBeGreaterThan(Date.parse('2000-01-01'));
    } else expect(n.error.message).toMatch(/dmesg/);
    const sys = await fleet.mpop(['logs', 'n1', 'system', '--json']);
    const s = JSON.parse(String(sys.stdout)).nodes[0];
    if (existsSync('/var/log/syslog')) expect(s.sources).toEqual(['/var/log/syslog']);
    else if (!existsSync('/var/log/messages')) expect(s.error.message).toBe('no systemd journal and no system log on n1: no /var/log/syslog or /var/log/messages');
  });

  it('a container whose runtime cannot answer is a failure with the runtime\'s own words', async () => {
    const hasDocker = (await execa('sh', ['-c', 'command -v docker'], { reject: false })).exitCode === 0;
    const r = await fleet.mpop(['logs', 'n3', 'container:web', '--json']);
    const n = JSON.parse(String(r.stdout)).nodes[0];
    expect(n.outcome).toBe('failed');
    if (!hasDocker) expect(n.error.message).toMatch(/no docker or podman on n3|no docker/);
    else expect(n.error.message).toMatch(/^reading docker logs web on n3 failed \(exit 3\): .+/);
  });

  it('hostile names: a file path and a pattern with shell syntax are read as data, never run', async () => {
    const evil = join(dir, 'a b;$(touch PWNED1)`touch PWNED2`.log');
    writeFileSync(evil, 'x $(touch PWNED3) y\nplain\n');
    const r = await fleet.mpop(['logs', 'n1', evil, '--grep', '$(touch PWNED3)', '-F', '--json']);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(JSON.parse(String(r.stdout)).nodes[0].entries.map((e: LogEntry) => e.message)).toEqual(['x $(touch PWNED3) y']);
    for (const p of ['PWNED1', 'PWNED2', 'PWNED3', 'PWNED4']) expect(existsSync(join(dir, p)) || existsSync(p)).toBe(false);
  });

  it('bad input is a usage error, before any node is asked', async () => {
    for (const args of [['n1', 'relative/app.log'], ['n1', app, '--since', 'yesterday-ish'], ['n1', app, '--lines', '0'], ['n1', app, '--grep', '('], ['n1', 'container:bad name'], ['n1', '/var/../etc/shadow']]) {
      const r = await fleet.mpop(['logs', ...args]);
      expect(r.exitCode, args.join(' ') + String(r.stderr)).toBe(2);
      expect(String(r.stderr)).toMatch(/^mpop: /);
    }
    expect((await fleet.mpop(['logs', 'nosuch', 'system'])).exitCode).toBe(3);
  });

  it('--follow streams from every node; cancelling stops the remote tail -F; a node that drops is said and the others go on', async () => {
    const marker = `follow-${process.pid}-${Date.now()}.log`;
    const file = join(dir, marker);
    writeFileSync(file, `${iso(0)} first\n`);
    const got: { node: string; e: LogEntry }[] = [];
    const ac = new AbortController();
    const ended: string[] = [];
    const run = followFleet(fleet.pool, ['n1', 'n2'], parseLogSource(file), { lines: 10 }, {
      signal: ac.signal,
      onEntry: (node, e) => got.push({ node, e }),
      onProgress: (p) => p.last && ended.push(`${p.last.node}:${p.last.outcome}:${p.last.error?.code}:${p.last.error?.message}`),
    });
    await waitFor('the first line from both nodes', () => new Set(got.map((g) => g.node)).size === 2);
    appendFileSync(file, `${iso(0)} second\n`);
    await waitFor('the appended line from both nodes', () => got.filter((g) => g.e.message.endsWith('second')).length === 2);
    expect((await remoteReaders(marker)).length).toBeGreaterThanOrEqual(2);
    await fleet.stop('n2');
    await waitFor('n2 to drop', () => ended.some((x) => x.startsWith('n2:')));
    expect(ended.join()).toContain('n2:unreachable:MPOP_UNREACHABLE:n2 dropped the stream');
    appendFileSync(file, `${iso(0)} third\n`);
    await waitFor('n1 to go on', () => got.some((g) => g.node === 'n1' && g.e.message.endsWith('third')));
    ac.abort();
    const result = await run;
    expect(result.results.map((r) => [r.node, r.outcome])).toEqual([['n1', 'cancelled'], ['n2', 'unreachable']]);
    let left: string[] = [];
    for (let i = 0; i < 50; i++) {
      left = await remoteReaders(marker);
      if (!left.length) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(left).toEqual([]);
    await fleet.start('n2');
  });

  it('the built bin follows with --grep until SIGINT, and leaves no reader behind', async () => {
    const marker = `binfollow-${process.pid}-${Date.now()}.log`;
    const file = join(dir, marker);
    writeFileSync(file, 'boot ok\nboot error\n');
    const child = fleet.mpop(['logs', 'n1,n3', file, '--follow', '--grep', 'error']);
    let out = '';
    child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    await waitFor('the matching line from both', () => (out.match(/boot error/g) ?? []).length === 2);
    appendFileSync(file, 'late info\nlate error\n');
    await waitFor('the new matching line', () => (out.match(/late error/g) ?? []).length === 2);
    expect(out).not.toContain('late info');
    expect(out).toMatch(/^n1: boot error$/m);
    child.kill('SIGINT');
    const r = await child;
    expect(r.exitCode, String(r.stderr)).toBe(0);
    let left: string[] = [];
    for (let i = 0; i < 50; i++) {
      left = await remoteReaders(marker);
      if (!left.length) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    expect(left).toEqual([]);
  });

  it('the library returns typed per-node results', async () => {
    const run = await logsFleet(fleet.pool, ['n1', 'n2'], parseLogSource(app), { lines: 3, grep: 'ERROR' });
    expect(run.counts.ok).toBe(2);
    expect(run.results[0]!.value!.entries.map((e) => e.file)).toEqual([app, app, app]);
  });
});
