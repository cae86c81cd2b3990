import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fleet, loopFleet } from '../fleet.js';
import { MCP_BIN, mcpClient } from './client.js';

type R = { isError?: boolean; structuredContent?: any; content: { text: string }[] };
const FILE_TOOLS = ['vssh_read_file', 'vssh_write_file', 'vssh_list_files', 'vssh_stat', 'vssh_put', 'vssh_get', 'vssh_sync', 'mpop_file_diff'];
const DESTRUCTIVE = ['vssh_write_file', 'vssh_put', 'vssh_get', 'vssh_sync'];

describe('mpop-mcp files toolset over real loopback daemons', () => {
  let fleet: Fleet;
  let client: Client;
  let bare: Client;
  let dir: string;
  beforeAll(async () => {
    fleet = await loopFleet(2);
    await fleet.addDown('gone1');
    await fleet.addSilent('mute1');
    dir = mkdtempSync(join(tmpdir(), 'mpop-mcp-files-'));
    const env = { ...(process.env as Record<string, string>), ...fleet.env };
    client = new Client({ name: 'files-agent', version: '1.0.0' });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [MCP_BIN, '--toolsets', 'all', ...DESTRUCTIVE.flatMap((t) => ['--allow', t])], env }));
    await client.listTools();
    bare = await mcpClient(fleet, ['--toolsets', 'all'], { name: 'files-bare' });
    await bare.listTools();
  }, 60_000);
  afterAll(async () => {
    await client?.close();
    await bare?.close();
    await fleet?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const call = async (name: string, args: Record<string, unknown> = {}, c = client) => (await c.callTool({ name, arguments: args })) as R;

  it('annotations tell the truth: writers are destructive, readers read-only', async () => {
    const tools = (await client.listTools()).tools.filter((t) => FILE_TOOLS.includes(t.name));
    expect(tools.map((t) => t.name).sort()).toEqual([...FILE_TOOLS].sort());
    for (const t of tools) {
      if (DESTRUCTIVE.includes(t.name)) expect(t.annotations, t.name).toMatchObject({ readOnlyHint: false, destructiveHint: true });
      else expect(t.annotations?.readOnlyHint, t.name).toBe(true);
    }
  });

  it('write then read back byte-equal, with a line range; stat hashes it; list shows it', async () => {
    const path = join(dir, 'a.txt');
    const content = 'one\ntwo\nthree é\nfour\n';
    const w = await call('vssh_write_file', { node: 'n1', path, content, mode: '0600' });
    expect(w.isError, w.content[0]?.text).toBeFalsy();
    expect(w.structuredContent).toMatchObject({ node: 'n1', path, bytes: Buffer.byteLength(content), mode: '0600', written: true });
    expect(readFileSync(path, 'utf8')).toBe(content);
    const r = await call('vssh_read_file', { node: 'n1', path });
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent.content + '\n').toBe(content);
    expect(r.structuredContent.lines).toEqual({ from: 1, to: 4, total: 4 });
    const part = await call('vssh_read_file', { node: 'n1', path, lines: '2-3' });
    expect(part.structuredContent.content).toBe('two\nthree é');
    expect(part.structuredContent.lines).toEqual({ from: 2, to: 3, total: 4 });
    const s = await call('vssh_stat', { node: 'n2', path, hash: true });
    expect(s.structuredContent.file).toMatchObject({ type: 'file', size: Buffer.byteLength(content), mode: '0600', sha256: createHash('sha256').update(content).digest('hex') });
    const l = await call('vssh_list_files', { node: 'n1', path: dir });
    expect(l.structuredContent.entries.map((e: { path: string }) => e.path)).toContain('a.txt');
    expect(l.structuredContent.truncated).toBe(false);
  });

  it('destructive tools are refused without a grant, and nothing is written', async () => {
    const path = join(dir, 'refused.txt');
    for (const [name, args] of [
      ['vssh_write_file', { node: 'n1', path, content: 'x' }],
      ['vssh_put', { target: 'n1', local: join(dir, 'a.txt'), dest: path }],
      ['vssh_sync', { target: 'n1', local: dir, dest: join(dir, 'never') }],
      ['vssh_get', { node: 'n1', path: join(dir, 'a.txt'), local: join(dir, 'never-local') }],
    ] as const) {
      const r = await call(name, args, bare);
      expect(r.isError, name).toBe(true);
      expect(r.content[0]!.text.toLowerCase(), name).toMatch(/refus|allow|confirm/);
    }
    expect(existsSync(path)).toBe(false);
    expect(existsSync(join(dir, 'never'))).toBe(false);
    expect(existsSync(join(dir, 'never-local'))).toBe(false);
  });

  it('put, sync (dry run, then real with delete), get and file_diff move real bytes', async () => {
    const src = join(dir, 'src');
    mkdirSync(src);
    writeFileSync(join(src, 'x.conf'), 'x=1\n');
    writeFileSync(join(src, 'y.conf'), 'y=2\n');
    const put = await call('vssh_put', { target: 'n1,n2', local: join(src, 'x.conf'), dest: join(dir, 'put-x.conf') });
    expect(put.isError, put.content[0]?.text).toBeFalsy();
    expect(put.structuredContent.nodes.map((n: { outcome: string }) => n.outcome)).toEqual(['ok', 'ok']);
    expect(readFileSync(join(dir, 'put-x.conf'), 'utf8')).toBe('x=1\n');
    const mirror = join(dir, 'mirror');
    mkdirSync(mirror);
    writeFileSync(join(mirror, 'stale.conf'), 'old\n');
    const dry = await call('vssh_sync', { target: 'n1', local: src, dest: mirror, dryRun: true });
    expect(dry.isError, dry.content[0]?.text).toBeFalsy();
    const dv = dry.structuredContent.nodes[0].value.dryRun;
    expect(dv.send.length).toBe(2);
    expect(dv.delete.join(' ')).toContain('stale.conf');
    expect(existsSync(join(mirror, 'stale.conf'))).toBe(true);
    const sync = await call('vssh_sync', { target: 'n1', local: src, dest: mirror });
    expect(sync.isError, sync.content[0]?.text).toBeFalsy();
    expect(existsSync(join(mirror, 'stale.conf'))).toBe(false);
    expect(readFileSync(join(mirror, 'y.conf'), 'utf8')).toBe('y=2\n');
    const back = join(dir, 'back');
    mkdirSync(back);
    const g = await call('vssh_get', { node: 'n2', path: join(dir, 'put-x.conf'), local: back });
    expect(g.isError, g.content[0]?.text).toBeFalsy();
    expect(readFileSync(join(back, 'put-x.conf'), 'utf8')).toBe('x=1\n');
    const same = await call('mpop_file_diff', { target: 'n1,n2', path: join(dir, 'put-x.conf') });
    expect(same.structuredContent.identical).toBe(true);
    const missing = await call('mpop_file_diff', { target: 'n1,n2', path: join(dir, 'no-such-file') });
    expect(missing.structuredContent.identical).toBe(false);
    expect(missing.structuredContent.versions[0]).toMatchObject({ sha256: null, reason: 'missing', nodes: ['n1', 'n2'] });
  });

  it('a down node and a silent node are reported apart by fan-out tools, the others answer', async () => {
    writeFileSync(join(dir, 'fan.txt'), 'fan\n');
    const d = await call('mpop_file_diff', { target: 'n1,gone1,mute1', path: join(dir, 'fan.txt') });
    expect(d.isError).toBe(true);
    expect(d.structuredContent.versions[0].nodes).toEqual(['n1']);
    expect(d.structuredContent.unreachable.map((u: { node: string }) => u.node).sort()).toEqual(['gone1', 'mute1']);
    const p = await call('vssh_put', { target: 'n1,gone1,mute1', local: join(dir, 'fan.txt'), dest: join(dir, 'fan2.txt'), timeoutSeconds: 3 });
    expect(p.isError).toBe(true);
    const outcomes = Object.fromEntries(p.structuredContent.nodes.map((n: { node: string; outcome: string }) => [n.node, n.outcome]));
    expect(outcomes.n1).toBe('ok');
    expect(outcomes.gone1).not.toBe('ok');
    expect(outcomes.mute1).not.toBe('ok');
    const r = await call('vssh_read_file', { node: 'gone1', path: join(dir, 'fan.txt') });
    expect(r.isError).toBe(true);
    expect(r.content[0]!.text).toContain('gone1');
  }, 60_000);

  it('hostile paths, binary, huge and missing files are refused plainly, and the server keeps serving', async () => {
    for (const path of ['etc/passwd', '../etc/passwd', '', 'a\0b', `/${'a'.repeat(5000)}`, '/tmp/\0/x']) {
      const r = await call('vssh_read_file', { node: 'n1', path });
      expect(r.isError, JSON.stringify(path.slice(0, 20))).toBe(true);
      expect(r.content[0]!.text.length).toBeGreaterThan(10);
    }
    const rel = await call('vssh_write_file', { node: 'n1', path: '../x', content: 'x' });
    expect(rel.isError).toBe(true);
    expect(rel.content[0]!.text).toContain('absolute');
    const bin = join(dir, 'bin.dat');
    writeFileSync(bin, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 0xff]));
    const b = await call('vssh_read_file', { node: 'n1', path: bin });
    expect(b.isError).toBe(true);
    expect(b.structuredContent).toMatchObject({ content: null, reason: expect.stringContaining('binary') });
    const big = join(dir, 'big.log');
    writeFileSync(big, 'line\n'.repeat(300_000));
    const h = await call('vssh_read_file', { node: 'n1', path: big });
    expect(h.isError).toBe(true);
    expect(h.structuredContent.content).toBeNull();
    expect(h.structuredContent.file.size).toBe(1_500_000);
    expect(h.structuredContent.reason).toMatch(/over the limit.*maxBytes/);
    const m = await call('vssh_read_file', { node: 'n1', path: join(dir, 'nope.txt') });
    expect(m.isError).toBe(true);
    expect(m.content[0]!.text).toMatch(/nope\.txt/);
    const dirRead = await call('vssh_read_file', { node: 'n1', path: dir });
    expect(dirRead.content[0]!.text).toContain('vssh_list_files');
    const badRange = await call('vssh_read_file', { node: 'n1', path: join(dir, 'a.txt'), lines: '9-3' });
    expect(badRange.isError).toBe(true);
    expect(badRange.content[0]!.text).toContain('10-40');
    const many = await call('vssh_stat', { node: 'n*', path: dir });
    expect(many.content[0]!.text).toContain('takes one node');
    const lim = await call('vssh_list_files', { node: 'n1', path: dir, limit: 1 });
    expect(lim.structuredContent.truncated).toBe(true);
    expect(lim.structuredContent.entries).toHaveLength(1);
  }, 60_000);

  it('bad argument types are tool errors for every files tool; the server goes on', async () => {
    const bad: Record<string, Record<string, unknown>> = {
      vssh_read_file: { node: 'n1', path: 42 },
      vssh_write_file: { node: 'n1', path: '/tmp/x', content: { a: 1 } },
      vssh_list_files: { node: 'n1', path: dir, limit: -1 },
      vssh_stat: { node: ['n1'], path: dir },
      vssh_put: { target: 'n1', local: 7, dest: '/tmp/x' },
      vssh_get: { node: 'n1', path: '/tmp/x', local: null },
      vssh_sync: { target: 'n1', local: dir, dest: '/tmp/x', dryRun: 'yes' },
      mpop_file_diff: { target: 'n1', path: '/etc/hostname', maxBytes: 'big' },
    };
    for (const [name, args] of Object.entries(bad)) {
      const r = await call(name, args);
      expect(r.isError, name).toBe(true);
    }
    expect((await call('vssh_stat', { node: 'n1', path: dir })).isError).toBeFalsy();
  });
});
