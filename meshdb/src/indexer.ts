import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import type { FileInfo, Pool, VsshClient } from '@meshpop/vssh/client';
import { MeshdbError, checkAborted } from './errors.js';
import { Shard } from './fts/store.js';
import { readBatch, readOne, type Fetched } from './walk/fetch.js';
import { GitIgnores } from './walk/gitignore.js';
import { findSecret } from './walk/secrets.js';
import { DEFAULT_MAX_BYTES, skipByPath, type SkipOptions, type SkipReason } from './walk/skip.js';

/** IndexTarget is one node and the folders (or files) to index on it; `~` is the node's home. */
export interface IndexTarget {
  node: string;
  paths: string[];
}

/** IndexProgress is reported per node as a walk goes. */
export interface IndexProgress {
  node: string;
  phase: 'listing' | 'reading' | 'done' | 'failed';
  listed: number;
  toRead: number;
  read: number;
  bytes: number;
}

/** NodeIndexResult is what indexing one node did. */
export interface NodeIndexResult {
  node: string;
  ok: boolean;
  /** the node could not be reached or failed mid-way: its old entries are kept and it is marked stale */
  stale: boolean;
  error?: { code: string; message: string };
  roots: string[];
  listed: number;
  added: number;
  changed: number;
  unchanged: number;
  deleted: number;
  skipped: Partial<Record<SkipReason, number>>;
  bytesRead: number;
  ms: number;
}

/** IndexOptions tune a run. */
export interface IndexOptions extends SkipOptions {
  pool: Pool;
  shards: string;
  signal?: AbortSignal;
  onProgress?: (p: IndexProgress) => void;
  /** files per reader batch (default 400) */
  batchFiles?: number;
  /** nodes indexed at once (default 4) */
  concurrency?: number;
  /** called with each stored file's text (the semantic index hooks in here) */
  onDocument?: (node: string, path: string, body: string) => void | Promise<void>;
  onDelete?: (node: string, path: string) => void | Promise<void>;
}

const BATCH_BYTES = 16 * 1024 * 1024;
const STORE_BYTES = 2 * 1024 * 1024;
const NETWORK = new Set(['VSSH_UNREACHABLE', 'VSSH_CONNECTION_LOST', 'VSSH_TIMEOUT', 'VSSH_TLS', 'VSSH_UNKNOWN_NODE', 'VSSH_NO_KEY', 'VSSH_AUTH_BAD_MAC', 'VSSH_AUTH_STALE', 'VSSH_BUSY', 'VSSH_INTEGRITY']);

/** expandHome turns `~` and `~/x` into the node's home folder. */
async function expandHome(client: VsshClient, paths: string[]): Promise<string[]> {
  if (!paths.some((p) => p === '~' || p.startsWith('~/'))) return paths;
  const r = await client.exec({ argv: ['node', '-e', 'process.stdout.write(require("os").homedir())'] }, { timeoutMs: 30_000 });
  const home = r.stdout.toString('utf8').trim();
  if (r.exitCode !== 0 || !home.startsWith('/')) throw new MeshdbError('MESHDB_BAD_INPUT', `could not learn the home folder of ${client.target.name}; give absolute paths`);
  return paths.map((p) => (p === '~' ? home : p.startsWith('~/') ? posix.join(home, p.slice(2)) : p));
}

/** decodeText decodes UTF-8, replacing invalid sequences (the file is indexed; its bad bytes read as U+FFFD). */
const decoder = new TextDecoder('utf-8', { fatal: false });

/** countLines counts the lines of a text (a last line without a newline counts). */
function countLines(s: string): number {
  if (!s) return 0;
  let n = 0;
  for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) n++;
  return s.endsWith('\n') ? n : n + 1;
}

/**
 * indexNode walks one node's roots through vssh: a listing (size, mtime) per root, compared with the
 * shard's manifest, so only new and changed files are read (batched through one exec per batch, or vssh get
 * where the node's policy refuses exec), and files gone from the listing are dropped. A failure mid-way
 * keeps what the shard had (deletions wait for a whole listing and read), and marks the node stale.
 */
export async function indexNode(target: IndexTarget, opts: IndexOptions): Promise<NodeIndexResult> {
  const t0 = performance.now();
  const res: NodeIndexResult = { node: target.node, ok: false, stale: false, roots: [], listed: 0, added: 0, changed: 0, unchanged: 0, deleted: 0, skipped: {}, bytesRead: 0, ms: 0 };
  const progress: IndexProgress = { node: target.node, phase: 'listing', listed: 0, toRead: 0, read: 0, bytes: 0 };
  const report = (): void => opts.onProgress?.({ ...progress });
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const shard = Shard.open(opts.shards, target.node, { create: true });
  try {
    const client = await opts.pool.client(target.node);
    const roots = await expandHome(client, target.paths.length ? target.paths : shard.roots().map((r) => r.root));
    if (roots.length === 0) throw new MeshdbError('MESHDB_BAD_INPUT', `no paths to index on ${target.node}: give one (meshdb index ${target.node} /srv/app)`);
    for (const r of roots) if (!r.startsWith('/')) throw new MeshdbError('MESHDB_BAD_INPUT', `"${r}" is not an absolute path (or ~/...)`);
    report();
    // a run killed mid-way leaves what it committed searchable, its roots known to `reindex`, and this mark
    shard.setMeta('running', JSON.stringify({ pid: process.pid, since: Date.now() }));
    let useExec = true;
    for (const raw of roots) {
      checkAborted(opts.signal);
      const root = raw.length > 1 ? raw.replace(/\/+$/, '') : raw;
      res.roots.push(root);
      shard.setRoot(root, null, { includeNodeModules: !!opts.includeNodeModules, maxBytes });
      const { entries } = await client.list(root, { recursive: true });
      const files = entries.filter((e) => e.type === 'file');
      const single = entries.length === 1 && entries[0]!.path === root;
      const absOf = (e: FileInfo): string => (single ? root : posix.join(root, e.path));
      res.listed += files.length;
      progress.listed = res.listed;
      const manifest = shard.manifest(root);
      const rootOpts = { includeNodeModules: !!opts.includeNodeModules, maxBytes };
      // .gitignore files first: they decide what else is read
      const ignores = new GitIgnores();
      const gitignores = files.filter((e) => posix.basename(e.path) === '.gitignore' && !skipByPath(e.path, absOf(e), rootOpts));
      if (gitignores.length) {
        for (const f of await fetchMany(client, gitignores.map(absOf), { maxBytes, signal: opts.signal, useExec, batchFiles: opts.batchFiles })) {
          if (f.status === 'ok') ignores.add(posix.dirname(posix.relative(root, f.path)).replace(/^\.$/, ''), f.bytes.toString('utf8'));
        }
      }
      const seen = new Set<string>();
      const toRead: FileInfo[] = [];
      const skipNow = (abs: string, reason: SkipReason, e: { size: number; mtimeMs: number }): void => {
        res.skipped[reason] = (res.skipped[reason] ?? 0) + 1;
        const old = manifest.get(abs);
        if (old?.skipped === reason && old.size === e.size && old.mtime === e.mtimeMs) return;
        if (old && !old.skipped) void opts.onDelete?.(target.node, abs);
        shard.skip(abs, root, reason, e.size, e.mtimeMs);
      };
      shard.db.transaction(() => {
        for (const e of files) {
          const abs = absOf(e);
          seen.add(abs);
          const reason = skipByPath(e.path, abs, rootOpts) ?? (ignores.ignored(e.path) ? 'gitignore' : undefined) ?? (e.size > maxBytes ? 'too-large' : undefined);
          if (reason) {
            skipNow(abs, reason, e);
            continue;
          }
          const old = manifest.get(abs);
          if (old && old.size === e.size && old.mtime === e.mtimeMs) {
            if (old.skipped) res.skipped[old.skipped as SkipReason] = (res.skipped[old.skipped as SkipReason] ?? 0) + 1;
            else res.unchanged++;
            continue;
          }
          toRead.push(e);
        }
      })();
      progress.phase = 'reading';
      progress.toRead += toRead.length;
      report();
      // read in batches; each batch is stored in one transaction
      const byAbs = new Map(toRead.map((e) => [absOf(e), e]));
      const batches: string[][] = [];
      let cur: string[] = [];
      let curBytes = 0;
      for (const e of toRead) {
        cur.push(absOf(e));
        curBytes += e.size;
        if (cur.length >= (opts.batchFiles ?? 400) || curBytes >= BATCH_BYTES) {
          batches.push(cur);
          cur = [];
          curBytes = 0;
        }
      }
      if (cur.length) batches.push(cur);
      const storeSlice = (fetched: Fetched[], later: Array<[string, string]>): void => {
        shard.db.transaction(() => {
          for (const f of fetched) {
            const e = byAbs.get(f.path)!;
            const old = manifest.get(f.path);
            progress.read++;
            if (f.status !== 'ok') {
              if (f.status === 'vanished') {
                res.skipped.vanished = (res.skipped.vanished ?? 0) + 1;
                shard.drop(f.path); // gone: nothing kept, retried on the next run
                seen.delete(f.path);
              } else skipNow(f.path, f.status, e);
              continue;
            }
            res.bytesRead += f.bytes.length;
            progress.bytes += f.bytes.length;
            const sha256 = createHash('sha256').update(f.bytes).digest('hex');
            // changed while we read it: store what we read, with an mtime that makes the next run read it again
            const mtime = f.bytes.length === e.size ? e.mtimeMs : -1;
            if (old && !old.skipped && old.sha256 === sha256) {
              shard.touch(f.path, e.size, mtime);
              res.unchanged++;
              continue;
            }
            const body = decoder.decode(f.bytes);
            if (findSecret(body)) {
              skipNow(f.path, 'secret-content', e);
              continue;
            }
            const name = posix.basename(f.path);
            const dot = name.lastIndexOf('.');
            shard.put({ root, path: f.path, name, ext: dot > 0 ? name.slice(dot + 1).toLowerCase() : '', size: e.size, mtime, sha256, lines: countLines(body), body });
            if (old && !old.skipped) res.changed++;
            else res.added++;
            if (opts.onDocument) later.push([f.path, body]);
          }
        })();
      };
      // a batch is stored in slices of about STORE_BYTES, one transaction each, yielding between them so the
      // next batch's bytes keep streaming in (SQLite is synchronous); a kill between slices loses nothing committed
      const store = async (fetched: Fetched[]): Promise<void> => {
        const later: Array<[string, string]> = [];
        for (let i = 0; i < fetched.length; ) {
          let j = i;
          for (let bytes = 0; j < fetched.length && bytes < STORE_BYTES; j++) bytes += fetched[j]!.bytes?.length ?? 0;
          storeSlice(fetched.slice(i, j), later);
          i = j;
          if (i < fetched.length) await new Promise((r) => setImmediate(r));
        }
        for (const [p, b] of later) await opts.onDocument!(target.node, p, b);
        report();
      };
      const fetchBatch = async (batch: string[]): Promise<Fetched[]> => {
        checkAborted(opts.signal);
        if (useExec) {
          try {
            return await readBatch(client, batch, { maxBytes, signal: opts.signal });
          } catch (err) {
            if (NETWORK.has((err as { code?: string }).code ?? '') || opts.signal?.aborted) throw err;
            useExec = false; // policy refuses exec, or no node binary there: fall back to vssh get
          }
        }
        return fetchMany(client, batch, { maxBytes, signal: opts.signal, useExec, batchFiles: opts.batchFiles });
      };
      // pipelined: the node reads and sends batch k+1 while batch k is stored here
      let next = batches.length ? fetchBatch(batches[0]!) : undefined;
      for (let k = 0; next; k++) {
        const fetched = await next;
        next = k + 1 < batches.length ? fetchBatch(batches[k + 1]!) : undefined;
        next?.catch(() => undefined); // awaited on the next turn; a failure then is the one reported
        await store(fetched);
      }
      // the listing and the reads are whole: drop what is gone
      shard.db.transaction(() => {
        for (const path of manifest.keys()) {
          if (seen.has(path)) continue;
          shard.drop(path);
          if (!manifest.get(path)!.skipped) {
            res.deleted++;
            void opts.onDelete?.(target.node, path);
          }
        }
        shard.setRoot(root, Date.now(), { includeNodeModules: !!opts.includeNodeModules, maxBytes });
      })();
    }
    shard.setMeta('last_index', String(Date.now()));
    shard.setMeta('stale', undefined);
    shard.setMeta('error', undefined);
    res.ok = true;
    progress.phase = 'done';
  } catch (err) {
    const code = (err as { code?: string }).code ?? 'MESHDB_INTERNAL';
    const message = (err as Error).message;
    if (err instanceof MeshdbError && (code === 'MESHDB_BAD_INPUT' || code === 'MESHDB_CORRUPT' || code === 'MESHDB_ABORTED')) {
      res.error = { code, message };
    } else {
      res.stale = true;
      res.error = { code, message };
      // the roots asked for are remembered, so `meshdb reindex` finds them when the node is back
      for (const r of target.paths) if (r.startsWith('/')) shard.setRoot(r.length > 1 ? r.replace(/\/+$/, '') : r, null, { includeNodeModules: !!opts.includeNodeModules, maxBytes });
      shard.setMeta('stale', String(Date.now()));
      shard.setMeta('error', JSON.stringify(res.error));
    }
    progress.phase = 'failed';
  } finally {
    if (shard.db.open) shard.setMeta('running', undefined);
    shard.close();
    res.ms = Math.round(performance.now() - t0);
    report();
  }
  return res;
}

async function fetchMany(client: VsshClient, paths: string[], o: { maxBytes: number; signal?: AbortSignal; useExec: boolean; batchFiles?: number }): Promise<Fetched[]> {
  if (o.useExec) {
    try {
      return await readBatch(client, paths, o);
    } catch (err) {
      if (NETWORK.has((err as { code?: string }).code ?? '')) throw err;
    }
  }
  const out: Fetched[] = new Array(paths.length);
  let i = 0;
  await Promise.all(Array.from({ length: Math.min(16, paths.length) }, async () => {
    while (i < paths.length) {
      const k = i++;
      checkAborted(o.signal);
      out[k] = await readOne(client, paths[k]!, o);
    }
  }));
  return out;
}

/** indexAll runs indexNode for each target, a few nodes at a time; one node's failure is its own. */
export async function indexAll(targets: IndexTarget[], opts: IndexOptions): Promise<NodeIndexResult[]> {
  const out: NodeIndexResult[] = new Array(targets.length);
  let i = 0;
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 4, targets.length) }, async () => {
    while (i < targets.length) {
      const k = i++;
      out[k] = await indexNode(targets[k]!, opts);
    }
  }));
  return out;
}
