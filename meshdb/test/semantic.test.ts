import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { index, search } from '../src/index.js';
import { chunkLines, EmbedThreads, freePortForTests, heartbeat, hybrid, loadModel, MODEL_WINDOW_CHARS, openSemantic, rrf, semantic, UseEmbedding, type Semantic } from './semantic-entry.js';
import { loopFleet, tree, type Fleet } from './fleet.js';

let f: Fleet;
let a: string;

beforeAll(async () => {
  f = await loopFleet(['s1']);
  a = tree({
    'ops/ssh.md': '# Key rotation\nEvery quarter we rotate the SSH keys: generate a new ed25519 key pair, push the public key to each host, then remove the old key from authorized_keys.\n',
    'ops/disk.sh': '#!/bin/sh\n# free disk space: delete old log archives and empty the package cache\nfind /var/log -name "*.gz" -mtime +30 -delete\napt-get clean\n',
    'ops/backup.md': '# Backups\nThe database is dumped nightly and copied to the storage node with restic.\n',
    'web/nginx.conf': 'server {\n  listen 443 ssl;\n  server_name example.org;\n}\n',
  });
}, 120_000);

afterAll(async () => {
  await f?.close();
  if (a) rmSync(a, { recursive: true, force: true });
});

describe('the light entry point', () => {
  it('`import "@meshpop/meshdb"` reaches neither Chroma nor the embedding model (static import graph of dist)', () => {
    const entry = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    const seen = new Set<string>();
    const bare = new Set<string>();
    const walk = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      const src = readFileSync(file, 'utf8');
      for (const m of src.matchAll(/^(?:import|export)\s[^;]*?from\s+'([^']+)'/gm)) {
        const spec = m[1]!;
        if (spec.startsWith('.')) walk(resolve(dirname(file), spec));
        else bare.add(spec);
      }
    };
    walk(entry);
    expect(seen.size).toBeGreaterThan(5);
    expect([...bare].filter((s) => /chromadb|energetic/.test(s))).toEqual([]);
    expect([...seen].some((s) => s.includes('/semantic/'))).toBe(false);
  });
});

describe('chunking and fusion', () => {
  it('chunks by lines with overlap, skipping blank chunks', () => {
    const body = Array.from({ length: 100 }, (_, i) => `line ${i + 1}`).join('\n') + '\n';
    const c = chunkLines(body, 40, 10);
    expect(c.map((x) => [x.start, x.end])).toEqual([[1, 40], [31, 70], [61, 100]]);
    expect(chunkLines('\n\n\n')).toEqual([]);
  });

  it('reciprocal rank fusion rewards what both lists rank high', () => {
    const s = rrf([['a', 'b', 'c'], ['b', 'd']]);
    expect([...s].sort((x, y) => y[1] - x[1])[0]![0]).toBe('b');
  });
});

describe('the embedding model', () => {
  it('threads give the vectors this thread gives, in order; a text past the model window gives the vector of its window', async () => {
    const texts = ['rotate the ssh keys', 'free disk space', 'x'.repeat(3000), 'nightly database dump', `${'const a = 1;\n'.repeat(400)}`, 'tls certificates'];
    const here = new UseEmbedding();
    const threads = new EmbedThreads(2);
    try {
      const a1 = await here.generate(texts);
      const a2 = await new UseEmbedding(threads).generate(texts);
      expect(a2).toHaveLength(texts.length);
      for (let i = 0; i < texts.length; i++) for (let j = 0; j < 512; j += 37) expect(a2[i]![j]).toBeCloseTo(a1[i]![j]!, 5);
      expect(a1[1]).not.toEqual(a1[0]);
      const model = await loadModel();
      const [full] = await model.embed([texts[4]!]);
      expect(a1[4]).toEqual(full); // cut at MODEL_WINDOW_CHARS before the tokenizer: the same vector
      expect(texts[4]!.length).toBeGreaterThan(MODEL_WINDOW_CHARS);
    } finally {
      await threads.close();
    }
    await expect(new UseEmbedding(threads).generate(texts)).rejects.toThrow(/closed/);
  }, 120_000);
});

describe('semantic search on the embedded Chroma', () => {
  let sem: Semantic;
  it('indexes chunks through index() hooks and finds by meaning; results are node:path:lines', async () => {
    sem = await openSemantic({ home: f.home });
    const r = await index([{ node: 's1', paths: [a] }], sem.hooks(), { home: f.home, pool: f.pool });
    expect(r[0]!.ok).toBe(true);
    const flushed = await sem.flush();
    expect(flushed).toMatchObject({ files: 4, chunks: 4 });
    expect(await sem.count()).toBe(4);
    const hits = await sem.query('how do we rotate ssh keys', { limit: 2 });
    expect(hits[0]!.ref).toBe(`s1:${a}/ops/ssh.md:1-2`);
    expect(hits[0]!.distance).toBeLessThan(hits[1]!.distance);
    const disk = await sem.query('my hard drive is full', { limit: 1 });
    expect(disk[0]!.path).toBe(`${a}/ops/disk.sh`);
  }, 120_000);

  it('the embedded server killed mid-index is restarted and the write retried; FTS search works throughout', async () => {
    const pid = sem.server!.pid!;
    process.kill(pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 300));
    expect(search('restic', { mode: 'literal' }, { home: f.home }).hits).toHaveLength(1);
    const n = await sem.addDocument('s1', '/virtual/notes.md', 'Certificates are renewed by certbot every sixty days.\n');
    expect(n).toBe(1);
    expect(sem.server!.pid).not.toBe(pid);
    expect(await sem.count()).toBe(5);
  }, 60_000);

  it('flush: a file that shrank loses its old chunks, a deleted one all of them, many files in a few calls', async () => {
    const before = await sem.count();
    const h = sem.hooks();
    const long = Array.from({ length: 100 }, (_, i) => `line ${i} of the shrinking file about tide tables`).join('\n');
    for (let i = 0; i < 30; i++) h.onDocument('s1', `/virtual/many${i}.md`, `note ${i}: the harbour opens at ${i} o'clock\n`);
    h.onDocument('s1', '/virtual/shrink.md', long);
    const first = await sem.flush();
    expect(first).toMatchObject({ files: 31, chunks: 30 + 3 }); // 100 lines: chunks 1-40, 31-70, 61-100
    expect(await sem.count()).toBe(before + 33);
    h.onDocument('s1', '/virtual/shrink.md', 'now one line about tide tables\n');
    h.onDelete('s1', '/virtual/many0.md');
    const again = await sem.flush();
    expect(again).toMatchObject({ files: 1, chunks: 1 });
    expect(await sem.count()).toBe(before + 29 + 1);
    const hit = (await sem.query('tide tables', { limit: 1 }))[0]!;
    expect(hit).toMatchObject({ path: '/virtual/shrink.md', start: 1, end: 1 });
  }, 120_000);

  it('stops cleanly: the child is gone after close()', async () => {
    const pid = sem.server!.pid!;
    await sem.close();
    expect(() => process.kill(pid, 0)).toThrow();
  });

  it('hybrid fuses the word list and the semantic list', async () => {
    const r = await hybrid('rotate keys', { home: f.home, limit: 3 });
    expect(r.hits[0]!.path).toBe(`${a}/ops/ssh.md`);
  }, 60_000);
});

describe('a separately started Chroma server (--chroma-url)', () => {
  let child: ChildProcess;
  let url: string;
  const dir = mkdtempSync(join(tmpdir(), 'meshdb-chroma-'));
  beforeAll(async () => {
    const main = createRequire(import.meta.url).resolve('chromadb');
    const cli = join(main.slice(0, main.lastIndexOf('/dist/')), 'dist', 'cli.mjs');
    const port = await freePortForTests();
    url = `http://127.0.0.1:${port}`;
    child = spawn(process.execPath, [cli, 'run', '--path', dir, '--host', '127.0.0.1', '--port', String(port)], { stdio: 'ignore' });
    for (let i = 0; i < 100 && !(await heartbeat(url, 300)); i++) await new Promise((r) => setTimeout(r, 100));
  }, 30_000);
  afterAll(async () => {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores and queries there, and starts no server of its own', async () => {
    const sem = await openSemantic({ home: f.home, chromaUrl: url });
    expect(sem.server).toBeUndefined();
    await sem.addDocument('s1', `${a}/ops/backup.md`, readFileSync(join(a, 'ops/backup.md'), 'utf8'));
    await sem.close();
    const r = await semantic('nightly database dump', { home: f.home, chromaUrl: url, limit: 1 });
    expect(r.hits[0]!.ref).toBe(`s1:${a}/ops/backup.md:1-2`);
  }, 60_000);

  it('a Chroma that is not running: a clear MESHDB_CHROMA error, and word search still works', async () => {
    const dead = `http://127.0.0.1:${await freePortForTests()}`;
    await expect(semantic('anything', { home: f.home, chromaUrl: dead })).rejects.toMatchObject({ code: 'MESHDB_CHROMA', message: expect.stringMatching(/no Chroma server answers/) });
    expect(search('restic', {}, { home: f.home }).hits).toHaveLength(1);
    const cli = await f.meshdb(['semantic', 'anything', '--chroma-url', dead]);
    expect(cli.exitCode).toBe(12);
    expect(String(cli.stderr)).toMatch(/^meshdb: no Chroma server answers/);
  }, 60_000);

  it('the built bin: semantic and search --hybrid against it', async () => {
    const r = await f.meshdb(['semantic', 'nightly database dump', '--chroma-url', url, '--json'], { timeout: 120_000 });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(JSON.parse(String(r.stdout)).hits[0].ref).toBe(`s1:${a}/ops/backup.md:1-2`);
    const h = await f.meshdb(['search', '--hybrid', 'nightly database dump', '--chroma-url', url, '--json'], { timeout: 120_000 });
    expect(h.exitCode, String(h.stderr)).toBe(0);
    expect(JSON.parse(String(h.stdout)).hits[0].path).toBe(`${a}/ops/backup.md`);
  }, 120_000);
});
