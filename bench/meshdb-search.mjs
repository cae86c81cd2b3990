// meshdb-search: this repository's own node_modules indexed by meshdb from a local `vssh serve` daemon (first
// index and a no-change re-index, MB/s and files/s), then 30 literal queries and 10 regexes: meshdb (the
// library, in this process) against `rg -F` / `rg` (Debian's ripgrep) on the same folder in the same run,
// with recall against rg on the files meshdb indexed. Semantic: chunks embedded per second and query time.
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { cleanup, tempDir } from './lib/cleanup.mjs';
import { runIfMain } from './lib/main.mjs';
import { summarize } from './lib/stats.mjs';
import { scratchVssh, startServe, withoutCaCerts } from './lib/vssh.mjs';

const TREE = fileURLToPath(new URL('../node_modules', import.meta.url));
const LITERALS = [
  // rare identifiers
  'createCipheriv', 'ENOSPC', 'setWasmPaths', 'ERR_DLOPEN_FAILED', 'SharedArrayBuffer', 'registerBackend', 'Argon2id', 'heartbeat', 'xorshift', 'WireGuard',
  // common words
  'function', 'return', 'require(', 'exports', 'undefined', 'prototype', 'length', 'this.', 'null', 'import',
  // short (under three characters: no trigram, a scan)
  'fs', '=>',
  // long identifiers and phrases
  'process.env.NODE_ENV', 'Object.defineProperty(exports, "__esModule"', 'hasOwnProperty.call', 'new Promise((resolve, reject)', 'Symbol.asyncIterator', 'TextDecoder', 'AbortController', 'Buffer.allocUnsafe',
];
const REGEXES = ['TODO\\(\\w+\\)', 'function\\s+\\w+Sync\\(', 'ERR_[A-Z_]{10,}', 'https://github\\.com/[a-z]+/[a-z]+', 'new Error\\(`', 'export default class \\w+', '\\bconst \\w+ = require\\(', 'process\\.exitCode = \\d', '\\d+\\.\\d+\\.\\d+-beta', 'sha(256|512)'];

function rg(args) {
  const t = performance.now();
  const r = spawnSync('rg', args, { encoding: 'utf8', maxBuffer: 1 << 28 });
  const ms = performance.now() - t;
  if (r.status !== 0 && r.status !== 1) throw new Error(`rg ${args.join(' ')} failed: ${r.stderr}`);
  return { ms, files: r.stdout.split('\n').filter(Boolean) };
}

export async function run() {
  try {
    const vault = scratchVssh();
    const daemon = await startServe(vault);
    Object.assign(process.env, withoutCaCerts(vault.env));
    const { index, search, status } = await import('../meshdb/dist/index.js');
    const { Pool } = await import('@meshpop/vssh/client');
    const pool = new Pool({ home: vault.home });
    const ctx = { home: vault.home, pool };
    const t0 = performance.now();
    const [first] = await index([{ node: 'n1', paths: [TREE] }], { includeNodeModules: true }, ctx);
    const firstMs = performance.now() - t0;
    if (!first.ok) throw new Error(`index failed: ${first.error?.message}`);
    const t1 = performance.now();
    const [again] = await index([{ node: 'n1', paths: [TREE] }], { includeNodeModules: true }, ctx);
    const againMs = performance.now() - t1;
    if (again.bytesRead !== 0) throw new Error(`a no-change re-index read ${again.bytesRead} bytes`);
    const st = (await status(ctx)).nodes[0];
    // the indexed set: recall is measured on it (rg also searches what meshdb skips: over 1 MB, binaries, secret-looking files)
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(`${vault.home}/meshdb/nodes/n1.db`, { readonly: true });
    const indexed = new Set(db.prepare('SELECT path FROM docs').pluck().all());
    db.close();

    const queries = [...LITERALS.map((q) => ({ q, mode: 'literal' })), ...REGEXES.map((q) => ({ q, mode: 'regex' }))];
    const rows = [];
    let missed = 0;
    const misses = [];
    for (const { q, mode } of queries) {
      const rgArgs = ['-l', '-uu', '--no-messages', ...(mode === 'literal' ? ['-F'] : []), '-e', q, TREE];
      const rgTimes = [];
      const topTimes = [];
      const allTimes = [];
      let rgFiles = [];
      let all = [];
      for (let i = 0; i < 3; i++) {
        const r = rg(rgArgs);
        rgTimes.push(r.ms);
        rgFiles = r.files;
        let t = performance.now();
        search(q, { mode, limit: 20 }, ctx);
        topTimes.push(performance.now() - t);
        t = performance.now();
        all = search(q, { mode, limit: 1e9, linesPerFile: 1 }, ctx).hits;
        allTimes.push(performance.now() - t);
      }
      const got = new Set(all.map((h) => h.path));
      const want = rgFiles.filter((p) => indexed.has(p));
      const lost = want.filter((p) => !got.has(p));
      missed += lost.length;
      if (lost.length) misses.push({ q, lost: lost.slice(0, 3), count: lost.length });
      const med = (xs) => summarize(xs).median;
      rows.push({ q, mode, rgFiles: want.length, meshdbFiles: got.size, rg: med(rgTimes), top20: med(topTimes), all: med(allTimes), recall: want.length ? (want.length - lost.length) / want.length : 1 });
    }
    // semantic: a sample of the indexed files, chunked and embedded (the model loaded once), and query time
    const { chunkLines, loadModel, openSemantic, EmbedThreads, UseEmbedding } = await import('../meshdb/dist/semantic/index.js');
    await loadModel();
    // as flush() embeds: one model per core in worker threads (loaded before the clock starts)
    const threads = new EmbedThreads();
    const model = { embed: (texts) => new UseEmbedding(threads).generate(texts) };
    await model.embed(['warm up', 'the threads']);
    const sample = [...indexed].filter((p) => p.endsWith('.md')).slice(0, 8);
    const { readFileSync } = await import('node:fs');
    const chunks = sample.flatMap((p) => chunkLines(readFileSync(p, 'utf8')).map((c) => c.text)).slice(0, 64);
    let t = performance.now();
    const vectors = await model.embed(chunks);
    const embedMs = performance.now() - t;
    await threads.close();
    const sem = await openSemantic({ home: vault.home });
    await sem.collection.upsert({ ids: chunks.map((_, i) => `c${i}`), embeddings: vectors, documents: chunks, metadatas: chunks.map(() => ({ node: 'n1', path: 'x', start: 1, end: 1 })) });
    const qTimes = [];
    for (const q of ['how do I install this package', 'license terms', 'configure the options', 'run the tests', 'breaking changes in the new version']) {
      t = performance.now();
      await sem.query(q, { limit: 10 });
      qTimes.push(performance.now() - t);
    }
    await sem.close();
    await pool.close();
    await daemon.stop();
    const sum = (k) => rows.map((r) => r[k]);
    const p = (xs, q) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]; };
    const row = (label, command, xs) => ({ label, command, ...summarize(xs) });
    const lit = rows.filter((r) => r.mode === 'literal');
    const rex = rows.filter((r) => r.mode === 'regex');
    const table = [
      row('meshdb index, first', 'index() of node_modules through a local vssh daemon', [firstMs]),
      row('meshdb index, no change', 'the same again: a listing, no read', [againMs]),
      row('meshdb -F, top 20 (per-query medians)', 'search(q, {mode: literal, limit: 20}), 30 queries', lit.map((r) => r.top20)),
      row('meshdb -F, every file', 'search(q, {mode: literal, limit: all})', lit.map((r) => r.all)),
      row('rg -F -l -uu', 'rg on the same folder, 30 queries', lit.map((r) => r.rg)),
      row('meshdb regex, top 20', 'search(q, {mode: regex, limit: 20}), 10 regexes', rex.map((r) => r.top20)),
      row('meshdb regex, every file', 'search(q, {mode: regex, limit: all})', rex.map((r) => r.all)),
      row('rg -l -uu', 'rg on the same folder, 10 regexes', rex.map((r) => r.rg)),
      row('semantic query', 'embed the query + Chroma query(), 10 results', qTimes),
    ];
    const ratioOf = (a, b) => ({ mean: b.mean / a.mean, median: b.median / a.median });
    return {
      scenario: 'meshdb-search',
      rows: table,
      ratios: [
        { label: 'rg -F / meshdb -F top 20', ...ratioOf(table[2], table[4]) },
        { label: 'rg -F / meshdb -F every file', ...ratioOf(table[3], table[4]) },
        { label: 'rg / meshdb regex top 20', ...ratioOf(table[5], table[7]) },
      ],
      about: `This repository's node_modules (${first.listed} files listed) indexed by meshdb from a \`vssh serve\` on 127.0.0.1, then each query 3 times per tool, taking turns; meshdb runs as a library in this process, rg as a process.`,
      reading: `Index: ${(first.bytesRead / 1e6).toFixed(0)} MB read in ${(firstMs / 1000).toFixed(1)} s (${(first.bytesRead / 1e6 / (firstMs / 1000)).toFixed(1)} MB/s, ${(first.listed / (firstMs / 1000)).toFixed(0)} files/s listed); no-change re-index ${(againMs / 1000).toFixed(1)} s. Recall against rg on the indexed files: ${missed} files missed. Semantic: ${(chunks.length / (embedMs / 1000)).toFixed(1)} chunks embedded per second.`,
      title: 'meshdb: indexing node_modules through vssh, and search against ripgrep',
      tree: TREE,
      index: {
        listed: first.listed, indexedFiles: st.files, indexedBytes: st.bytes, skipped: st.skipped, bytesRead: first.bytesRead,
        firstMs: Math.round(firstMs), firstMBps: first.bytesRead / 1e6 / (firstMs / 1000), firstFilesPerS: first.listed / (firstMs / 1000),
        againMs: Math.round(againMs), againFilesPerS: again.listed / (againMs / 1000),
      },
      queries: rows,
      queryStats: {
        rgP50: p(sum('rg'), 0.5), rgP95: p(sum('rg'), 0.95), top20P50: p(sum('top20'), 0.5), top20P95: p(sum('top20'), 0.95), allP50: p(sum('all'), 0.5), allP95: p(sum('all'), 0.95),
        recall: rows.reduce((s, r) => s + r.rgFiles * r.recall, 0) / Math.max(1, rows.reduce((s, r) => s + r.rgFiles, 0)), missed, misses,
      },
      semantic: { chunks: chunks.length, embedMs: Math.round(embedMs), chunksPerS: chunks.length / (embedMs / 1000), queryP50: summarize(qTimes).median },
      summary: headline({ first, firstMs, again, againMs, table, missed, chunks, embedMs, qTimes }),
    };
  } finally {
    cleanup();
  }
}

/** headline is the scenario's lines of the page's summary, against issue 10's targets. */
function headline({ first, firstMs, again, againMs, table, missed, chunks, embedMs, qTimes }) {
  const mbps = first.bytesRead / 1e6 / (firstMs / 1000);
  const cps = chunks.length / (embedMs / 1000);
  const q50 = summarize(qTimes).median;
  const lit = table[4].median / table[2].median;
  const rex = table[7].median / table[5].median;
  return [
    { label: 'index node_modules through vssh, first', ours: `${mbps.toFixed(1)} MB/s`, theirs: `${(firstMs / 1000).toFixed(1)} s for ${(first.bytesRead / 1e6).toFixed(0)} MB`, ratio: '', target: '≥ 10 MB/s', met: mbps >= 10 },
    { label: 'index again, nothing changed', ours: `${(againMs / 1000).toFixed(2)} s`, theirs: `${again.listed} files listed`, ratio: '' },
    { label: 'meshdb -F, top 20, p50', ours: `${table[2].median.toFixed(1)} ms`, theirs: `${table[4].median.toFixed(1)} ms (rg -F)`, ratio: `${lit.toFixed(1)}× faster`, target: '≥ 10× faster, 100% recall', met: lit >= 10 && missed === 0 },
    { label: 'meshdb regex, top 20, p50', ours: `${table[5].median.toFixed(1)} ms`, theirs: `${table[7].median.toFixed(1)} ms (rg)`, ratio: `${rex.toFixed(1)}× faster`, target: '≥ 10× faster, 100% recall', met: rex >= 10 && missed === 0 },
    { label: 'semantic: chunks embedded', ours: `${cps.toFixed(0)} chunks/s`, theirs: '', ratio: '', target: '≥ 100/s', met: cps >= 100 },
    { label: 'semantic: query p50', ours: `${q50.toFixed(1)} ms`, theirs: '', ratio: '', target: 'under 50 ms', met: q50 < 50 },
  ];
}

await runIfMain(import.meta.url, run);
