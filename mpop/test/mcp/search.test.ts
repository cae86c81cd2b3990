import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fleet, loopFleet } from '../fleet.js';
import { mcpClient } from './client.js';

type R = { isError?: boolean; structuredContent?: any; content: { text: string }[] };
const TOOLS = ['meshdb_search', 'meshdb_semantic', 'meshdb_find', 'meshdb_read', 'meshdb_status', 'meshdb_index'];
const MARK = 'PLANTEDMARK7Q';

/** tree writes files under a fresh folder and returns it. */
function tree(files: Record<string, string | Buffer>): string {
  const dir = mkdtempSync(join(tmpdir(), 'mpop-mcp-search-'));
  for (const [p, body] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), body);
  }
  return dir;
}

const SERVER_TS = ['import { writeFile } from "node:fs/promises";', '', 'export async function save(p: string) {', '  // ENOSPC: the disk is full', '  return writeFile(p, "x");', '}', '', 'const codes = ["ENOSPC", "EACCES"];', ''].join('\n');

describe('mpop-mcp search toolset over meshdb and real loopback daemons', () => {
  let fleet: Fleet;
  let client: Client;
  let ro: Client;
  let dir: string;
  beforeAll(async () => {
    fleet = await loopFleet(2);
    dir = tree({
      'app/server.ts': SERVER_TS,
      'etc/nginx/nginx.conf': 'server {\n  listen 443 ssl;\n  server_name example.org;\n}\n',
      'docs/keys.md': '# Key rotation\nEvery quarter we rotate the SSH keys of each host.\n',
      // planted secrets: every one carries MARK, and none may ever be found
      '.env': `API_TOKEN=${MARK}\n`,
      'deploy/id_ed25519': `-----BEGIN OPENSSH PRIVATE KEY-----\n${MARK}\n-----END OPENSSH PRIVATE KEY-----\n`,
      'config/settings.txt': `region = eu\naws = AKIAIOSFODNN7EXAMPLE ${MARK}\n`,
      'data/blob.txt': Buffer.concat([Buffer.from(MARK), Buffer.from([0, 1, 2, 0])]),
    });
    client = await mcpClient(fleet, ['--toolsets', 'core,search', '--deadline', '300'], { name: 'search-agent' });
    ro = await mcpClient(fleet, ['--toolsets', 'search', '--read-only'], { name: 'search-ro' });
  }, 120_000);
  afterAll(async () => {
    await client?.close();
    await ro?.close();
    await fleet?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const call = async (name: string, args: Record<string, unknown> = {}, c = client) => (await c.callTool({ name, arguments: args }, undefined, { timeout: 300_000 })) as R;

  it('lists the six tools with honest annotations; read-only mode hides meshdb_index and refuses nothing else', async () => {
    const tools = (await client.listTools()).tools.filter((t) => t.name.startsWith('meshdb_'));
    expect(tools.map((t) => t.name).sort()).toEqual([...TOOLS].sort());
    for (const t of tools) {
      if (t.name === 'meshdb_index') expect(t.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true });
      else expect(t.annotations, t.name).toMatchObject({ readOnlyHint: true, destructiveHint: false });
      for (const [k, v] of Object.entries((t.inputSchema.properties ?? {}) as Record<string, { description?: string }>)) expect(v.description, `${t.name}.${k}`).toBeTruthy();
    }
    const roTools = (await ro.listTools()).tools.map((t) => t.name).filter((n) => n.startsWith('meshdb_'));
    expect(roTools.sort()).toEqual(TOOLS.filter((t) => t !== 'meshdb_index').sort());
  });

  it('before anything is indexed: status says how to index, search says nothing matched', async () => {
    const s = await call('meshdb_status');
    expect(s.isError).toBeFalsy();
    expect(s.structuredContent).toMatchObject({ nodes: [], totals: { nodes: 0, files: 0 } });
    expect(s.content[0]!.text).toContain('meshdb_index');
    const q = await call('meshdb_search', { query: 'ENOSPC', mode: 'literal' });
    expect(q.isError).toBe(true);
    expect(q.structuredContent.hits).toEqual([]);
    expect(q.content[0]!.text).toContain('meshdb_index');
  });

  it('indexes a real tree on both nodes through vssh, with progress; the planted secrets and the binary are counted, never stored', async () => {
    const progress: { progress: number; total?: number; message?: string }[] = [];
    const r = (await client.callTool({ name: 'meshdb_index', arguments: { target: 'n1,n2', paths: [dir] } }, undefined, { onprogress: (p) => progress.push(p), timeout: 300_000 })) as R;
    expect(r.isError, r.content[0]?.text).toBeFalsy();
    expect(r.structuredContent.nodes.map((n: { node: string }) => n.node)).toEqual(['n1', 'n2']);
    for (const n of r.structuredContent.nodes) {
      expect(n, n.node).toMatchObject({ ok: true, stale: false, roots: [dir], listed: 7, added: 3, changed: 0, deleted: 0 });
      expect(n.skipped, n.node).toEqual({ 'secret-name': 2, 'secret-content': 1, binary: 1 });
    }
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)).toMatchObject({ progress: 2, total: 2 });
    // the shards on disk hold none of the secrets
    for (const node of ['n1', 'n2']) expect(readFileSync(join(fleet.home, 'meshdb', 'nodes', `${node}.db`)).includes(MARK), node).toBe(false);
    // a second run reads nothing: every file is unchanged
    const again = await call('meshdb_index', { target: 'n1', paths: [dir] });
    expect(again.structuredContent.nodes[0]).toMatchObject({ ok: true, added: 0, changed: 0, unchanged: 3, bytesRead: 0 });
  }, 300_000);

  it('search finds a string on both nodes, on the right lines; the planted secrets are never found', async () => {
    const r = await call('meshdb_search', { query: 'ENOSPC', mode: 'literal' });
    expect(r.isError, r.content[0]?.text).toBeFalsy();
    const file = join(dir, 'app/server.ts');
    expect(r.structuredContent.hits.map((h: { ref: string }) => h.ref)).toEqual([`n1:${file}:4`, `n2:${file}:4`]);
    for (const h of r.structuredContent.hits) {
      expect(h.matches).toBe(2);
      expect(h.lines.map((l: { line: number }) => l.line)).toEqual([4, 8]);
      expect(h.lines[1].text).toBe(SERVER_TS.split('\n')[7]);
      const [a, b] = h.lines[1].ranges[0];
      expect(h.lines[1].text.slice(a, b)).toBe('ENOSPC');
    }
    expect(r.content[0]!.text).toContain(`n2:${file}:8: const codes = ["ENOSPC", "EACCES"];`);
    for (const mode of ['literal', 'words', 'regex']) {
      const s = await call('meshdb_search', { query: MARK, mode });
      expect(s.isError, mode).toBe(true);
      expect(s.structuredContent.hits, mode).toEqual([]);
    }
    const aws = await call('meshdb_search', { query: 'AKIAIOSFODNN7EXAMPLE', mode: 'literal' });
    expect(aws.structuredContent.hits).toEqual([]);
  });

  it('search narrows by node, type and path, and speaks regex, words and fts', async () => {
    const one = await call('meshdb_search', { query: 'ENO[A-Z]+', mode: 'regex', node: 'n2' });
    expect(one.structuredContent.hits.map((h: { node: string }) => h.node)).toEqual(['n2']);
    const conf = await call('meshdb_search', { query: 'server', mode: 'literal', types: ['conf'] });
    expect(conf.structuredContent.hits.map((h: { path: string }) => h.path)).toEqual([join(dir, 'etc/nginx/nginx.conf'), join(dir, 'etc/nginx/nginx.conf')]);
    const inApp = await call('meshdb_search', { query: 'ENOSPC', mode: 'literal', path: `${dir}/app/**` });
    expect(inApp.structuredContent.hits.map((h: { ref: string }) => h.ref)).toEqual([`n1:${join(dir, 'app/server.ts')}:4`, `n2:${join(dir, 'app/server.ts')}:4`]);
    const inEtc = await call('meshdb_search', { query: 'ENOSPC', mode: 'literal', path: `${dir}/etc/**` });
    expect(inEtc.isError).toBe(true);
    expect(inEtc.structuredContent.hits).toEqual([]);
    const words = await call('meshdb_search', { query: 'rotate keys', node: 'n1' });
    expect(words.structuredContent.hits[0]).toMatchObject({ node: 'n1', path: join(dir, 'docs/keys.md'), ref: `n1:${join(dir, 'docs/keys.md')}:2` });
    const fts = await call('meshdb_search', { query: 'rotate NOT nginx', mode: 'fts', node: 'n1' });
    expect(fts.structuredContent.hits.map((h: { path: string }) => h.path)).toEqual([join(dir, 'docs/keys.md')]);
  });

  it('find matches names and globs; read returns the lines of an indexed file and refuses a skipped one', async () => {
    const f = await call('meshdb_find', { pattern: 'nginx.conf' });
    expect(f.isError).toBeFalsy();
    expect(f.structuredContent.hits.map((h: { ref: string }) => h.ref)).toEqual([`n1:${dir}/etc/nginx/nginx.conf`, `n2:${dir}/etc/nginx/nginx.conf`]);
    expect(f.structuredContent.hits[0].size).toBe(Buffer.byteLength('server {\n  listen 443 ssl;\n  server_name example.org;\n}\n'));
    const glob = await call('meshdb_find', { pattern: '*.ts', node: 'n1' });
    expect(glob.structuredContent.hits.map((h: { path: string }) => h.path)).toEqual([join(dir, 'app/server.ts')]);
    for (const pattern of ['.env', 'id_ed25519', 'blob.txt', 'settings.txt']) {
      const none = await call('meshdb_find', { pattern });
      expect(none.isError, pattern).toBe(true);
      expect(none.structuredContent.hits, pattern).toEqual([]);
    }
    const file = join(dir, 'app/server.ts');
    const r = await call('meshdb_read', { ref: `n2:${file}:4`, lines: '4-5' });
    expect(r.isError, r.content[0]?.text).toBeFalsy();
    expect(r.structuredContent).toMatchObject({ node: 'n2', path: file, content: SERVER_TS.split('\n').slice(3, 5).join('\n'), lines: { from: 4, to: 5, total: 8 } });
    const whole = await call('meshdb_read', { ref: `n1:${file}` });
    expect(whole.structuredContent.content + '\n').toBe(SERVER_TS);
    const fromRef = await call('meshdb_read', { ref: `n1:${file}:7-8` });
    expect(fromRef.structuredContent.lines).toEqual({ from: 7, to: 8, total: 8 });
    for (const secret of ['.env', 'deploy/id_ed25519', 'config/settings.txt']) {
      const s = await call('meshdb_read', { ref: `n1:${join(dir, secret)}` });
      expect(s.isError, secret).toBe(true);
      expect(s.structuredContent, secret).toMatchObject({ content: null, lines: null });
      expect(s.content[0]!.text, secret).toContain('not in the index');
      expect(JSON.stringify(s), secret).not.toContain(MARK);
    }
  });

  it('status counts files, bytes and skipped files by reason per node', async () => {
    const s = await call('meshdb_status');
    expect(s.isError).toBeFalsy();
    const bytes = ['app/server.ts', 'etc/nginx/nginx.conf', 'docs/keys.md'].reduce((a, p) => a + readFileSync(join(dir, p)).length, 0);
    expect(s.structuredContent.nodes.map((n: { node: string }) => n.node)).toEqual(['n1', 'n2']);
    for (const n of s.structuredContent.nodes) {
      expect(n, n.node).toMatchObject({ ok: true, files: 3, bytes, roots: [dir], stale: false, skipped: { 'secret-name': 2, 'secret-content': 1, binary: 1 } });
      expect(Date.now() - Date.parse(n.lastIndex), n.node).toBeLessThan(10 * 60_000);
      expect(n.shardBytes).toBeGreaterThan(0);
    }
    expect(s.structuredContent.totals).toEqual({ nodes: 2, files: 6, bytes: 2 * bytes, stale: 0 });
  });

  it('a node down while re-indexing is marked stale, keeps its entries, and does not stop the others', async () => {
    writeFileSync(join(dir, 'docs/new.md'), 'a fresh note about ENOSPC\n');
    await fleet.stop('n2');
    try {
      const r = await call('meshdb_index', { target: 'n1,n2' }); // no paths: the roots each node has
      expect(r.isError).toBe(true);
      const [n1, n2] = r.structuredContent.nodes;
      expect(n1).toMatchObject({ node: 'n1', ok: true, stale: false, added: 1 });
      expect(n2).toMatchObject({ node: 'n2', ok: false, stale: true });
      expect(n2.error.code).toMatch(/^VSSH_/);
      expect(r.content[0]!.text).toMatch(/n2: STALE/);
      const s = await call('meshdb_status');
      expect(s.structuredContent.nodes.find((n: { node: string }) => n.node === 'n2')).toMatchObject({ stale: true, files: 3 });
      expect(s.structuredContent.totals.stale).toBe(1);
      const q = await call('meshdb_search', { query: 'ENOSPC', mode: 'literal' });
      expect(q.structuredContent.hits.map((h: { ref: string }) => h.ref)).toEqual([`n1:${join(dir, 'app/server.ts')}:4`, `n1:${join(dir, 'docs/new.md')}:1`, `n2:${join(dir, 'app/server.ts')}:4`]);
      expect(q.structuredContent.notes.join(' ')).toMatch(/n2 is stale/);
      const read = await call('meshdb_read', { ref: `n2:${join(dir, 'app/server.ts')}` });
      expect(read.isError).toBe(true);
      expect(read.content[0]!.text).toMatch(/VSSH_|unreachable|down/i);
    } finally {
      await fleet.start('n2');
    }
    const back = await call('meshdb_index', { target: 'n2' });
    expect(back.isError, back.content[0]?.text).toBeFalsy();
    expect(back.structuredContent.nodes[0]).toMatchObject({ ok: true, stale: false, added: 1 });
  }, 300_000);

  it('bad arguments are tool errors and the server keeps serving', async () => {
    const bad: Array<[string, Record<string, unknown>, RegExp?]> = [
      ['meshdb_search', { query: '' }],
      ['meshdb_search', { query: 'x', mode: 'bogus' }],
      ['meshdb_search', { query: '(', mode: 'regex' }, /MPOP_USAGE: not a valid regex/],
      ['meshdb_search', { query: 'AND AND', mode: 'fts' }, /MPOP_USAGE: not a valid FTS5 query/],
      ['meshdb_search', { query: 'x', node: 'nosuch' }, /MESHDB_NOT_INDEXED[\s\S]*meshdb_status/],
      ['meshdb_search', { query: 'x', limit: 0 }],
      ['meshdb_find', { pattern: '' }],
      ['meshdb_read', { ref: 'no-colon-here' }, /MPOP_USAGE/],
      ['meshdb_read', { ref: 'n1:relative/path' }, /MPOP_USAGE/],
      ['meshdb_read', { ref: `n1:${dir}/app/server.ts`, lines: '5-2' }, /MPOP_USAGE/],
      ['meshdb_read', { ref: `nosuch:${dir}/app/server.ts` }, /no index/],
      ['meshdb_index', { target: 'n1', paths: ['relative/dir'] }, /MPOP_USAGE/],
      ['meshdb_index', { target: 'nosuchnode', paths: [dir] }, /MPOP_NO_MATCH/],
      ['meshdb_index', { paths: [dir] }],
      ['meshdb_semantic', { query: '' }],
    ];
    for (const [name, args, re] of bad) {
      const r = await call(name, args);
      expect(r.isError, `${name} ${JSON.stringify(args)}`).toBe(true);
      if (re) expect(r.content[0]!.text, `${name} ${JSON.stringify(args)}`).toMatch(re);
    }
    expect((await call('meshdb_status')).isError).toBeFalsy();
  });

  it('meshdb_semantic without a Chroma server is a clear tool error, and word search still works', async () => {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as { port: number }).port;
    await new Promise((r) => s.close(r));
    const c = await mcpClient(fleet, ['--toolsets', 'search'], { name: 'search-nochroma', env: { MESHDB_CHROMA_URL: `http://127.0.0.1:${port}` } });
    try {
      const r = await call('meshdb_semantic', { query: 'how do we rotate ssh keys' }, c);
      expect(r.isError).toBe(true);
      expect(r.content[0]!.text).toMatch(/^MESHDB_CHROMA: no Chroma server answers at http:\/\/127\.0\.0\.1:\d+/);
      expect(r.content[0]!.text).toContain('meshdb_search');
      expect(r.content[0]!.text).not.toContain('--chroma-url');
      const w = await call('meshdb_search', { query: 'rotate keys' }, c);
      expect(w.isError).toBeFalsy();
    } finally {
      await c.close();
    }
  }, 120_000);

  it('meshdb_index semantic: true embeds on the embedded Chroma, and meshdb_semantic finds by meaning', async () => {
    const sem = tree({
      'ops/ssh.md': '# Key rotation\nEvery quarter we rotate the SSH keys: generate a new ed25519 key pair, push the public key to each host, then remove the old key from authorized_keys.\n',
      'ops/disk.sh': '#!/bin/sh\n# free disk space: delete old log archives and empty the package cache\nfind /var/log -name "*.gz" -mtime +30 -delete\napt-get clean\n',
    });
    try {
      const ix = await call('meshdb_index', { target: 'n1', paths: [sem], semantic: true });
      expect(ix.isError, ix.content[0]?.text).toBeFalsy();
      expect(ix.structuredContent.semantic).toMatchObject({ files: 2, chunks: 2 });
      const r = await call('meshdb_semantic', { query: 'my hard drive is full', node: 'n1', limit: 2 });
      expect(r.isError, r.content[0]?.text).toBeFalsy();
      expect(r.structuredContent.hits[0]).toMatchObject({ node: 'n1', path: join(sem, 'ops/disk.sh'), start: 1, ref: `n1:${join(sem, 'ops/disk.sh')}:1-4` });
      expect(r.structuredContent.hits[0].distance).toBeLessThan(r.structuredContent.hits[1].distance);
    } finally {
      rmSync(sem, { recursive: true, force: true });
    }
  }, 600_000);
});
