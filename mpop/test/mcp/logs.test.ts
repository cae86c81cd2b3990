import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fleet, loopFleet } from '../fleet.js';
import { mcpClient } from './client.js';
import { canJournal, startJournalNode, type JournalNode } from '../journald-node.js';

/**
 * The logs toolset through the SDK's own Client against loopback daemons. n1 and n2 are this machine
 * (their answers are checked against the files the test writes, `dmesg` run here, and whether this machine
 * has a journal); j1, where root, unshare and systemd-journald allow, is a daemon in a private mount
 * namespace with a real journald on a tmpfs /run, so journal entries are real ones.
 */
const LOG_TOOLS = ['mpop_logs', 'mpop_log_search', 'mpop_journal_errors', 'mpop_dmesg'];
/** hostJournal: this machine's own journal, as the probe looks for it (then n1 reads journald, not "no journal"). */
const hostJournal = existsSync('/run/systemd/journal/socket');
type R = { isError?: boolean; structuredContent?: any; content: { text: string }[] };

describe('mpop-mcp logs toolset over real loopback daemons', () => {
  let fleet: Fleet;
  let client: Client;
  let dir: string;
  let app: string;
  let journald: JournalNode | undefined;
  const now = Date.now();
  const at = (agoMs: number): string => new Date(now - agoMs).toISOString();
  const tag = `mpopmcp${process.pid}`;
  beforeAll(async () => {
    fleet = await loopFleet(2);
    await fleet.addDown('gone1');
    dir = mkdtempSync(join(tmpdir(), 'mpop-mcp-logs-'));
    app = join(dir, 'app.log');
    writeFileSync(app, [`${at(2 * 3600_000)} app started`, `${at(30 * 60_000)} request timeout upstream=db`, `${at(20 * 60_000)} request ok`, `${at(60_000)} request timeout upstream=cache`, ''].join('\n'));
    if (canJournal) {
      journald = await startJournalNode(fleet);
      const put = await fleet.mpop(['exec', 'j1', '--shell', `echo "disk error on sda ${tag}" | systemd-cat -t ${tag} -p err; echo "all fine ${tag}" | systemd-cat -t ${tag} -p info`]);
      expect(put.exitCode, String(put.stderr)).toBe(0);
    }
    client = await mcpClient(fleet, ['--toolsets', 'logs'], { name: 'logs-agent' });
  }, 120_000);
  afterAll(async () => {
    await client?.close();
    journald?.stop();
    await fleet?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const call = async (name: string, args: Record<string, unknown> = {}) => (await client.callTool({ name, arguments: args })) as R;
  const byNode = (r: R): Record<string, any> => Object.fromEntries(r.structuredContent.nodes.map((n: { node: string }) => [n.node, n]));

  it('lists the four log tools, read-only and open-world, every field described, no follow', async () => {
    const tools = (await client.listTools()).tools.filter((t) => LOG_TOOLS.includes(t.name));
    expect(tools.map((t) => t.name).sort()).toEqual([...LOG_TOOLS].sort());
    for (const t of tools) {
      expect(t.annotations, t.name).toMatchObject({ readOnlyHint: true, destructiveHint: false, openWorldHint: true });
      expect(t.outputSchema, t.name).toBeDefined();
      for (const [field, schema] of Object.entries(t.inputSchema.properties ?? {})) expect((schema as { description?: string }).description, `${t.name}.${field}`).toBeTruthy();
      expect(Object.keys(t.inputSchema.properties ?? {}), t.name).not.toContain('follow');
    }
    expect(tools.find((t) => t.name === 'mpop_logs')!.description).toMatch(/call again with since/);
  });

  it('mpop_logs reads a real file on two nodes: the lines as written, folded in the text, since/until/lines/grep applied', async () => {
    const r = await call('mpop_logs', { target: 'n1,n2', source: app });
    expect(r.isError, r.content[0]?.text).toBeFalsy();
    const written = readFileSync(app, 'utf8').trim().split('\n');
    for (const n of ['n1', 'n2']) {
      expect(byNode(r)[n].outcome).toBe('ok');
      expect(byNode(r)[n].value.sources).toEqual([app]);
      expect(byNode(r)[n].value.entries.map((e: { message: string }) => e.message)).toEqual(written);
      expect(byNode(r)[n].value.entries[0].time).toBe(at(2 * 3600_000));
    }
    // identical outputs of n1 and n2 are one block headed by both
    expect(r.content[0]!.text).toMatch(/^== n\[1-2\] ==$/m);
    expect(r.content[0]!.text.split('request ok').length).toBe(2);
    const since = await call('mpop_logs', { target: 'n1', source: app, since: '1h' });
    expect(since.structuredContent.nodes[0].value.entries.map((e: { message: string }) => e.message)).toEqual(written.slice(1));
    const until = await call('mpop_logs', { target: 'n1', source: app, since: '1h', until: '10m' });
    expect(until.structuredContent.nodes[0].value.entries.map((e: { message: string }) => e.message)).toEqual(written.slice(1, 3));
    const last = await call('mpop_logs', { target: 'n1', source: app, lines: 1 });
    expect(last.structuredContent.nodes[0].value.entries.map((e: { message: string }) => e.message)).toEqual([written[3]]);
    const grep = await call('mpop_logs', { target: 'n1', source: app, grep: 'TIMEOUT upstream=(db|cache)', ignoreCase: true });
    expect(grep.structuredContent.nodes[0].value.entries.map((e: { message: string }) => e.message)).toEqual([written[1], written[3]]);
    const fixed = await call('mpop_logs', { target: 'n1', source: app, grep: 'upstream=(db', fixedStrings: true });
    expect(fixed.structuredContent.nodes[0].value.entries).toEqual([]);
  }, 60_000);

  it('priority on a file keeps the lines whose level is err or worse, and says so where lines name no level; kernel falls back to dmesg', async () => {
    const pad = (n: number): string => String(n).padStart(2, '0');
    const d = new Date(now - 5 * 60_000);
    const stamp = `${d.getFullYear()}/${pad(d.getMonth() + 1)}/${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
    const errors = join(dir, 'error.log');
    writeFileSync(errors, [`${stamp} [notice] 1#1: start worker`, `${stamp} [error] 1#1: upstream timed out`, `${stamp} [crit] 1#1: disk full`, `${stamp} [warn] 1#1: slow`, ''].join('\n'));
    const r = await call('mpop_logs', { target: 'n1', source: errors, priority: 'err' });
    expect(r.structuredContent.nodes[0].value.entries.map((e: { message: string; priority: number }) => [e.message.slice(20), e.priority])).toEqual([['[error] 1#1: upstream timed out', 3], ['[crit] 1#1: disk full', 2]]);
    const plain = await call('mpop_logs', { target: 'n1', source: app, priority: 'err' });
    expect(plain.structuredContent.nodes[0].value.entries.length).toBe(4);
    expect(plain.structuredContent.nodes[0].value.notes).toEqual([`priority not applied to ${app} on n1: its lines name no level mpop can read`]);
    if (hostJournal) return;
    const kernel = await call('mpop_logs', { target: 'n1', source: 'kernel', lines: 3 });
    const v = kernel.structuredContent.nodes[0].value;
    if (v.present) {
      expect(v.sources).toEqual(['dmesg']);
      expect(v.notes).toContain('no systemd journal on n1: read dmesg');
    } else expect(v.reason).toMatch(/no kernel log on n1/);
  }, 60_000);

  it('a huge line is cut in the result; a missing file and a unit without journald are said plainly', async () => {
    const big = join(dir, 'big.log');
    writeFileSync(big, `${'x'.repeat(10_000)}\nshort\n`);
    const r = await call('mpop_logs', { target: 'n1', source: big });
    const [first, second] = r.structuredContent.nodes[0].value.entries;
    expect(first.message.length).toBeLessThan(2100);
    expect(first.message).toContain('[10000 chars, cut]');
    expect(second.message).toBe('short');
    const missing = await call('mpop_logs', { target: 'n1,n2', source: join(dir, 'nope.log') });
    expect(missing.isError).toBe(true);
    expect(byNode(missing).n1.value).toEqual({ present: false, reason: `cannot read the log on n1: no ${join(dir, 'nope.log')}` });
    expect(missing.content[0]!.text).toContain('No node of the target has that log source');
    const unit = await call('mpop_logs', { target: 'n1', source: 'ssh.service' });
    if (hostJournal) expect(unit.structuredContent.nodes[0].value.present).toBe(true);
    else expect(unit.structuredContent.nodes[0].value).toEqual({ present: false, reason: 'no systemd journal on n1, so no logs of the unit ssh.service (a unit\'s logs live in journald)' });
  }, 60_000);

  it('mpop_journal_errors: a node without journald says so; a real journald counts the err entry and not the info one', async () => {
    const r = await call('mpop_journal_errors', { target: canJournal ? 'n1,j1' : 'n1', since: '1h' });
    const n1 = byNode(r).n1;
    expect(n1.outcome).toBe('ok');
    if (hostJournal) expect(n1.value.present).toBe(true);
    else {
      expect(n1.value).toEqual({ present: false, reason: expect.stringMatching(/^no systemd journal on n1 \(journald is not running there.*\), so it has no journal errors to count$/) });
      if (!canJournal) expect(r.isError).toBe(true);
    }
    if (!canJournal) return;
    let j1: any;
    for (let i = 0; i < 30; i++) {
      j1 = byNode(await call('mpop_journal_errors', { target: 'j1', since: '1h' })).j1;
      if (j1.value?.last?.some((e: { message: string }) => e.message.includes(tag))) break;
      await new Promise((res) => setTimeout(res, 300));
    }
    expect(j1.outcome).toBe('ok');
    const mine = j1.value.last.filter((e: { identifier?: string }) => e.identifier === tag);
    expect(mine.map((e: { message: string; priority: number }) => [e.message, e.priority])).toEqual([[`disk error on sda ${tag}`, 3]]);
    expect(j1.value.last.every((e: { priority: number }) => e.priority <= 3)).toBe(true);
    expect(j1.value.count).toBeGreaterThanOrEqual(1);
    expect(j1.value.byUnit.reduce((t: number, u: { count: number }) => t + u.count, 0)).toBe(j1.value.count);
    // mpop_logs reads the same journal: both lines, with their priorities
    const all = await call('mpop_logs', { target: 'j1', source: 'system', grep: tag });
    expect(all.structuredContent.nodes[0].value.sources).toEqual(['journald']);
    expect(all.structuredContent.nodes[0].value.entries.map((e: { message: string }) => e.message).sort()).toEqual([`all fine ${tag}`, `disk error on sda ${tag}`]);
    const errOnly = await call('mpop_logs', { target: 'j1', source: 'system', grep: tag, priority: 'err' });
    expect(errOnly.structuredContent.nodes[0].value.entries.map((e: { message: string }) => e.message)).toEqual([`disk error on sda ${tag}`]);
  }, 120_000);

  it('mpop_log_search says which nodes matched, how many each, and an error result when nothing matched', async () => {
    const r = await call('mpop_log_search', { target: 'n1,n2,gone1', source: app, pattern: 'timeout', timeoutSeconds: 10 });
    expect(r.structuredContent.matched).toEqual(['n1', 'n2']);
    expect(r.structuredContent.total).toBe(4);
    expect(byNode(r).n1.value).toMatchObject({ present: true, count: 2, capped: false });
    expect(byNode(r).n1.value.entries.map((e: { message: string }) => e.message)).toEqual(readFileSync(app, 'utf8').split('\n').filter((l) => l.includes('timeout')));
    expect(byNode(r).gone1.outcome).toBe('unreachable');
    expect(r.isError).toBe(true); // gone1 could not be searched
    const one = await call('mpop_log_search', { target: 'n1', source: app, pattern: 'timeout', lines: 1 });
    expect(one.structuredContent.nodes[0].value.count).toBe(2);
    expect(one.structuredContent.nodes[0].value.entries.length).toBe(1);
    const none = await call('mpop_log_search', { target: 'n1,n2', source: app, pattern: `never-${tag}` });
    expect(none.isError).toBe(true);
    expect(none.structuredContent.matched).toEqual([]);
    expect(none.content[0]!.text).toMatch(/^no node matched/);
    if (canJournal) {
      let s: R | undefined;
      for (let i = 0; i < 20; i++) {
        s = await call('mpop_log_search', { target: 'n1,j1', pattern: `disk error on sda ${tag}` });
        if (s.structuredContent.matched.includes('j1')) break;
        await new Promise((res) => setTimeout(res, 300));
      }
      expect(s!.structuredContent.matched).toEqual(['j1']);
      expect(byNode(s!).j1.value.count).toBe(1);
      if (!hostJournal) expect(byNode(s!).n1.value.present).toBe(false);
    }
  }, 120_000);

  it('mpop_dmesg gives this machine\'s kernel ring buffer, and level keeps that level and worse', async () => {
    const real = await execa('dmesg', ['-x', '--time-format', 'iso'], { reject: false });
    const r = await call('mpop_dmesg', { target: 'n1', lines: 5 });
    const v = r.structuredContent.nodes[0].value;
    if (real.exitCode !== 0) {
      expect(v.present).toBe(false);
      expect(v.reason).toMatch(/does not let its vssh daemon's user read the kernel ring buffer|no dmesg/);
      return;
    }
    expect(r.isError, r.content[0]?.text).toBeFalsy();
    const lines = real.stdout.trim().split('\n');
    expect(v.entries.length).toBe(Math.min(5, lines.length));
    // the ring buffer may have grown between the two reads: every entry is a real line of it
    for (const e of v.entries) expect(real.stdout + (await execa('dmesg', ['-x', '--time-format', 'iso'])).stdout).toContain(e.message);
    const err = await call('mpop_dmesg', { target: 'n1', level: 'err', lines: 1000 });
    const ev = err.structuredContent.nodes[0].value;
    const realErr = (await execa('dmesg', ['--level', 'emerg,alert,crit,err'], { reject: false })).stdout.trim();
    expect(ev.entries.length).toBe(realErr ? realErr.split('\n').length : 0);
    for (const e of ev.entries) expect(e.priority).toBeLessThanOrEqual(3);
    const info = await call('mpop_dmesg', { target: 'n1', level: 'debug', lines: 1000 });
    expect(info.structuredContent.nodes[0].value.entries.length).toBeGreaterThanOrEqual(ev.entries.length);
  }, 60_000);

  it('bad arguments are tool errors, a down node is its own outcome, and the server keeps serving', async () => {
    const bad: [string, Record<string, unknown>][] = [
      ['mpop_logs', { target: 'n1', source: 'var/log/syslog' }],
      ['mpop_logs', { target: 'n1', source: '/var/../etc/shadow' }],
      ['mpop_logs', { target: 'n1', source: app, since: 'last tuesday' }],
      ['mpop_logs', { target: 'n1', source: app, until: 'soon' }],
      ['mpop_logs', { target: 'n1', source: app, grep: '(' }],
      ['mpop_logs', { target: 'n1', source: app, lines: 0 }],
      ['mpop_logs', { target: 'n1', source: app, priority: 'loud' }],
      ['mpop_logs', { source: app }],
      ['mpop_logs', { target: 'no-such-node', source: app }],
      ['mpop_log_search', { target: 'n1', pattern: '' }],
      ['mpop_log_search', { target: 'n1', pattern: 'a\nb' }],
      ['mpop_journal_errors', { target: 'n1', since: 'forever' }],
      ['mpop_dmesg', { target: 'n1', level: 'panicky' }],
    ];
    for (const [name, args] of bad) {
      const r = await call(name, args);
      expect(r.isError, `${name} ${JSON.stringify(args)}`).toBe(true);
      expect(r.structuredContent, `${name} ${JSON.stringify(args)}`).toBeUndefined();
    }
    const down = await call('mpop_logs', { target: 'n1,gone1', source: app, timeoutSeconds: 10 });
    expect(down.isError).toBe(true);
    expect(byNode(down).gone1.outcome).toBe('unreachable');
    expect(byNode(down).n1.outcome).toBe('ok');
    expect(down.content[0]!.text).toMatch(/gone1: unreachable/);
  }, 60_000);
});
