import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { find, forget, index, read, reindex, search, status, findSecret, requiredLiterals, MeshdbError } from '../src/index.js';
import { loopFleet, tree, type Fleet } from './fleet.js';

// Secret shapes are assembled at run time, so this file itself carries none.
const AWS = 'AKIA' + 'Q'.repeat(4) + '7'.repeat(4) + 'ZXCV' + 'BNML';
const GH = 'ghp' + '_' + 'aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI3kM5';
const SLACK = 'xox' + 'b-' + '123456789012-abcdefABCDEF';
const JWT = 'eyJ' + 'hbGciOiJIUzI1NiJ9.eyJ' + 'zdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';
const PEM = '-----BEGIN ' + 'OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n';
const ASSIGN = 'db_password = "' + 'Zk8q2Lw9Xr4Tn7Vb3Hs6' + '"';

let f: Fleet;
let a: string;
let b: string;
const ctx = (): { home: string; pool: Fleet['pool'] } => ({ home: f.home, pool: f.pool });

beforeAll(async () => {
  f = await loopFleet(['n1', 'n2']);
  a = tree({
    'src/disk.ts': 'export function diskCleanup() {\n  // TODO(ana): free ENOSPC space\n  return rotateLogs();\n}\n',
    'src/keys.md': '# How we rotate ssh keys\nRun the rotation weekly.\n',
    'etc/nginx/nginx.conf': 'worker_processes 4;\nhttp { server { listen 80; } }\n',
    'notes/fts.txt': 'a line with "quotes" AND (parens) * NEAR the end\nx1 is short\n',
    'bin/data.txt': Buffer.concat([Buffer.from('looks like text'), Buffer.from([0, 1, 2, 3])]),
    'big.log': 'x'.repeat(1_200_000),
    'bad-utf8.txt': Buffer.concat([Buffer.from('valid start '), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(' uniqueutfmarker end\n')]),
    'long.txt': 'z'.repeat(200_000) + 'needleinlongline' + 'z'.repeat(1000) + '\n',
    '.gitignore': 'ignored-by-git.txt\ngen/\n',
    'ignored-by-git.txt': 'gitignoredmarker\n',
    'gen/out.ts': 'gitignoredmarker2\n',
    'node_modules/dep/index.js': 'nodemodulesmarker\n',
    '.git/config': 'gitdirmarker\n',
    'weird name $(touch x);\n.txt': 'hostilemarker\n',
    'ünïcødé/файл.txt': 'unicodemarker\n',
    // planted secrets: none of these may be indexed
    '.env': 'API_TOKEN=plantedenvmarker\n',
    '.env.production': 'plantedenvmarker2\n',
    '.ssh/config': 'Host plantedsshmarker\n',
    'keys/id_ed25519': 'plantedkeymarker\n',
    'keys/server.pem': 'plantedpemmarker\n',
    'cfg/aws.txt': `plantedawsmarker ${AWS}\n`,
    'cfg/gh.ts': `const t = '${GH}'; // plantedghmarker\n`,
    'cfg/slack.yml': `token: ${SLACK} # plantedslackmarker\n`,
    'cfg/jwt.json': `{"jwt": "${JWT}", "m": "plantedjwtmarker"}\n`,
    'cfg/key.txt': `plantedpemcontentmarker\n${PEM}`,
    'cfg/db.py': `${ASSIGN}  # plantedassignmarker\n`,
    '.meshpop/vault/store.json': 'plantedvaultmarker\n',
  });
  b = tree({ 'app/main.go': 'package main\n// diskCleanup on n2 too\nfunc main() {}\n', 'app/readme.txt': 'ENOSPC handling\n' });
}, 120_000);

afterAll(async () => {
  await f?.close();
  for (const d of [a, b]) if (d) rmSync(d, { recursive: true, force: true });
});

describe('the secret detector', () => {
  it('finds each planted shape and passes ordinary code', () => {
    for (const s of [AWS, GH, SLACK, JWT, PEM, ASSIGN]) expect(findSecret(`x ${s} y`)).toBeTruthy();
    expect(findSecret('const password = process.env.DB_PASSWORD;\nconst token = "short";\n')).toBeUndefined();
    expect(findSecret('export const key = useMemo(() => items, []);')).toBeUndefined();
  });

  it('never puts the secret in what it returns', () => {
    expect(findSecret(AWS)).not.toContain(AWS);
  });
});

describe('requiredLiterals', () => {
  it('keeps what every match must contain, and gives up on alternation', () => {
    expect(requiredLiterals('TODO\\(\\w+\\)')).toEqual(['TODO(']);
    expect(requiredLiterals('rotate\\s+logs')).toEqual(['rotate', 'logs']);
    expect(requiredLiterals('abc|def')).toEqual([]);
    expect(requiredLiterals('colou?r')).toEqual(['colo']);
    expect(requiredLiterals('(foo)?barbaz')).toEqual(['barbaz']);
  });
});

describe('index and search over two loopback nodes', () => {
  it('indexes both nodes through vssh and skips what must be skipped', async () => {
    const r = await index([{ node: 'n1', paths: [a] }, { node: 'n2', paths: [b] }], {}, ctx());
    expect(r.map((x) => x.ok)).toEqual([true, true]);
    const n1 = r[0]!;
    expect(n1.skipped.binary).toBe(1);
    expect(n1.skipped['too-large']).toBe(1);
    expect(n1.skipped.gitignore).toBe(2);
    expect(n1.skipped['secret-content']).toBe(6);
    expect(n1.skipped['secret-name']).toBeGreaterThanOrEqual(6);
    expect(n1.skipped.ignored).toBe(2); // node_modules, .git
    expect(r[1]!.added).toBe(2);
    const st = await status(ctx());
    expect(st.nodes.map((n) => n.node)).toEqual(['n1', 'n2']);
    expect(st.nodes[0]!.files).toBe(n1.added);
    expect(st.nodes[0]!.skipped['secret-content']).toBe(6);
    expect(st.nodes[0]!.stale).toBe(false);
  });

  it('a planted-secrets tree indexes zero secrets (by marker, by value, and in the raw shard file)', () => {
    for (const m of ['plantedenvmarker', 'plantedenvmarker2', 'plantedsshmarker', 'plantedkeymarker', 'plantedpemmarker', 'plantedawsmarker', 'plantedghmarker', 'plantedslackmarker', 'plantedjwtmarker', 'plantedpemcontentmarker', 'plantedassignmarker', 'plantedvaultmarker']) {
      expect(search(m, { mode: 'literal' }, ctx()).hits, m).toEqual([]);
    }
    const raw = readFileSync(join(f.home, 'meshdb', 'nodes', 'n1.db')).toString('latin1') + (existsSync(join(f.home, 'meshdb', 'nodes', 'n1.db-wal')) ? readFileSync(join(f.home, 'meshdb', 'nodes', 'n1.db-wal')).toString('latin1') : '');
    for (const s of [AWS, GH, SLACK, JWT, 'PRIVATE KEY', 'Zk8q2Lw9Xr4Tn7Vb3Hs6', 'plantedenvmarker']) expect(raw.includes(s)).toBe(false);
  });

  it('never indexes binaries named .txt, huge files, ignored folders or gitignored files', () => {
    for (const m of ['looks like text', 'gitignoredmarker', 'gitignoredmarker2', 'nodemodulesmarker', 'gitdirmarker']) expect(search(m, { mode: 'literal' }, ctx()).hits, m).toEqual([]);
  });

  it('words: bm25 ranking across nodes, node:path:line refs', () => {
    const r = search('diskCleanup', {}, ctx());
    expect(r.hits.map((h) => h.node).sort()).toEqual(['n1', 'n2']);
    const n1 = r.hits.find((h) => h.node === 'n1')!;
    expect(n1.ref).toBe(`n1:${a}/src/disk.ts:1`);
    expect(n1.lines[0]!.text).toContain('diskCleanup');
    expect(search('rotate ssh keys', {}, ctx()).hits[0]!.path).toBe(`${a}/src/keys.md`);
  });

  it('a name in the path ranks above the same word in a body', () => {
    const r = search('nginx', {}, ctx());
    expect(r.hits[0]!.path).toBe(`${a}/etc/nginx/nginx.conf`);
  });

  it('-F literal: case-sensitive, with line numbers; --node, --type and --path narrow', () => {
    const r = search('ENOSPC', { mode: 'literal' }, ctx());
    expect(r.hits.map((h) => h.ref).sort()).toEqual([`n1:${a}/src/disk.ts:2`, `n2:${b}/app/readme.txt:1`]);
    expect(search('enospc', { mode: 'literal' }, ctx()).hits).toEqual([]);
    expect(search('enospc', { mode: 'literal', ignoreCase: true }, ctx()).hits).toHaveLength(2);
    expect(search('ENOSPC', { mode: 'literal', nodes: ['n2'] }, ctx()).hits).toHaveLength(1);
    expect(search('ENOSPC', { mode: 'literal', types: ['ts'] }, ctx()).hits.map((h) => h.node)).toEqual(['n1']);
    expect(search('listen', { mode: 'literal', path: `${a}/etc/*` }, ctx()).hits).toHaveLength(1);
    expect(search('listen', { mode: 'literal', path: '/nowhere/*' }, ctx()).hits).toHaveLength(0);
  });

  it('regex: trigrams narrow, the regex confirms, per line', () => {
    const r = search('TODO\\(\\w+\\)', { mode: 'regex' }, ctx());
    expect(r.hits.map((h) => h.ref)).toEqual([`n1:${a}/src/disk.ts:2`]);
    expect(r.hits[0]!.lines[0]!.ranges[0]).toEqual([5, 14]);
    expect(r.notes).toEqual([]);
    const scan = search('\\d+;$', { mode: 'regex' }, ctx());
    expect(scan.hits.map((h) => h.path)).toEqual([`${a}/etc/nginx/nginx.conf`]);
    expect(scan.notes.join()).toMatch(/scanned/);
    expect(() => search('(', { mode: 'regex' }, ctx())).toThrow(MeshdbError);
  });

  it('queries of one or two characters fall back to a scan with a note', () => {
    const r = search('x1', { mode: 'literal' }, ctx());
    expect(r.hits.map((h) => h.path)).toEqual([`${a}/notes/fts.txt`]);
    expect(r.hits[0]!.lines[0]!.line).toBe(2);
    expect(r.notes.join()).toMatch(/shorter than three/);
  });

  it('FTS syntax characters are literal unless --fts', () => {
    expect(search('"quotes" AND (parens) *', { mode: 'literal' }, ctx()).hits).toHaveLength(1);
    expect(search('quotes AND (parens', {}, ctx()).hits.map((h) => h.path)).toEqual([`${a}/notes/fts.txt`]);
    expect(search('"quotes" NEAR', {}, ctx()).hits).toHaveLength(1);
    expect(search('quotes NOT parens', { mode: 'fts' }, ctx()).hits).toHaveLength(0);
    expect(search('rotat*', { mode: 'fts' }, ctx()).hits.length).toBeGreaterThan(0);
    expect(() => search('AND (', { mode: 'fts' }, ctx())).toThrow(/FTS5/);
  });

  it('invalid UTF-8, very long lines and hostile names are indexed and found', () => {
    expect(search('uniqueutfmarker', { mode: 'literal' }, ctx()).hits).toHaveLength(1);
    const long = search('needleinlongline', { mode: 'literal' }, ctx()).hits[0]!;
    expect(long.lines[0]!.text.length).toBeLessThanOrEqual(400);
    expect(long.lines[0]!.text).toContain('needleinlongline');
    expect(search('hostilemarker', { mode: 'literal' }, ctx()).hits[0]!.path).toBe(`${a}/weird name $(touch x);\n.txt`);
    expect(search('unicodemarker', { mode: 'literal' }, ctx()).hits[0]!.path).toBe(`${a}/ünïcødé/файл.txt`);
    expect(existsSync(join(a, 'x'))).toBe(false);
  });

  it('find: substring and glob over names and paths', () => {
    expect(find('nginx.conf', {}, ctx()).hits.map((h) => h.ref)).toEqual([`n1:${a}/etc/nginx/nginx.conf`]);
    expect(find('*.go', {}, ctx()).hits.map((h) => h.node)).toEqual(['n2']);
    expect(find(`${a}/src/*`, {}, ctx()).hits).toHaveLength(2);
    expect(find('.env', {}, ctx()).hits).toEqual([]);
  });

  it('read: the file from its node now, with line ranges; errors for missing and binary', async () => {
    const r = await read('n1', `${a}/src/disk.ts`, { from: 2, to: 3 }, ctx());
    expect(r.text).toBe('  // TODO(ana): free ENOSPC space\n  return rotateLogs();');
    expect(r.totalLines).toBe(4);
    await expect(read('n1', `${a}/nope`, {}, ctx())).rejects.toMatchObject({ code: 'MESHDB_NOT_FOUND' });
    await expect(read('n1', `${a}/bin/data.txt`, {}, ctx())).rejects.toMatchObject({ code: 'MESHDB_BAD_INPUT' });
  });
});

describe('incremental re-index', () => {
  it('a no-change re-index reads nothing; a change and a deletion cost one file each', async () => {
    const again = (await index([{ node: 'n1', paths: [a] }], {}, ctx()))[0]!;
    expect(again).toMatchObject({ ok: true, added: 0, changed: 0, deleted: 0, bytesRead: 0 });
    expect(again.unchanged).toBeGreaterThan(5);
    writeFileSync(join(a, 'src/disk.ts'), 'export function diskCleanup2() { /* changedmarker */ }\n');
    unlinkSync(join(a, 'src/keys.md'));
    const t = new Date(Date.now() + 5000);
    utimesSync(join(a, 'notes/fts.txt'), t, t); // touched, same content
    const r = (await index([{ node: 'n1', paths: [a] }], {}, ctx()))[0]!;
    expect(r).toMatchObject({ ok: true, added: 0, changed: 1, deleted: 1 });
    expect(search('changedmarker', { mode: 'literal' }, ctx()).hits).toHaveLength(1);
    expect(search('TODO(ana)', { mode: 'literal' }, ctx()).hits).toHaveLength(0);
    expect(find('keys.md', {}, ctx()).hits).toHaveLength(0);
  });

  it('a file that vanishes between listing and reading is dropped, not an error', async () => {
    writeFileSync(join(b, 'app/soon-gone.txt'), 'vanishmarker\n');
    const r = (await index([{ node: 'n2', paths: [b] }], { onProgress: (p) => { if (p.phase === 'reading' && existsSync(join(b, 'app/soon-gone.txt'))) unlinkSync(join(b, 'app/soon-gone.txt')); } }, ctx()))[0]!;
    expect(r.ok).toBe(true);
    expect(r.skipped.vanished).toBe(1);
    expect(search('vanishmarker', { mode: 'literal' }, ctx()).hits).toEqual([]);
  });
});

describe('faults', () => {
  it('a node unreachable mid-index is stale and keeps its old entries; the others finish', async () => {
    const before = search('diskCleanup', { nodes: ['n2'] }, ctx()).hits.length;
    expect(before).toBe(1);
    for (let i = 0; i < 60; i++) writeFileSync(join(b, `app/gen${i}.txt`), `midindexmarker ${i}\n`);
    let stopped = false;
    const r = await index([{ node: 'n2', paths: [b] }, { node: 'n1', paths: [a] }], {
      batchFiles: 10,
      onProgress: (p) => {
        if (p.node === 'n2' && p.phase === 'reading' && p.read >= 10 && !stopped) {
          stopped = true;
          void f.stop('n2');
        }
      },
    }, ctx());
    expect(stopped).toBe(true);
    expect(r[0]).toMatchObject({ node: 'n2', ok: false, stale: true });
    expect(r[0]!.error?.code).toMatch(/VSSH_/);
    expect(r[1]).toMatchObject({ node: 'n1', ok: true });
    const st = (await status(ctx())).nodes.find((n) => n.node === 'n2')!;
    expect(st.stale).toBe(true);
    expect(search('diskCleanup', { nodes: ['n2'] }, ctx()).hits).toHaveLength(1);
    expect(search('diskCleanup', {}, ctx()).notes.join()).toMatch(/n2 is stale/);
    await f.start('n2');
    const back = (await reindex(['n2'], {}, ctx()))[0]!;
    expect(back.ok).toBe(true);
    expect((await status(ctx())).nodes.find((n) => n.node === 'n2')!.stale).toBe(false);
    expect(search('midindexmarker', { mode: 'literal', limit: 100 }, ctx()).hits).toHaveLength(60);
  });

  it('an unknown node fails alone with its reason', async () => {
    const r = await index([{ node: 'ghost', paths: ['/tmp'] }], {}, ctx());
    expect(r[0]).toMatchObject({ ok: false });
    expect(r[0]!.error?.code).toBe('VSSH_UNKNOWN_NODE');
    forget('ghost', ctx());
  });

  it('a truncated shard: a clear error naming reindex, the others still searched; reindex recovers', async () => {
    const file = join(f.home, 'meshdb', 'nodes', 'n2.db');
    // checkpoint the WAL so the main file holds everything, then cut it
    search('x', {}, ctx());
    for (const ext of ['-wal', '-shm']) rmSync(file + ext, { force: true });
    truncateSync(file, 3000);
    const r = search('ENOSPC', { mode: 'literal' }, ctx());
    expect(r.hits.every((h) => h.node === 'n1')).toBe(true);
    expect(r.failed.map((x) => x.node)).toEqual(['n2']);
    expect(r.failed[0]!.message).toMatch(/reindex n2/);
    const st = (await status(ctx())).nodes.find((n) => n.node === 'n2')!;
    expect(st.ok).toBe(false);
    const rr = await reindex(['n2'], { paths: [b] }, ctx());
    expect(rr[0]!.ok).toBe(true);
    expect(existsSync(file + '.corrupt')).toBe(true);
    expect(search('ENOSPC', { mode: 'literal', nodes: ['n2'] }, ctx()).hits).toHaveLength(1);
  });

  it('a file that is not a meshdb shard is never changed', async () => {
    const dir = join(f.home, 'meshdb', 'nodes');
    writeFileSync(join(dir, 'junk.db'), 'not sqlite at all');
    const r = search('ENOSPC', { mode: 'literal' }, ctx());
    expect(r.failed.map((x) => x.node)).toContain('junk');
    expect(readFileSync(join(dir, 'junk.db'), 'utf8')).toBe('not sqlite at all');
    expect(forget('junk', ctx())).toBe(true);
  });
});

describe('the built meshdb bin', () => {
  it('index, search, find, read, status, forget with --json and exit codes', async () => {
    const c = tree({ 'x/hello.ts': 'export const greet = "clihellomarker";\n', 'x/.env': 'SECRET=1\n' });
    try {
      const idx = await f.meshdb(['index', `n1:${c}`, '--json']);
      expect(idx.exitCode, String(idx.stderr)).toBe(0);
      const j = JSON.parse(String(idx.stdout));
      expect(j.nodes[0]).toMatchObject({ node: 'n1', ok: true, added: 1 });
      const s = await f.meshdb(['search', '-F', 'clihellomarker']);
      expect(s.exitCode).toBe(0);
      expect(String(s.stdout).trim()).toBe(`n1:${c}/x/hello.ts:1: export const greet = "clihellomarker";`);
      const js = JSON.parse(String((await f.meshdb(['search', 'clihellomarker', '--json'])).stdout));
      expect(js.hits[0].ref).toBe(`n1:${c}/x/hello.ts:1`);
      const none = await f.meshdb(['search', '-F', 'nothingmatchesthis']);
      expect(none.exitCode).toBe(1);
      expect(String((await f.meshdb(['find', 'hello.ts'])).stdout).trim()).toBe(`n1:${c}/x/hello.ts`);
      const rd = await f.meshdb(['read', `n1:${c}/x/hello.ts`, '--lines', '1']);
      expect(String(rd.stdout)).toBe('export const greet = "clihellomarker";');
      const bad = await f.meshdb(['read', 'n1:relative/path']);
      expect(bad.exitCode).toBe(2);
      expect(String(bad.stderr)).toMatch(/^meshdb: /);
      const st = JSON.parse(String((await f.meshdb(['status', '--json'])).stdout));
      expect(st.nodes.find((n: { node: string }) => n.node === 'n1').files).toBeGreaterThan(5);
      const hostile = await f.meshdb(['search', '-F', 'hostilemarker']);
      expect(String(hostile.stdout)).toContain('\\x0a.txt');
      expect(String(hostile.stdout).split('\n').filter(Boolean)).toHaveLength(1);
      const fg = await f.meshdb(['forget', 'n2', '--json']);
      expect(JSON.parse(String(fg.stdout))).toMatchObject({ node: 'n2', forgotten: true });
      expect(search('diskCleanup', {}, ctx()).hits.every((h) => h.node === 'n1')).toBe(true);
    } finally {
      rmSync(c, { recursive: true, force: true });
    }
  });

  it('an empty index says so', async () => {
    const r = await f.meshdb(['search', 'anything'], { env: { MESHPOP_HOME: join(f.home, 'empty-home') } });
    expect(r.exitCode).toBe(1);
    expect(String(r.stderr)).toMatch(/nothing is indexed yet/);
  });
});
