import { Pool, listNodes } from '@meshpop/vssh/client';
import { MeshdbError } from './errors.js';
import { indexAll, type IndexOptions, type IndexProgress, type IndexTarget, type NodeIndexResult } from './indexer.js';
import { meshdbPaths } from './paths.js';
import { globToRegExp, search as searchShards, type SearchOptions, type SearchResult } from './fts/query.js';
import { listShards, Shard } from './fts/store.js';
import { matchLines } from './fts/query.js';

/** Context is where meshdb keeps its state and how it reaches nodes; every call takes one (all optional). */
export interface Context {
  /** $MESHPOP_HOME (default: the environment's, or ~/.meshpop) */
  home?: string;
  /** a vssh pool to reuse; without one a call opens and closes its own */
  pool?: Pool;
  signal?: AbortSignal;
}

async function withPool<T>(ctx: Context, fn: (pool: Pool) => Promise<T>): Promise<T> {
  if (ctx.pool) return fn(ctx.pool);
  const pool = new Pool(ctx.home ? { home: ctx.home } : {});
  try {
    return await fn(pool);
  } finally {
    await pool.close();
  }
}

/** parseTargets reads `all PATH...`, `NODE PATH...`, `NODE:/path` and `NODE1,NODE2:/path` into targets. */
export async function parseTargets(words: string[], ctx: Context = {}): Promise<IndexTarget[]> {
  const byNode = new Map<string, string[]>();
  const add = (node: string, path?: string): void => {
    const l = byNode.get(node) ?? [];
    if (path) l.push(path);
    byNode.set(node, l);
  };
  const all = async (): Promise<string[]> => (await listNodes(ctx.home ?? meshdbPaths().root.replace(/\/meshdb$/, ''))).map((n) => n.name);
  let nodes: string[] = [];
  for (const w of words) {
    const m = /^([^:/~]+):(.*)$/.exec(w);
    if (m) {
      const names = m[1] === 'all' ? await all() : m[1]!.split(',');
      for (const n of names) add(n, m[2] || undefined);
      nodes = names;
    } else if (w.startsWith('/') || w.startsWith('~')) {
      if (!nodes.length) throw new MeshdbError('MESHDB_BAD_INPUT', `"${w}": name a node first (meshdb index g2 ${w}, or all ${w})`);
      for (const n of nodes) add(n, w);
    } else {
      nodes = w === 'all' ? await all() : w.split(',');
      for (const n of nodes) add(n);
      if (!nodes.length) throw new MeshdbError('MESHDB_BAD_INPUT', 'no nodes are known: add them to nodes.json or join a mesh');
    }
  }
  return [...byNode].map(([node, paths]) => ({ node, paths }));
}

/** IndexRequest is what `index` takes beyond the context. */
export interface IndexRequest extends Pick<IndexOptions, 'includeNodeModules' | 'maxBytes' | 'batchFiles' | 'concurrency' | 'onDocument' | 'onDelete'> {
  onProgress?: (p: IndexProgress) => void;
}

/**
 * index walks the targets' files through vssh into each node's shard, incrementally. A target with no
 * paths re-indexes the roots its shard already has (that is `reindex`). It never throws for one node's
 * failure: each node's outcome is in its result.
 */
export async function index(targets: IndexTarget[], req: IndexRequest = {}, ctx: Context = {}): Promise<NodeIndexResult[]> {
  const paths = meshdbPaths(ctx.home);
  return withPool(ctx, (pool) => indexAll(targets, { ...req, pool, shards: paths.shards, signal: ctx.signal }));
}

/**
 * reindex re-walks the roots of the named nodes (all indexed nodes by default). A damaged shard is moved
 * aside (NODE.db.corrupt) and rebuilt from the roots given, or, when none are given, from the roots the
 * damaged file still names, if it can be read that far.
 */
export async function reindex(nodes: string[] = [], req: IndexRequest & { paths?: string[] } = {}, ctx: Context = {}): Promise<NodeIndexResult[]> {
  const dir = meshdbPaths(ctx.home).shards;
  const names = nodes.length ? nodes : listShards(dir);
  const targets: IndexTarget[] = [];
  for (const node of names) {
    let roots: string[] = req.paths ?? [];
    let opts: Record<string, unknown> = {};
    try {
      const s = Shard.open(dir, node, { readonly: true });
      try {
        s.check();
        if (!roots.length) {
          roots = s.roots().map((r) => r.root);
          opts = s.roots()[0]?.options ?? {};
        }
      } finally {
        s.close();
      }
    } catch (err) {
      if (!(err instanceof MeshdbError) || err.code === 'MESHDB_NOT_INDEXED') {
        if (!roots.length) throw err;
      } else if (err.code === 'MESHDB_CORRUPT') {
        if (!roots.length) roots = salvageRoots(dir, node);
        Shard.remove(dir, node, { keepAside: true });
        if (!roots.length) throw new MeshdbError('MESHDB_CORRUPT', `the index of ${node} was damaged and names no roots; it was moved aside: run \`meshdb index ${node} PATH\``);
      } else throw err;
    }
    targets.push({ node, paths: roots });
    if (opts.includeNodeModules && req.includeNodeModules === undefined) req = { ...req, includeNodeModules: true };
  }
  return index(targets, req, ctx);
}

function salvageRoots(dir: string, node: string): string[] {
  // a damaged file (or one of another schema) may still give its small roots table
  return Shard.salvageRoots(dir, node);
}

/** search runs a words, literal, regex or FTS5 query over the shards (see SearchOptions). */
export function search(query: string, opts: SearchOptions = {}, ctx: Context = {}): SearchResult {
  return searchShards(meshdbPaths(ctx.home).shards, query, { ...opts, signal: opts.signal ?? ctx.signal });
}

/** FindHit is a file whose name or path matched. */
export interface FindHit {
  node: string;
  path: string;
  ref: string;
  size: number;
  mtime: number;
}

/**
 * find matches indexed file names and paths: a pattern with `*`, `?` or `[` is a glob (on the name, or on
 * the whole path when it has a `/`); anything else is a case-insensitive substring of the path.
 */
export function find(pattern: string, opts: { nodes?: string[]; limit?: number } = {}, ctx: Context = {}): { hits: FindHit[]; failed: Array<{ node: string; message: string }> } {
  if (!pattern) throw new MeshdbError('MESHDB_BAD_INPUT', 'an empty pattern');
  const dir = meshdbPaths(ctx.home).shards;
  const limit = opts.limit ?? 100;
  const glob = /[*?[]/.test(pattern) ? globToRegExp(pattern) : undefined;
  const onPath = pattern.includes('/');
  const hits: FindHit[] = [];
  const failed: Array<{ node: string; message: string }> = [];
  for (const node of opts.nodes?.length ? opts.nodes : listShards(dir)) {
    let s: Shard;
    try {
      s = Shard.open(dir, node, { readonly: true });
    } catch (err) {
      failed.push({ node, message: (err as Error).message });
      continue;
    }
    try {
      const rows = glob
        ? (s.db.prepare('SELECT path, name, size, mtime FROM docs ORDER BY path').iterate() as Iterable<{ path: string; name: string; size: number; mtime: number }>)
        : (s.db.prepare("SELECT path, name, size, mtime FROM docs WHERE instr(lower(path), lower(?)) > 0 ORDER BY (lower(name) = lower(?)) DESC, length(path), path").iterate(pattern, pattern) as Iterable<{ path: string; name: string; size: number; mtime: number }>);
      for (const r of rows) {
        if (glob && !glob.test(onPath ? r.path : r.name)) continue;
        hits.push({ node, path: r.path, ref: `${node}:${r.path}`, size: r.size, mtime: r.mtime });
        if (hits.length >= limit) break;
      }
    } catch (err) {
      failed.push({ node, message: `the index of ${node} could not be read (${(err as Error).message}); run \`meshdb reindex ${node}\`` });
    } finally {
      s.close();
    }
    if (hits.length >= limit) break;
  }
  return { hits, failed };
}

/** ReadResult is a file's text (or a range of its lines) as its node has it now. */
export interface ReadResult {
  node: string;
  path: string;
  from: number;
  to: number;
  totalLines: number;
  text: string;
}

/** read fetches a file from its node through vssh now (not from the index), optionally lines `from`-`to` (from 1). */
export async function read(node: string, path: string, range: { from?: number; to?: number } = {}, ctx: Context = {}): Promise<ReadResult> {
  if (!path.startsWith('/')) throw new MeshdbError('MESHDB_BAD_INPUT', `"${path}" is not an absolute path`);
  const { readBatch, readOne } = await import('./walk/fetch.js');
  return withPool(ctx, async (pool) => {
    const client = await pool.client(node);
    let f;
    try {
      f = (await readBatch(client, [path], { maxBytes: 64 * 1024 * 1024, signal: ctx.signal }))[0]!;
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      if (code.startsWith('VSSH_') && code !== 'VSSH_POLICY') throw err;
      f = await readOne(client, path, { maxBytes: 64 * 1024 * 1024, signal: ctx.signal });
    }
    if (f.status === 'vanished') throw new MeshdbError('MESHDB_NOT_FOUND', `${node}:${path} does not exist`);
    if (f.status !== 'ok') throw new MeshdbError('MESHDB_BAD_INPUT', `${node}:${path} is ${f.status === 'binary' ? 'a binary file' : f.status === 'too-large' ? 'over 64 MiB' : 'not a readable file'}`);
    const lines = new TextDecoder().decode(f.bytes).split('\n');
    if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
    const from = Math.max(1, range.from ?? 1);
    const to = Math.min(lines.length, range.to ?? lines.length);
    return { node, path, from, to, totalLines: lines.length, text: lines.slice(from - 1, to).join('\n') };
  });
}

/** NodeStatus is one node's index: counts, bytes, skipped files by reason, last index, staleness. */
export interface NodeStatus {
  node: string;
  ok: boolean;
  files: number;
  bytes: number;
  skipped: Record<string, number>;
  roots: string[];
  lastIndex: number | null;
  stale: boolean;
  error?: { code: string; message: string };
  shardBytes: number;
}

/** interruptedMessage says what a shard left by an unfinished index run holds, and what to do. */
export const interruptedMessage = (node: string): string => `the last index of ${node} did not finish (its process ended mid-way); what it stored is searchable: run \`meshdb reindex ${node}\` to complete it`;

/** status reads each shard's counts (a damaged shard is reported, not thrown). */
export async function status(ctx: Context = {}): Promise<{ nodes: NodeStatus[] }> {
  const { statSync } = await import('node:fs');
  const dir = meshdbPaths(ctx.home).shards;
  const nodes: NodeStatus[] = [];
  for (const node of listShards(dir)) {
    const base = { node, files: 0, bytes: 0, skipped: {}, roots: [], lastIndex: null, stale: false, shardBytes: statSync(`${dir}/${node}.db`).size };
    try {
      const s = Shard.open(dir, node, { readonly: true });
      try {
        const c = s.counts();
        const last = s.getMeta('last_index');
        const interrupted = s.interrupted();
        const err = interrupted ? JSON.stringify({ code: 'MESHDB_INTERRUPTED', message: interruptedMessage(node) }) : s.getMeta('error');
        nodes.push({ ...base, ok: true, ...c, roots: s.roots().map((r) => r.root), lastIndex: last ? Number(last) : null, stale: !!s.getMeta('stale') || interrupted, ...(err ? { error: JSON.parse(err) as { code: string; message: string } } : {}) });
      } finally {
        s.close();
      }
    } catch (err) {
      nodes.push({ ...base, ok: false, error: { code: (err as MeshdbError).code ?? 'MESHDB_CORRUPT', message: (err as Error).message } });
    }
  }
  return { nodes };
}

/** forget deletes a node's shard (its whole index); it returns whether there was one. */
export function forget(node: string, ctx: Context = {}): boolean {
  return Shard.remove(meshdbPaths(ctx.home).shards, node);
}

export { matchLines };
