// How a shard is written: batches stored as they stream in, what a kill -9 mid-index leaves, a shard of
// another schema, and literals through the trigram index (phrases, case, emoji).
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { index, reindex, search, status, MeshdbError } from '../src/index.js';
import { SCHEMA_VERSION, Shard } from '../src/fts/store.js';
import { loopFleet, tree, type Fleet } from './fleet.js';

const DIST = pathToFileURL(join(import.meta.dirname, '..', 'dist', 'index.js')).href;
const FILES = 600;

let f: Fleet;
let root: string;
const ctx = (): { home: string; pool: Fleet['pool'] } => ({ home: f.home, pool: f.pool });
const shards = (): string => join(f.home, 'meshdb', 'nodes');

beforeAll(async () => {
  f = await loopFleet(['n1']);
  const files: Record<string, string> = {};
  // about 12 MB: big enough that a run takes many batches and slices
  for (let i = 0; i < FILES; i++) files[`d${i % 7}/f${i}.txt`] = `killmarker${i} line one\n${`filler text ${i} `.repeat(1200)}\nlast line\n`;
  files['lit/a.txt'] = 'the quick brown fox jumps over the lazy dog\nconst emoji = "😀🎉";\n';
  files['lit/b.txt'] = 'brown quick fox (same trigrams, other order): not a match for the phrase\n';
  root = tree(files);
}, 120_000);

afterAll(async () => {
  await f?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('writing a shard', () => {
  it('a kill -9 mid-index leaves a shard that opens and searches, says it is incomplete, and reindex completes it', async () => {
    // a child process indexes with small batches; it is killed once some batches are committed
    const script = join(f.home, 'kill-me.mjs');
    writeFileSync(script, `import { index } from ${JSON.stringify(DIST)};
await index([{ node: 'n1', paths: [${JSON.stringify(root)}] }], { batchFiles: 20, onProgress: (p) => process.stdout.write(JSON.stringify(p) + '\\n') }, { home: ${JSON.stringify(f.home)} });
process.stdout.write('finished\\n');`);
    const child = spawn(process.execPath, [script], { env: { ...process.env, ...f.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let killedAt = -1;
    await new Promise<void>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        const read = Math.max(...out.split('\n').filter((l) => l.startsWith('{')).map((l) => (JSON.parse(l) as { read: number }).read));
        if (read >= 60 && killedAt < 0) {
          killedAt = read;
          child.kill('SIGKILL');
        }
      });
      child.on('exit', () => resolve());
      child.on('error', reject);
    });
    expect(out).not.toMatch(/finished/);
    expect(killedAt).toBeGreaterThanOrEqual(60);
    expect(killedAt).toBeLessThan(FILES);
    // what was committed before the kill is there, whole
    const s = Shard.open(shards(), 'n1', { readonly: true });
    s.check();
    expect(s.interrupted()).toBe(true);
    s.close();
    const r = search('killmarker', { mode: 'literal', limit: 10_000 }, ctx());
    expect(r.failed).toEqual([]);
    expect(r.hits.length).toBeGreaterThanOrEqual(killedAt - 20);
    expect(r.hits.length).toBeLessThan(FILES);
    expect(r.notes.join()).toMatch(/n1's last index did not finish.*meshdb reindex n1/);
    const st = (await status(ctx())).nodes.find((n) => n.node === 'n1')!;
    expect(st).toMatchObject({ ok: true, stale: true, roots: [root], error: { code: 'MESHDB_INTERRUPTED' } });
    // reindex knows the root although the run never finished it, and reads only what is missing
    const back = (await reindex(['n1'], {}, ctx()))[0]!;
    expect(back).toMatchObject({ ok: true, roots: [root] });
    expect(back.unchanged).toBeGreaterThanOrEqual(r.hits.length);
    expect(back.added).toBe(FILES + 2 - back.unchanged);
    expect(search('killmarker', { mode: 'literal', limit: 10_000 }, ctx()).hits).toHaveLength(FILES);
    expect((await status(ctx())).nodes.find((n) => n.node === 'n1')).toMatchObject({ stale: false });
    expect(search('killmarker', { mode: 'literal' }, ctx()).notes).toEqual([]);
  }, 120_000);

  it('literals: phrases, long ones, case and emoji through the trigram index', () => {
    const paths = (q: string, o: { ignoreCase?: boolean } = {}): string[] => search(q, { mode: 'literal', ...o }, ctx()).hits.map((h) => h.path.slice(root.length));
    expect(paths('quick brown fox')).toEqual(['/lit/a.txt']); // b.txt holds every trigram but not the phrase
    expect(paths('the quick brown fox jumps over the lazy dog')).toEqual(['/lit/a.txt']);
    expect(paths('QUICK BROWN')).toEqual([]);
    expect(paths('QUICK BROWN', { ignoreCase: true })).toEqual(['/lit/a.txt']);
    expect(paths('"😀🎉"')).toEqual(['/lit/a.txt']);
    const emoji = search('😀🎉', { mode: 'literal' }, ctx()); // two code points: no trigram, a scan
    expect(emoji.hits.map((h) => h.path)).toEqual([`${root}/lit/a.txt`]);
    expect(emoji.notes.join()).toMatch(/shorter than three characters/);
    expect(search('fox\\s+jumps', { mode: 'regex' }, ctx()).hits).toHaveLength(1);
  });

  it('a shard of another schema: a clear error naming reindex, which rebuilds it from the roots it names', async () => {
    const file = join(shards(), 'n1.db');
    const db = new Database(file);
    db.prepare("UPDATE meta SET value = '0' WHERE key = 'schema'").run();
    db.close();
    expect(() => Shard.open(shards(), 'n1', { readonly: true })).toThrow(MeshdbError);
    expect(() => Shard.open(shards(), 'n1', { readonly: true })).toThrow(new RegExp(`schema 0 and this meshdb reads ${SCHEMA_VERSION}; run \`meshdb reindex n1\``));
    expect(search('killmarker', { mode: 'literal' }, ctx()).failed[0]).toMatchObject({ node: 'n1', code: 'MESHDB_CORRUPT' });
    const back = (await reindex(['n1'], {}, ctx()))[0]!;
    expect(back).toMatchObject({ ok: true, roots: [root], added: FILES + 2 });
    expect(search('killmarker', { mode: 'literal', limit: 10_000 }, ctx()).hits).toHaveLength(FILES);
  }, 120_000);

  it('a first index stores every file when batches stream in while others are stored', async () => {
    const r = (await index([{ node: 'n1', paths: [root] }], { batchFiles: 25 }, ctx()))[0]!;
    expect(r).toMatchObject({ ok: true, added: 0, changed: 0 });
    rmSync(join(shards(), 'n1.db'), { force: true });
    for (const ext of ['-wal', '-shm']) rmSync(join(shards(), `n1.db${ext}`), { force: true });
    let reports = 0;
    const fresh = (await index([{ node: 'n1', paths: [root] }], { batchFiles: 25, onProgress: () => void reports++ }, ctx()))[0]!;
    expect(fresh).toMatchObject({ ok: true, added: FILES + 2 });
    expect(reports).toBeGreaterThan(FILES / 25);
    expect(search('killmarker599 ', { mode: 'literal' }, ctx()).hits).toHaveLength(1);
  }, 120_000);
});
